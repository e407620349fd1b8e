// Start-up: what CI pays most. `practice-gate audit` of one rendered chart (a 16 KB,
// 19-document deploy.yaml shaped like ingress-nginx's) against a bare `node -e 0` of the same
// Node line, on the machine's Node and on the release the image ships (Dockerfile, fetched
// from the npm registry by .ci/node-from-registry.sh), with kube-score on the same file
// beside them. Reports the median wall time and the CPU time (user + system) per run: on a
// shared machine CPU time moves less than wall time, so the ratios use it. A floor row times the
// least any such audit does (bench/startup-floor.cjs: read the file, parse it with js-yaml, bundled
// and loaded through the code cache as the CLI is), so that what practice-gate adds can be told
// from what parsing YAML costs.
// Run: npm run bench:startup   (builds, then node dist/bench/startup.js)
// BENCH_RUNS (default 30) sets the timed runs per command. The warm-ups also write the CLI's
// code cache (bin/code-cache.js), so the timed runs are the start a user has from the second run on.
import { execFileSync, spawnSync } from 'node:child_process';
import { buildSync } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePeers } from './lib/peers.js';
import { machine } from './lib/proc.js';
import { fixed, table } from './lib/table.js';

const ROOT = fileURLToPath(new URL(import.meta.url.includes('/dist/bench/') ? '../../' : '../', import.meta.url));
const BIN = join(ROOT, 'bin', 'practice-gate.js');
const INPUT = join(ROOT, 'bench', 'fixtures', 'ingress-nginx-deploy.yaml');
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const TARGET = 1.3;

interface Timing {
  wall: number;
  cpu: number;
}

if (spawnSync('hyperfine', ['--version']).status !== 0) {
  console.error('bench:startup needs hyperfine (apt-get install hyperfine)');
  process.exit(1);
}

/** Wall and user + system seconds of one run of each command (hyperfine -N, so no shell in between). */
function runOnce(commands: string[], dir: string, warmup: number): Array<{ wall: number; cpu: number }> {
  const out = join(dir, 'hyperfine.json');
  execFileSync(
    'hyperfine',
    ['-N', '--warmup', String(warmup), '--runs', '1', '--ignore-failure', '--style', 'none', '--export-json', out, ...commands],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const results = (JSON.parse(readFileSync(out, 'utf8')) as { results: Array<{ times: number[]; user: number; system: number }> }).results;
  return results.map((r) => ({ wall: r.times[0] as number, cpu: r.user + r.system }));
}

/**
 * Median wall seconds and mean user + system seconds of each command, the commands taking turns
 * run by run: on a shared machine the load moves within seconds, and a command timed in one block
 * of runs after another's would carry a different load.
 */
function measure(commands: string[]): Timing[] {
  const dir = mkdtempSync(join(tmpdir(), 'practice-gate-startup-'));
  try {
    runOnce(commands, dir, 3);
    const runs = commands.map(() => ({ walls: [] as number[], cpus: [] as number[] }));
    for (let round = 0; round < RUNS; round++) {
      runOnce(commands, dir, 0).forEach((t, i) => {
        runs[i]?.walls.push(t.wall);
        runs[i]?.cpus.push(t.cpu);
      });
    }
    return runs.map(({ walls, cpus }) => ({
      wall: walls.sort((a, b) => a - b)[Math.floor(walls.length / 2)] ?? 0,
      cpu: cpus.reduce((a, b) => a + b, 0) / cpus.length,
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const imageVersion = /^ARG NODE_IMAGE=node:(\d+\.\d+\.\d+)-/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
const lines: Array<{ label: string; node: string }> = [{ label: `node ${process.version} (this machine)`, node: process.execPath }];
if (imageVersion && `v${imageVersion}` !== process.version) {
  const dir = execFileSync('bash', [join(ROOT, '.ci', 'node-from-registry.sh'), imageVersion], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  lines.push({ label: `node v${imageVersion} (the image's)`, node: join(dir, 'node') });
}
const peers = ensurePeers();

// BENCH_BEFORE=<another checkout's bin/practice-gate.js> times that build too, in the same rounds.
const bins = [{ label: 'practice-gate audit', bin: BIN }];
if (process.env.BENCH_BEFORE) bins.push({ label: 'practice-gate audit, BENCH_BEFORE', bin: process.env.BENCH_BEFORE });
// The floor: reading and parsing the chart with the CLI's YAML parser, bundled as the CLI is.
const floorDir = mkdtempSync(join(tmpdir(), 'practice-gate-floor-'));
const FLOOR = join(floorDir, 'floor.cjs');
const FLOOR_BUNDLE = join(floorDir, 'floor-bundle.cjs');
buildSync({
  entryPoints: [join(ROOT, 'bench', 'startup-floor.cjs')],
  bundle: true,
  platform: 'node',
  minify: true,
  outfile: FLOOR_BUNDLE,
  logLevel: 'warning',
});
// Loaded as bin/practice-gate.js loads the CLI: through its code cache.
writeFileSync(
  FLOOR,
  `require(${JSON.stringify(join(ROOT, 'bin', 'code-cache.js'))}).requireWithCodeCache(${JSON.stringify(FLOOR_BUNDLE)});\n`,
);
process.on('exit', () => rmSync(floorDir, { recursive: true, force: true }));
const commands: string[] = [];
for (const { node } of lines) {
  commands.push(`${node} -e 0`, ...bins.map(({ bin }) => `${node} ${bin} audit ${INPUT}`), `${node} ${FLOOR} ${INPUT}`);
}
if (peers.kubeScore) commands.push(`${peers.kubeScore} score ${INPUT}`);
const timings = measure(commands);
const perLine = 2 + bins.length;

console.log(`# Start-up: one-chart audit (${INPUT.slice(ROOT.length)}, ${readFileSync(INPUT).length} bytes)`);
console.log(`machine: ${machine()}`);
console.log(
  `timing: hyperfine -N, 3 warm-ups, then ${RUNS} rounds of one run per command in turn; wall = median, CPU = mean user + system\n`,
);
const rows = [['command', 'wall ms', 'CPU ms', `audit / bare node (CPU), target ≤ ${TARGET}`]];
lines.forEach((line, i) => {
  const bare = timings[perLine * i] as Timing;
  rows.push([`${line.label}: node -e 0`, fixed(bare.wall * 1000, 0), fixed(bare.cpu * 1000, 0), '']);
  const against = (label: string, t: Timing): void => {
    rows.push([
      `${line.label}: ${label}`,
      fixed(t.wall * 1000, 0),
      fixed(t.cpu * 1000, 0),
      `${fixed(t.cpu / bare.cpu, 2)}× (wall ${fixed(t.wall / bare.wall, 2)}×)`,
    ]);
  };
  for (const [b, { label }] of bins.entries()) against(label, timings[perLine * i + 1 + b] as Timing);
  against('floor (read + js-yaml parse, bundled, code cache)', timings[perLine * i + 1 + bins.length] as Timing);
});
const ks = timings[perLine * lines.length];
rows.push(['kube-score score', ks ? fixed(ks.wall * 1000, 0) : 'not built', ks ? fixed(ks.cpu * 1000, 0) : '', '']);
console.log(table(rows));
