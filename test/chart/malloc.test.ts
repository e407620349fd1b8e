// The chart's GLIBC_TUNABLES (templates/deployment.yaml, the image's ENV) must reach glibc as
// meant: glibc ignores a tunable it does not know or a value it does not take, without a word,
// so a misspelt one would leave every large review's memory mapped fresh and handed back.
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { chartEnv } from '../../bench/lib/chart-command.js';
import { BODY_LIMIT } from '../../src/server/app.js';

/**
 * A body of the limit written through, freed (a full collection), and another allocated and
 * written: by how many MiB the resident memory fell when the first was freed, and grew for the second.
 */
const SCRIPT = `
const { readFileSync } = require('node:fs');
const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
const written = () => Buffer.allocUnsafeSlow(${BODY_LIMIT}).fill(1);
let body = written();
const held = rss();
// On a later turn: a frame still running could keep the body alive through gc().
setImmediate(() => {
  body = undefined;
  gc();
  setTimeout(() => {
    const freed = rss();
    const next = written();
    console.log(JSON.stringify({ fell: held - freed, grew: rss() - freed, length: next.length }));
  }, 200);
});
`;

function freedAndNext(env: NodeJS.ProcessEnv): { fell: number; grew: number } {
  const run = spawnSync(process.execPath, ['--expose-gc', '-e', SCRIPT], { env, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as { fell: number; grew: number };
}

t.test(
  "with the chart's environment, the memory of a body of the limit stays with the process for the next body",
  { skip: process.platform !== 'linux' && 'reads /proc/self/status' },
  async (t) => {
    const { GLIBC_TUNABLES: _, ...withoutTunables } = process.env;
    const defaults = freedAndNext(withoutTunables);
    t.ok(defaults.fell > 12, `glibc's defaults hand a freed 16 MiB body back (${defaults.fell.toFixed(1)} MiB)`);
    t.ok(defaults.grew > 12, `... and the next one is written into fresh pages (${defaults.grew.toFixed(1)} MiB)`);

    const chart = freedAndNext({ ...withoutTunables, ...chartEnv() });
    t.ok(chart.fell < 4, `the chart's variable keeps it when it is freed (fell ${chart.fell.toFixed(1)} MiB)`);
    t.ok(chart.grew < 4, `... and the next body is written into it (grew ${chart.grew.toFixed(1)} MiB)`);
  },
);
