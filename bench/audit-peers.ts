// Offline audit side by side: `practice-gate audit` vs `kube-score score` vs `polaris audit`
// (when ensure-peers.sh could build it) on one generated corpus of 2,000 manifests. Reports
// wall time (the median of repeated runs), CPU time (user + sys of the
// finished process), peak memory (/usr/bin/time -v) and where the tools' verdicts on the
// checks they share disagree, with an example of each. The tools take turns, run by run.
// Run: npm run bench:audit   (builds, then node dist/bench/audit-peers.js)
// BENCH_RUNS (default 5) sets the timed runs per tool; BENCH_KEEP=1 keeps the corpus.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpus, writeCorpus } from './corpus.js';
import { ensurePeers } from './lib/peers.js';
import { childCpuSeconds, machine } from './lib/proc.js';
import { fixed, int, ratio, table } from './lib/table.js';

const BIN = fileURLToPath(new URL('../../bin/practice-gate.js', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const COUNT = Number(process.env.BENCH_CORPUS ?? 2000);

const dir = mkdtempSync(join(tmpdir(), 'practice-gate-corpus-'));
const files = writeCorpus(dir, COUNT);
const peers = ensurePeers();

interface Tool {
  name: string;
  argv: string[];
}

const tools: Tool[] = [{ name: 'practice-gate audit', argv: [process.execPath, BIN, 'audit', dir, '--format', 'json'] }];
if (peers.kubeScore) tools.push({ name: 'kube-score score', argv: [peers.kubeScore, 'score', '-o', 'json', ...files] });
if (peers.polaris) {
  const argv = [peers.polaris, 'audit', '--audit-path', dir, '--format', 'json'];
  tools.push({ name: 'polaris audit', argv });
}

const hasTime = spawnSync('/usr/bin/time', ['-v', 'true']).status === 0;

interface Timing {
  median: number;
  min: number;
  max: number;
  /** Median user + sys CPU seconds of the tool's process (and its children) per run. */
  cpu: number;
}

/** One run: wall seconds and the CPU seconds the finished child used (from our cutime/cstime). */
function once(tool: Tool): { wall: number; cpu: number } {
  const cpu0 = childCpuSeconds();
  const t = process.hrtime.bigint();
  spawnSync(tool.argv[0]!, tool.argv.slice(1), { stdio: 'ignore', maxBuffer: 1 << 30 });
  return { wall: Number(process.hrtime.bigint() - t) / 1e9, cpu: childCpuSeconds() - cpu0 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * RUNS timed runs of every tool after one warm-up each, the tools taking turns run by run so
 * drift on a shared machine spreads over all of them; median wall and CPU seconds.
 */
function timings(list: Tool[]): Timing[] {
  for (const tool of list) once(tool);
  const runs = list.map(() => [] as Array<{ wall: number; cpu: number }>);
  for (let i = 0; i < RUNS; i++) {
    for (let k = 0; k < list.length; k++) {
      const j = (k + i) % list.length;
      runs[j]!.push(once(list[j]!));
    }
  }
  return runs.map((r) => {
    const walls = r.map((x) => x.wall);
    return { median: median(walls), min: Math.min(...walls), max: Math.max(...walls), cpu: median(r.map((x) => x.cpu)) };
  });
}

/** One more run under /usr/bin/time -v: its peak memory, and its JSON output for the verdicts. */
function inspect(tool: Tool): { peak: number | undefined; json: unknown } {
  const run = spawnSync(hasTime ? '/usr/bin/time' : tool.argv[0]!, hasTime ? ['-v', ...tool.argv] : tool.argv.slice(1), {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(run.stderr);
  return { peak: m?.[1] ? Number(m[1]) / 1024 : undefined, json: JSON.parse(run.stdout) as unknown };
}

// ---- speed and memory -----------------------------------------------------------------------

let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {
  // not in a checkout
}
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
console.log(`# Offline audit: ${files.length} manifests (${corpusSummary()})`);
console.log(`machine: ${machine()}; commit ${commit}; load average at the start ${load()}`);
console.log(
  `timing: 1 warm-up each, then ${RUNS} runs per tool, the tools taking turns; median wall and user+sys CPU seconds; memory: /usr/bin/time -v\n`,
);

function corpusSummary(): string {
  const kinds = new Map<string, number>();
  for (const f of files) {
    const k = /-(\w+)\.yaml$/.exec(f)?.[1] ?? '?';
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  const mib = Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]) / 2 ** 20;
  return `${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}; ${mib.toFixed(1)} MiB of YAML`;
}

const outputs = new Map(tools.map((t) => [t, inspect(t)]));
const speed = timings(tools).map((t, i) => ({ tool: tools[i]!, ...t, peak: outputs.get(tools[i]!)!.peak }));
const base = speed[0]!;
const rows = [
  [
    'tool',
    'median wall s',
    'min – max s',
    'CPU s (user+sys)',
    'manifests/s',
    'peak RSS MiB',
    'wall vs practice-gate',
    'CPU vs practice-gate',
    'memory vs practice-gate',
  ],
];
for (const s of speed) {
  rows.push([
    s.tool.name,
    fixed(s.median),
    `${fixed(s.min)} – ${fixed(s.max)}`,
    fixed(s.cpu),
    int(files.length / s.median),
    fixed(s.peak, 0),
    ratio(s.median, base.median),
    ratio(s.cpu, base.cpu),
    ratio(s.peak, base.peak),
  ]);
}
if (!peers.polaris) rows.push(['polaris audit', 'not built', '', '', '', '', '', '', '']);
console.log(table(rows));
console.log(`\nload average at the end of the timed runs ${load()}`);

// The fixed cost of one practice-gate process (Node start-up, module loading), for the breakdown.
const [startup] = timings([
  { name: 'practice-gate audit (1 manifest)', argv: [process.execPath, BIN, 'audit', files[0]!, '--format', 'json'] },
]);
console.log(
  `\npractice-gate audit of 1 manifest (start-up and module loading): median ${fixed(startup!.median)} s wall, ${fixed(startup!.cpu)} s CPU`,
);

// ---- verdicts on the shared checks ----------------------------------------------------------

interface GateReport {
  results: Array<{ source: string; kind: string; findings: Array<{ policy: string; exempt: boolean; message: string }> }>;
}
interface KsObject {
  file_name: string;
  type_meta: { kind: string };
  checks: Array<{ check: { id: string }; grade: number; skipped: boolean; comments: Array<{ summary: string; path: string }> | null }>;
}
type PolarisChecks = Record<string, { ID: string; Message: string; Success: boolean }> | null;
interface PolarisReport {
  Results: Array<{
    Name: string;
    Kind: string;
    Results: PolarisChecks;
    PodResult: { Results: PolarisChecks; ContainerResults: Array<{ Name: string; Results: PolarisChecks }> | null } | null;
  }>;
}

/** Per file: which shared checks fail, and why (messages). */
type Verdicts = Map<string, Map<string, string[]>>;

function gateVerdicts(report: GateReport): Verdicts {
  const out: Verdicts = new Map();
  for (const r of report.results) {
    const m = new Map<string, string[]>();
    for (const f of r.findings) {
      if (f.exempt) continue;
      const key = f.policy === 'readiness-probe' || f.policy === 'liveness-probe' ? 'probes' : f.policy;
      m.set(key, [...(m.get(key) ?? []), f.message]);
    }
    out.set(basename(r.source), m);
  }
  return out;
}

// Each shared check: our policy, and which of each peer's failures count as the same verdict
// (check ids as a regular expression; for kube-score, optionally only some of its comments).
const SHARED: Array<{ ours: string; ks: string; only?: RegExp; polaris: string }> = [
  { ours: 'run-as-non-root', ks: 'container-security-context-user-group-id', polaris: 'runAsRootAllowed' },
  { ours: 'read-only-root-filesystem', ks: 'container-security-context-readonlyrootfilesystem', polaris: 'notReadOnlyRootFilesystem' },
  { ours: 'resource-requests', ks: 'container-resources', only: /request is not set/, polaris: 'cpuRequestsMissing|memoryRequestsMissing' },
  { ours: 'memory-limit', ks: 'container-resources', only: /Memory limit is not set/, polaris: 'memoryLimitsMissing' },
  { ours: 'probes', ks: 'pod-probes', polaris: 'readinessProbeMissing|livenessProbeMissing' },
  { ours: 'image-tag-pinned', ks: 'container-image-tag', polaris: 'tagNotSpecified' },
  { ours: 'no-privilege-escalation', ks: 'container-security-context-privileged', polaris: 'privilegeEscalationAllowed|runAsPrivileged' },
  {
    ours: 'pdb-coverage',
    ks: 'deployment-has-poddisruptionbudget|statefulset-has-poddisruptionbudget',
    polaris: 'missingPodDisruptionBudget',
  },
];

function ksVerdicts(objects: KsObject[]): Verdicts {
  const out: Verdicts = new Map();
  for (const o of objects) {
    const m = new Map<string, string[]>();
    for (const s of SHARED) {
      const ids = new RegExp(`^(${s.ks})$`);
      for (const c of o.checks) {
        if (!ids.test(c.check.id) || c.skipped || c.grade >= 10) continue;
        const summaries = (c.comments ?? []).map((x) => x.summary).filter((x) => !s.only || s.only.test(x));
        if (s.only && summaries.length === 0) continue;
        m.set(s.ours, [...(m.get(s.ours) ?? []), ...(summaries.length > 0 ? summaries : [`grade ${c.grade}`])]);
      }
    }
    out.set(basename(o.file_name), m);
  }
  return out;
}

/** Polaris names objects, not files: the corpus says which file holds which kind/name. */
function polarisVerdicts(report: PolarisReport): Verdicts {
  const fileOf = new Map(
    corpus(COUNT).map(({ file, object }) => [`${String(object.kind)}/${(object.metadata as { name: string }).name}`, file]),
  );
  const out: Verdicts = new Map();
  for (const r of report.Results) {
    const file = fileOf.get(`${r.Kind}/${r.Name}`);
    if (!file) continue;
    const levels: Array<[string, PolarisChecks]> = [
      ['', r.Results],
      ['pod: ', r.PodResult?.Results ?? null],
    ];
    for (const c of r.PodResult?.ContainerResults ?? []) levels.push([`container: `, c.Results]);
    const m = new Map<string, string[]>();
    for (const s of SHARED) {
      const ids = new RegExp(`^(${s.polaris})$`);
      for (const [where, checks] of levels) {
        for (const c of Object.values(checks ?? {})) {
          if (ids.test(c.ID) && !c.Success) m.set(s.ours, [...(m.get(s.ours) ?? []), `${where}${c.ID}: ${c.Message}`]);
        }
      }
    }
    out.set(file, m);
  }
  return out;
}

/** Agreement of one peer with practice-gate per shared check, and each class of disagreement. */
function compare(gate: Verdicts, peer: Verdicts, peerName: string): { cells: Map<string, string[]>; classes: string[]; judged: number } {
  // Only workloads both judge: the peers score PDBs and Services too, practice-gate's pdb policies judge those.
  const judged = [...gate.keys()].filter((f) => peer.has(f) && /-(deployment|pod|statefulset)\.yaml$/.test(f));
  const cells = new Map<string, string[]>();
  const classes: string[] = [];
  for (const s of SHARED) {
    let agree = 0;
    const oursOnly = new Map<string, string[]>();
    const theirsOnly = new Map<string, string[]>();
    for (const f of judged) {
      const a = gate.get(f)!.get(s.ours);
      const b = peer.get(f)!.get(s.ours);
      if (!!a === !!b) agree++;
      else {
        // A disagreement class: the kind, and the distinct reasons the failing side gave.
        const kind = /-(\w+)\.yaml$/.exec(f)?.[1] ?? '?';
        const why = `${kind}: ${[...new Set((a ?? b ?? []).map((m) => m.replace(/"[^"]*"/g, '"…"')))].sort().join('; ')}`;
        const into = a ? oursOnly : theirsOnly;
        into.set(why, [...(into.get(why) ?? []), f]);
      }
    }
    const count = (m: Map<string, string[]>) => [...m.values()].reduce((n, l) => n + l.length, 0);
    cells.set(s.ours, [int(agree), int(count(oursOnly)), int(count(theirsOnly))]);
    for (const [side, m] of [
      ['only practice-gate fails', oursOnly],
      [`only ${peerName} fails`, theirsOnly],
    ] as const) {
      for (const [why, fs] of [...m].sort((x, y) => y[1].length - x[1].length))
        classes.push(`- ${s.ours}, ${side} (${fs.length}, e.g. ${fs[0]}): ${why}`);
    }
  }
  return { cells, classes, judged: judged.length };
}

const jsonOf = (tool: Tool) => outputs.get(tool)!.json;
const gate = gateVerdicts(jsonOf(tools[0]!) as GateReport);
const comparisons: Array<{ name: string; result: ReturnType<typeof compare> }> = [];
const ksTool = tools.find((t) => t.name.startsWith('kube-score'));
const poTool = tools.find((t) => t.name.startsWith('polaris'));
if (ksTool) comparisons.push({ name: 'kube-score', result: compare(gate, ksVerdicts(jsonOf(ksTool) as KsObject[]), 'kube-score') });
if (poTool) comparisons.push({ name: 'Polaris', result: compare(gate, polarisVerdicts(jsonOf(poTool) as PolarisReport), 'Polaris') });
if (comparisons.length > 0) {
  const head = ['practice-gate policy', 'objects'];
  for (const c of comparisons) head.push(`${c.name} check`, `agree`, `only practice-gate fails`, `only ${c.name} fails`);
  const vrows = [head];
  for (const s of SHARED) {
    const row = [s.ours, int(comparisons[0]!.result.judged)];
    for (const c of comparisons) {
      const check =
        c.name === 'kube-score' ? `${s.ks.replace('|', ' / ')}${s.only ? ` (${s.only.source})` : ''}` : s.polaris.replace('|', ' / ');
      row.push(check, ...c.result.cells.get(s.ours)!);
    }
    vrows.push(row);
  }
  console.log(`\n## Verdicts on the shared checks (per object: does the check fail?)\n`);
  console.log(table(vrows));
  for (const c of comparisons)
    console.log(
      `\nDisagreement classes with ${c.name} (object kind: the reasons the failing side gave):\n${c.result.classes.join('\n') || '- none'}`,
    );
}

if (process.env.BENCH_KEEP) console.log(`\ncorpus kept in ${dir}`);
else rmSync(dir, { recursive: true, force: true });
