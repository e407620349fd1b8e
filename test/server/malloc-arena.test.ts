import { fileURLToPath } from 'node:url';
import t from 'tap';
import { chartEnv } from '../../bench/lib/chart-command.js';
import { BODY_LIMIT } from '../../src/server/app.js';
import { moduleOutput } from '../helpers/node-child.js';

const ARENA = fileURLToPath(new URL('../../src/server/malloc-arena.ts', import.meta.url));
const PROC = fileURLToPath(new URL('../../bench/lib/proc.ts', import.meta.url));

/**
 * In a process with `env`, after touchMallocArena for a body of the limit (when `touched`): by how
 * many MiB its resident memory grows for the TLS reads of such a body, blocks of 16 KiB written and
 * held as Node holds them until a collection.
 */
async function readsGrowMiB(env: NodeJS.ProcessEnv, touched: boolean): Promise<number> {
  const code = `
    import { touchMallocArena } from ${JSON.stringify(ARENA)};
    import { rssMiB } from ${JSON.stringify(PROC)};
    const rss = () => rssMiB(process.pid);
    if (${touched}) {
      touchMallocArena(${BODY_LIMIT});
      // Node 20 has no ArrayBuffer#transfer: the block is freed by the next collection.
      if (!ArrayBuffer.prototype.transfer) gc();
    }
    const before = rss();
    const reads = [];
    for (let i = 0; i < ${BODY_LIMIT / 16_384}; i++) reads.push(Buffer.allocUnsafeSlow(16_384).fill(1));
    process.stdout.write(String(rss() - before));
  `;
  return Number(await moduleOutput(code, env));
}

t.test(
  "with the chart's environment, the TLS reads of the first large body find memory the warm-up wrote",
  { skip: process.platform !== 'linux' && 'reads /proc/self/status' },
  async (t) => {
    const env = { ...process.env, ...chartEnv() };
    const fresh = await readsGrowMiB(env, false);
    t.ok(fresh > 12, `without it, a body's reads take ${fresh.toFixed(1)} MiB of fresh pages`);
    const touched = await readsGrowMiB(env, true);
    t.ok(touched < 4, `after it, ${touched.toFixed(1)} MiB`);
  },
);
