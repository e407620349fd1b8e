// The chart's GLIBC_TUNABLES (templates/deployment.yaml, the image's ENV) must reach glibc as
// meant: glibc ignores a tunable it does not know or a value it does not take, without a word,
// so a misspelt one would leave every large review's memory mapped fresh and handed back.
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { chartEnv } from '../../bench/lib/chart-command.js';
import { BODY_LIMIT } from '../../src/server/app.js';
import { moduleOutput } from '../helpers/node-child.js';

const PROC = fileURLToPath(new URL('../../bench/lib/proc.ts', import.meta.url));

/**
 * A body of the limit written through, freed (a full collection), and another allocated and
 * written: by how many MiB the resident memory fell when the first was freed, and grew for the second.
 */
const SCRIPT = `
import { rssMiB } from ${JSON.stringify(PROC)};
const rss = () => rssMiB(process.pid);
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

async function freedAndNext(env: NodeJS.ProcessEnv): Promise<{ fell: number; grew: number }> {
  return JSON.parse(await moduleOutput(SCRIPT, env)) as { fell: number; grew: number };
}

t.test(
  "with the chart's environment, the memory of a body of the limit stays with the process for the next body",
  { skip: process.platform !== 'linux' && 'reads /proc/self/status' },
  async (t) => {
    const { GLIBC_TUNABLES: _, ...withoutTunables } = process.env;
    const defaults = await freedAndNext(withoutTunables);
    t.ok(defaults.fell > 12, `glibc's defaults hand a freed 16 MiB body back (${defaults.fell.toFixed(1)} MiB)`);
    t.ok(defaults.grew > 12, `... and the next one is written into fresh pages (${defaults.grew.toFixed(1)} MiB)`);

    const chart = await freedAndNext({ ...withoutTunables, ...chartEnv() });
    t.ok(chart.fell < 4, `the chart's variable keeps it when it is freed (fell ${chart.fell.toFixed(1)} MiB)`);
    t.ok(chart.grew < 4, `... and the next body is written into it (grew ${chart.grew.toFixed(1)} MiB)`);
  },
);
