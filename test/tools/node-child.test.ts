// The CLI tests start node through spawnNode so that each start costs what a user's does: tap's
// process-info hook, which it adds to every node process a test spawns, made a CLI start cost
// four times the CPU (test/helpers/node-child.ts).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import t from 'tap';
import { spawnNode, withoutTapHook } from '../helpers/node-child.js';

const PRINT_OPTIONS = ['-e', 'process.stdout.write(JSON.stringify({ options: process.env.NODE_OPTIONS ?? "", argv: process.execArgv }))'];

function output(child: ChildProcess): Promise<{ options: string; argv: string[] }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.on('error', reject);
    child.on('close', () => resolve(JSON.parse(stdout) as { options: string; argv: string[] }));
  });
}

t.test('a node process the suite spawns directly is instrumented by tap: the cost spawnNode avoids', async (t) => {
  const { options } = await output(spawn(process.execPath, PRINT_OPTIONS, { stdio: ['ignore', 'pipe', 'inherit'] }));
  t.match(options, /@tapjs\/processinfo/, 'tap added its hook to NODE_OPTIONS');
});

t.test('spawnNode starts node without tap’s hook and keeps the other NODE_OPTIONS', async (t) => {
  const { options, argv } = await output(
    spawnNode(PRINT_OPTIONS, { env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=200 --no-deprecation' } }),
  );
  t.notMatch(options, /@tapjs\/processinfo/, 'no tap hook in NODE_OPTIONS');
  t.equal(options, '--max-old-space-size=200 --no-deprecation', 'the caller’s options are kept');
  t.notMatch(argv.join(' '), /@tapjs/, 'nor on the command line');
});

t.test('withoutTapHook drops only tap’s import, with or without quotes', async (t) => {
  const hook = '--import=file:///repo/node_modules/@tapjs/processinfo/dist/esm/import.mjs';
  t.equal(withoutTapHook(`"${hook}"`), '');
  t.equal(withoutTapHook(`--enable-source-maps ${hook} --import "./my loader.mjs"`), '--enable-source-maps --import "./my loader.mjs"');
  t.equal(withoutTapHook(undefined), '');
  t.equal(withoutTapHook('--inspect'), '--inspect');
});
