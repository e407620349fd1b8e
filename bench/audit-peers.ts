// Offline audit side by side: `practice-gate audit` vs `kube-score score` vs `polaris audit`
// (when ensure-peers.sh could build it) on one generated corpus of 2,000 manifests. Reports
// wall time (hyperfine, else repeated runs and the median), peak memory (/usr/bin/time -v)
// and where the tools' verdicts on the checks they share disagree, with an example of each.
// Run: npm run bench:audit   (builds, then node dist/bench/audit-peers.js)
// BENCH_RUNS (default 5) sets the timed runs per tool; BENCH_KEEP=1 keeps the corpus.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCorpus } from './corpus.js';
import { ensurePeers } from './lib/peers.js';
import { machine } from './lib/proc.js';
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
  /** The same run with JSON output, for the verdicts. */
  json: string[];
}

const tools: Tool[] = [
  { name: 'practice-gate audit', argv: [process.execPath, BIN, 'audit', dir, '--format', 'json'], json: [process.execPath, BIN, 'audit', dir, '--format', 'json'] },
];
if (peers.kubeScore) tools.push({ name: 'kube-score score', argv: [peers.kubeScore, 'score', '-o', 'json', ...files], json: [peers.kubeScore, 'score', '-o', 'json', ...files] });
if (peers.polaris) {
  const argv = [peers.polaris, 'audit', '--audit-path', dir, '--format', 'json'];
  tools.push({ name: 'polaris audit', argv, json: argv });
}

const hasHyperfine = spawnSync('hyperfine', ['--version']).status === 0;
const hasTime = spawnSync('/usr/bin/time', ['-v', 'true']).status === 0;

function shellQuote(args: string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' ');
}

/** Median and spread of wall seconds over RUNS runs after one warm-up. */
function wallTimes(tool: Tool): { median: number; min: number; max: number } {
  if (hasHyperfine) {
    const out = join(dir, '..', `${basename(dir)}-hyperfine.json`);
    // kube-score takes 2,000 file arguments: hyperfine gets them through a shell glob.
    const command = tool.name.startsWith('kube-score') ? `${shellQuote(tool.argv.slice(0, 4))} ${dir}/*.yaml` : shellQuote(tool.argv);
    execFileSync('hyperfine', ['--warmup', '1', '--runs', String(RUNS), '--ignore-failure', '--style', 'none', '--export-json', out, command], { stdio: ['ignore', 'ignore', 'inherit'] });
    const r = (JSON.parse(readFileSync(out, 'utf8')) as { results: Array<{ median: number; min: number; max: number }> }).results[0]!;
    rmSync(out, { force: true });
    return r;
  }
  const times: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const t = process.hrtime.bigint();
    spawnSync(tool.argv[0]!, tool.argv.slice(1), { stdio: 'ignore', maxBuffer: 1 << 30 });
    if (i > 0) times.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, min: times[0]!, max: times[times.length - 1]! };
}

function peakMiB(tool: Tool): number | undefined {
  if (!hasTime) return undefined;
  const run = spawnSync('/usr/bin/time', ['-v', ...tool.argv], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(run.stderr);
  return m?.[1] ? Number(m[1]) / 1024 : undefined;
}

function jsonOf(tool: Tool): unknown {
  const run = spawnSync(tool.json[0]!, tool.json.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30 });
  return JSON.parse(run.stdout) as unknown;
}

// ---- speed and memory -----------------------------------------------------------------------

console.log(`# Offline audit: ${files.length} manifests (${corpusSummary()})`);
console.log(`machine: ${machine()}`);
console.log(`timing: ${hasHyperfine ? `hyperfine, 1 warm-up + ${RUNS} runs, median` : `${RUNS} runs after a warm-up, median`}; memory: /usr/bin/time -v\n`);

function corpusSummary(): string {
  const kinds = new Map<string, number>();
  for (const f of files) {
    const k = /-(\w+)\.yaml$/.exec(f)?.[1] ?? '?';
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  const mib = Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]) / 2 ** 20;
  return `${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}; ${mib.toFixed(1)} MiB of YAML`;
}

const speed: Array<{ tool: Tool; median: number; min: number; max: number; peak: number | undefined }> = [];
for (const tool of tools) speed.push({ tool, ...wallTimes(tool), peak: peakMiB(tool) });
const base = speed[0]!;
const rows = [['tool', 'median wall s', 'min – max s', 'manifests/s', 'peak RSS MiB', 'time vs practice-gate', 'memory vs practice-gate']];
for (const s of speed) {
  rows.push([s.tool.name, fixed(s.median), `${fixed(s.min)} – ${fixed(s.max)}`, int(files.length / s.median), fixed(s.peak, 0), ratio(s.median, base.median), ratio(s.peak, base.peak)]);
}
if (!peers.polaris) rows.push(['polaris audit', 'not built', '', '', '', '', '']);
console.log(table(rows));

