import { execFile, spawn } from 'node:child_process';
import type {
  ChildProcess,
  ChildProcessByStdio,
  ChildProcessWithoutNullStreams,
  SpawnOptions,
  SpawnOptionsWithStdioTuple,
  SpawnOptionsWithoutStdio,
  StdioNull,
  StdioPipe,
} from 'node:child_process';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';

// tap instruments every node process a test starts: its process-info hook rewrites the child's
// NODE_OPTIONS to load @tapjs/processinfo, which then records every module the child loads and
// turns source maps on. That costs the built CLI about 0.6 s of CPU per start (four times its
// own start-up) for coverage data this suite never collects (.taprc: disable-coverage).
// Through env(1), which tap does not instrument, the child gets the NODE_OPTIONS a user would
// have: those of the test's environment without tap's hook.
const TAP_HOOK = /@tapjs\/processinfo/;

/** NODE_OPTIONS without tap's process-info import; quoted options stay whole. */
export function withoutTapHook(nodeOptions: string | undefined): string {
  const options = (nodeOptions ?? '').match(/(?:"(?:[^"\\]|\\.)*"|'[^']*'|\S)+/g) ?? [];
  return options.filter((o) => !TAP_HOOK.test(o)).join(' ');
}

/** `node ...args` started as a user starts it, not under tap's instrumentation; stdio are pipes unless `options.stdio` says otherwise. */
export function spawnNode(args: string[], options?: SpawnOptionsWithoutStdio): ChildProcessWithoutNullStreams;
export function spawnNode(
  args: string[],
  options: SpawnOptionsWithStdioTuple<StdioNull, StdioPipe, StdioPipe>,
): ChildProcessByStdio<null, Readable, Readable>;
export function spawnNode(
  args: string[],
  options: SpawnOptionsWithStdioTuple<StdioNull, StdioNull, StdioPipe>,
): ChildProcessByStdio<null, null, Readable>;
export function spawnNode(args: string[], options: SpawnOptions = {}): ChildProcess {
  const nodeOptions = withoutTapHook((options.env ?? process.env).NODE_OPTIONS);
  return spawn('env', [`NODE_OPTIONS=${nodeOptions}`, process.execPath, ...args], options);
}

/**
 * An ES module's source run in a node of its own with `env` and `flags`, under the loader the tests
 * run with (tsx, so it imports the TypeScript sources) and with gc() exposed: what it wrote to stdout.
 */
export async function moduleOutput(code: string, env: NodeJS.ProcessEnv, flags: string[] = []): Promise<string> {
  const args = [...flags, '--import=tsx', '--expose-gc', '--input-type=module', '-e', code];
  const { stdout } = await promisify(execFile)(process.execPath, args, { env });
  return stdout;
}
