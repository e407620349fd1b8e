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
 * held as Node holds them until a collection. The process runs V8 single-threaded: its helper
 * threads allocate from malloc arenas of their own, and with the chart's huge pages one of them
 * touching a fresh 2 MiB page in the middle of the reads added 2-6 MiB to their reading (1 run in
 * 5 here), which says nothing of the main arena the reads come from.
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
  return Number(await moduleOutput(code, env, ['--single-threaded']));
}

t.test(
  "with the chart's environment, the TLS reads of the first large body find memory the warm-up wrote",
  { skip: process.platform !== 'linux' && 'reads /proc/self/status' },
  async (t) => {
    const env = { ...process.env, ...chartEnv() };
    const fresh = await readsGrowMiB(env, false);
    // Less than the body on Node 20 single-threaded (8-11 MiB, 14-16 with V8's helpers): most likely
    // what its main thread freed doing their work stays in the arena and serves part of the reads.
    t.ok(fresh > 6, `without it, a body's reads take ${fresh.toFixed(1)} MiB of fresh pages`);
    const touched = await readsGrowMiB(env, true);
    t.ok(touched < 2, `after it, ${touched.toFixed(1)} MiB`);
  },
);