// The fixed cost of one practice-gate process (Node start-up, module loading), for the breakdown.
const startup = wallTimes({ name: 'practice-gate audit (1 manifest)', argv: [process.execPath, BIN, 'audit', files[0]!, '--format', 'json'], json: [] });
console.log(`\npractice-gate audit of 1 manifest (start-up and module loading): median ${fixed(startup.median)} s`);

// ---- verdicts on the shared checks ----------------------------------------------------------

interface GateReport {
  results: Array<{ source: string; kind: string; findings: Array<{ policy: string; exempt: boolean; message: string }> }>;
}
interface KsObject {
  file_name: string;
  type_meta: { kind: string };
  checks: Array<{ check: { id: string }; grade: number; skipped: boolean; comments: Array<{ summary: string; path: string }> | null }>;
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

// Each shared check: our policy, and which kube-score failures count as the same verdict.
const SHARED: Array<{ ours: string; ks: string; only?: RegExp; kinds?: RegExp }> = [
  { ours: 'run-as-non-root', ks: 'container-security-context-user-group-id' },
  { ours: 'read-only-root-filesystem', ks: 'container-security-context-readonlyrootfilesystem' },
  { ours: 'resource-requests', ks: 'container-resources', only: /request is not set/ },
  { ours: 'memory-limit', ks: 'container-resources', only: /Memory limit is not set/ },
  { ours: 'probes', ks: 'pod-probes' },
  { ours: 'image-tag-pinned', ks: 'container-image-tag' },
  { ours: 'no-privilege-escalation', ks: 'container-security-context-privileged' },
  { ours: 'pdb-coverage', ks: 'deployment-has-poddisruptionbudget|statefulset-has-poddisruptionbudget' },
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

if (peers.kubeScore) {
  const gate = gateVerdicts(jsonOf(tools[0]!) as GateReport);
  const ks = ksVerdicts(jsonOf(tools[1]!) as KsObject[]);
  // Only objects both judge: kube-score scores PDBs too, practice-gate's pdb policies judge those.
  const judged = [...gate.keys()].filter((f) => ks.has(f) && /-(deployment|pod|statefulset)\.yaml$/.test(f));
  const vrows = [['shared check (practice-gate ↔ kube-score)', 'objects', 'agree', 'only practice-gate fails', 'only kube-score fails']];
  const classes: string[] = [];
  for (const s of SHARED) {
    let agree = 0;
    const oursOnly = new Map<string, string[]>();
    const theirsOnly = new Map<string, string[]>();
    for (const f of judged) {
      const a = gate.get(f)!.get(s.ours);
      const b = ks.get(f)!.get(s.ours);
      if (!!a === !!b) agree++;
      else {
        // A disagreement class: the kind, and the distinct reasons each side gave.
        const kind = /-(\w+)\.yaml$/.exec(f)?.[1] ?? '?';
        const why = `${kind}: ${[...new Set((a ?? b ?? []).map((m) => m.replace(/"[^"]*"/g, '"…"')))].sort().join('; ')}`;
        const into = a ? oursOnly : theirsOnly;
        into.set(why, [...(into.get(why) ?? []), f]);
      }
    }
    const count = (m: Map<string, string[]>) => [...m.values()].reduce((n, l) => n + l.length, 0);
    vrows.push([`${s.ours} ↔ ${s.ks.replace('|', ' / ')}${s.only ? ` (${s.only.source})` : ''}`, int(judged.length), int(agree), int(count(oursOnly)), int(count(theirsOnly))]);
    for (const [side, m] of [['only practice-gate fails', oursOnly], ['only kube-score fails', theirsOnly]] as const) {
      for (const [why, fs] of [...m].sort((x, y) => y[1].length - x[1].length)) classes.push(`- ${s.ours}, ${side} (${fs.length}, e.g. ${fs[0]}): ${why}`);
    }
  }
  console.log(`\n## Verdicts on the shared checks (per object: does the check fail?)\n`);
  console.log(table(vrows));
  console.log(`\nDisagreement classes (object kind: the reasons the failing side gave):\n${classes.join('\n') || '- none'}`);
}

if (process.env.BENCH_KEEP) console.log(`\ncorpus kept in ${dir}`);
else rmSync(dir, { recursive: true, force: true });
