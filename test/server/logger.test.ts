import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { eventually } from '../helpers/server.js';

const CHILD = fileURLToPath(new URL('../fixtures/logger-child.ts', import.meta.url));
// The TypeScript loader the tests run under (.taprc), so the child runs the source as it is, on
// every Node line (Node 24 would strip the types itself but not map the imports' .js to .ts).
const LOADER = ['--import=tsx'];

function run(lines: number, then: 'exit' | 'stay') {
  const child = spawn(process.execPath, [...LOADER, CHILD, String(lines), then], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, stdout: () => stdout, exited };
}

t.test('a process that exits right after logging loses no line, and each line has the fields of a review line', async (t) => {
  const child = run(5000, 'exit');
  t.equal(await child.exited, 0);
  const lines = child
    .stdout()
    .split('\n')
    .filter((l) => l !== '');
  t.equal(lines.length, 5000, 'every line written before exit is on the pipe');
  const first = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
  t.match(first, {
    level: 'info',
    msg: 'admission review',
    uid: 'uid-0',
    kind: 'Deployment',
    decision: 'deny',
    policies: ['run-as-non-root'],
  });
  t.match(first.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'an ISO time, as pino writes it');
  t.same(Object.keys(first).slice(0, 2), ['level', 'time'], 'level and time lead the line');
  t.equal(JSON.parse(lines.at(-1) ?? '{}').uid, 'uid-4999', 'in order, up to the last one');
});

t.test('a single line leaves the buffer while the process keeps running, without an exit or a full buffer', async (t) => {
  const child = run(1, 'stay');
  t.teardown(() => child.child.kill('SIGKILL'));
  await eventually(() => child.stdout().includes('"uid":"uid-0"'), 60_000); // the child's start-up alone takes seconds under load
  t.pass('the periodic flush wrote it without a full buffer or an exit');
});
