import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnNode } from './node-child.js';

const BIN = fileURLToPath(new URL('../../bin/practice-gate.js', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/cli/practice-gate.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI's launcher, as npx runs it; spawning it costs no TypeScript compile in the child. */
export function builtCli(): string {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` first (npm test does)`);
  return BIN;
}

/**
 * Runs the built CLI as a user would, with stdout and stderr as pipes (not a TTY).
 * `npm test` builds first; run `npm run build` before `npx tap test/cli` by hand.
 */
export function runCli(args: string[], options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  const bin = builtCli();
  return new Promise((resolve, reject) => {
    const child = spawnNode([bin, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: undefined, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
