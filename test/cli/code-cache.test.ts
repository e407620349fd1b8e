// bin/code-cache.js: on Node 20, which has no module compile cache, the launcher loads the bundled
// CLI with V8's code cache kept in the user's cache directory (docs/performance.md, "Start-up").
// It must behave as require() does, reuse a cache V8 accepts, never run a stale or foreign one,
// and carry on silently wherever no cache can be kept. Driven on a small script rather than the
// bundle, so it runs the same on every Node line.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import t from 'tap';
import type { Test } from 'tap';

const CODE_CACHE = fileURLToPath(new URL('../../bin/code-cache.js', import.meta.url));

const SCRIPT = `'use strict';
const { greeting } = require('./sibling.js');
module.exports = { loaded: true };
process.stdout.write(greeting + ' from ' + require('node:path').basename(__filename) + ' in ' + require('node:path').basename(__dirname));
`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function fixture(t: Test): { dir: string; script: string; cache: string } {
  const dir = t.testdir({
    app: { 'package.json': '{ "type": "commonjs" }', 'cli.js': SCRIPT, 'sibling.js': "exports.greeting = 'hello';\n" },
    cache: {},
  });
  return { dir, script: join(dir, 'app', 'cli.js'), cache: join(dir, 'cache') };
}

function run(script: string, env: NodeJS.ProcessEnv): Run {
  const code = `const m = require(${JSON.stringify(CODE_CACHE)}).requireWithCodeCache(${JSON.stringify(script)}); process.stdout.write(' ' + JSON.stringify(m));`;
  const { NODE_COMPILE_CACHE: _, NODE_DISABLE_COMPILE_CACHE: __, ...rest } = process.env;
  // Through env(1), without NODE_OPTIONS: the test runner rewrites it for the node processes it
  // sees spawned, and its --enable-source-maps takes the plain require() path.
  const child = spawnSync('env', ['NODE_OPTIONS=', process.execPath, '-e', code], { env: { ...rest, ...env }, encoding: 'utf8' });
  if (child.error) throw child.error;
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

const EXPECTED = 'hello from cli.js in app {"loaded":true}';
const cacheFiles = (cache: string): string[] =>
  existsSync(join(cache, 'practice-gate')) ? readdirSync(join(cache, 'practice-gate')).filter((f) => f.endsWith('.v8cache')) : [];

t.test('the script runs as require() would run it, and its compiled code is kept for the next start', async (t) => {
  const { script, cache } = fixture(t);
  const first = run(script, { NODE_COMPILE_CACHE: cache });
  t.same(first, { status: 0, stdout: EXPECTED, stderr: '' }, 'exports, require beside the file, __filename and __dirname');
  const files = cacheFiles(cache);
  t.equal(files.length, 1, 'one code cache written, under NODE_COMPILE_CACHE');
  t.match(files[0], `${process.version}-${process.arch}-`, 'named by the Node release that wrote it');
  t.equal(statSync(join(cache, 'practice-gate')).mode & 0o777, 0o700, 'in a directory closed to other users');

  const written = statSync(join(cache, 'practice-gate', files[0] as string)).mtimeMs;
  const second = run(script, { NODE_COMPILE_CACHE: cache });
  t.same(second, first, 'the same result from the cache');
  t.equal(statSync(join(cache, 'practice-gate', files[0] as string)).mtimeMs, written, 'V8 accepted the cache: it is not written again');
});

t.test('a changed script never runs from the old cache', async (t) => {
  const { script, cache } = fixture(t);
  run(script, { NODE_COMPILE_CACHE: cache });
  // the same length, so only the file's identity tells the two apart
  writeFileSync(script, SCRIPT.replace("greeting + ' from '", "greeting + ' frOm '"));
  utimesSync(script, new Date(), new Date(Date.now() + 5000));
  t.same(run(script, { NODE_COMPILE_CACHE: cache }), { status: 0, stdout: EXPECTED.replace('from', 'frOm'), stderr: '' });
  const files = cacheFiles(cache);
  t.equal(files.length, 1, "the new build's cache replaces the old one");
  t.same(run(script, { NODE_COMPILE_CACHE: cache }), { status: 0, stdout: EXPECTED.replace('from', 'frOm'), stderr: '' }, 'and serves it');
  t.same(cacheFiles(cache), files, 'accepted, not written again');
});

t.test('a broken cache is refused by V8 and replaced', async (t) => {
  const { script, cache } = fixture(t);
  run(script, { NODE_COMPILE_CACHE: cache });
  const file = join(cache, 'practice-gate', cacheFiles(cache)[0] as string);
  writeFileSync(file, 'not a code cache');
  t.same(run(script, { NODE_COMPILE_CACHE: cache }), { status: 0, stdout: EXPECTED, stderr: '' });
  t.not(statSync(file).size, 'not a code cache'.length, 'written again from the compiled script');
});

t.test('no cache is read or written in a directory other users can write', async (t) => {
  const { script, cache } = fixture(t);
  run(script, { NODE_COMPILE_CACHE: cache });
  const file = join(cache, 'practice-gate', cacheFiles(cache)[0] as string);
  // what another user could have planted: V8 would run it as our code
  writeFileSync(file, 'planted');
  chmodSync(join(cache, 'practice-gate'), 0o777);
  t.same(run(script, { NODE_COMPILE_CACHE: cache }), { status: 0, stdout: EXPECTED, stderr: '' });
  t.equal(statSync(file).size, 'planted'.length, 'left alone: neither used nor replaced');
});

t.test('where no cache can be kept the script runs as usual, silently', async (t) => {
  const { dir, script, cache } = fixture(t);
  const notADirectory = join(dir, 'app', 'sibling.js', 'cache');
  t.same(
    run(script, { NODE_COMPILE_CACHE: notADirectory }),
    { status: 0, stdout: EXPECTED, stderr: '' },
    'a cache path that cannot be created',
  );
  t.same(run(script, { NODE_COMPILE_CACHE: cache, NODE_DISABLE_COMPILE_CACHE: '1' }), { status: 0, stdout: EXPECTED, stderr: '' });
  t.same(cacheFiles(cache), [], 'NODE_DISABLE_COMPILE_CACHE turns it off, as it does for Node 22+');
});

t.test('with --enable-source-maps, stack traces still map back to the sources', async (t) => {
  const dir = t.testdir({ 'package.json': '{ "type": "commonjs" }', cache: {} });
  const script = join(dir, 'boom.js');
  const ts = 'type Code = number;\nconst code: Code = 3;\nfunction boom(): void {\n  throw new Error("boom " + code);\n}\nboom();\n';
  writeFileSync(script, transformSync(ts, { loader: 'ts', format: 'cjs', sourcemap: 'inline', sourcefile: 'boom.ts' }).code);
  const code = `require(${JSON.stringify(CODE_CACHE)}).requireWithCodeCache(${JSON.stringify(script)})`;
  const child = spawnSync(process.execPath, ['--enable-source-maps', '-e', code], {
    env: { ...process.env, NODE_COMPILE_CACHE: join(dir, 'cache') },
    encoding: 'utf8',
  });
  t.match(child.stderr, /at boom \(.*boom\.ts:4:/, 'the line of the TypeScript source');
});
