import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { describeFileError } from '../../src/files/errors.js';

function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

t.test('real file-system errors read as words, without the errno code', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pg-errors-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.equal(describeFileError(thrownBy(() => readFileSync(join(dir, 'missing.yaml')))), 'no such file or directory');
  t.equal(describeFileError(thrownBy(() => readFileSync(dir))), 'is a directory, not a file');
  t.equal(describeFileError(thrownBy(() => readdirSync(join(dir, 'missing', 'deeper')))), 'no such file or directory');
});

t.test('anything else keeps its own message', async (t) => {
  t.equal(describeFileError(new Error('something odd')), 'something odd');
  t.equal(describeFileError(Object.assign(new Error('odd code'), { code: 'EWHATEVER' })), 'odd code');
  t.equal(describeFileError('a string'), 'a string');
});
