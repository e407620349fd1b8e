// npm test runs the unit tests by suite (test/suites/suites.ts), not file by file: a test file
// that no suite imported would never run, and one imported twice would run twice. This holds the
// partition, and that tap runs exactly the suites.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { parse } from 'yaml';
import { E2E_ONLY, OTHER, ROOT, SUITE_NAMES, suiteFiles, unitTestFiles } from '../suites/suites.js';

t.test('every unit test file runs in exactly one suite', async (t) => {
  const all = unitTestFiles();
  const bySuite = SUITE_NAMES.flatMap((name) => suiteFiles(name, all));
  t.same([...bySuite].sort(), all, 'each file once, none left out');
  t.ok(all.includes('policies/run-as-non-root/policy.test.ts'), 'a policy test beside its policy is found');
  t.ok(all.includes('test/architecture/suites.test.ts'), 'this file too');
  t.notOk(
    all.some((f) => f.startsWith('test/e2e/') || f.startsWith('test/suites/')),
    'neither the e2e tests nor the suites themselves',
  );
  for (const name of SUITE_NAMES) t.ok(suiteFiles(name, all).length > 0, `suite ${name} runs something`);
});

t.test('a test file in a new folder runs in the catch-all suite; a split folder is dealt out whole', async (t) => {
  const files = ['test/cli/a.test.ts', 'test/cli/b.test.ts', 'test/cli/c.test.ts', 'test/newfolder/x.test.ts'];
  const others = SUITE_NAMES.filter((n) => n.startsWith(`${OTHER}-`)).flatMap((n) => suiteFiles(n, files));
  t.same(others, ['test/newfolder/x.test.ts']);
  const cli = SUITE_NAMES.filter((n) => n.startsWith('cli-')).flatMap((n) => suiteFiles(n, files));
  t.same(cli.sort(), files.slice(0, 3));
  t.throws(() => suiteFiles('nonexistent', files), /no suite nonexistent/);
  t.throws(() => suiteFiles('cli', files), /no suite cli/, 'a split suite is run by its parts');
  t.throws(() => suiteFiles('cli-0', files), /no suite cli-0/, 'parts count from 1');
  t.throws(() => suiteFiles('cli-4', files), /no suite cli-4/, 'and go no further than the split');
});

t.test('tap runs the suites: one file per suite in test/suites, and .taprc includes those only', async (t) => {
  const runners = readdirSync(join(ROOT, 'test/suites'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => f.replace(/\.test\.ts$/, ''));
  t.same(runners.sort(), [...SUITE_NAMES].sort());
  for (const name of SUITE_NAMES) {
    t.match(readFileSync(join(ROOT, `test/suites/${name}.test.ts`), 'utf8'), `runSuite('${name}')`, `${name}.test.ts runs ${name}`);
  }
  const taprc = parse(readFileSync(join(ROOT, '.taprc'), 'utf8')) as { include?: string[]; exclude?: string[] };
  t.same(taprc.include, ['test/suites/*.test.ts']);
});

t.test('what npm test leaves out, npm run test:e2e runs', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const e2e = pkg.scripts['test:e2e'] ?? '';
  for (const path of E2E_ONLY) {
    t.ok(existsSync(join(ROOT, path)), `${path} exists`);
    const folder = path.endsWith('.test.ts') ? path.slice(0, path.lastIndexOf('/')) : path;
    t.match(e2e, `${folder}/*.test.ts`, `test:e2e runs ${path}`);
  }
});

/** The repository files `file` imports by relative path (`./x.js` is the source `./x.ts`). */
function relativeImports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const dir = posix.dirname(file);
  return [...text.matchAll(/from '(\.{1,2}\/[^']+)'/g)].map((m) => posix.normalize(posix.join(dir, (m[1] ?? '').replace(/\.js$/, '.ts'))));
}

/** Helpers that run helm or the e2e tools: on a fresh machine they build them with Go first (~15 minutes). */
const NEEDS_TOOLS = (path: string): boolean => path === 'test/chart/helm.ts' || path.startsWith('test/e2e/');

t.test('npm test needs nothing but Node: no unit test file imports what runs helm or the e2e tools', async (t) => {
  const offenders = unitTestFiles().filter((f) => relativeImports(f).some(NEEDS_TOOLS));
  t.same(offenders, [], 'such a file belongs in E2E_ONLY (test/suites/suites.ts), run by npm run test:e2e');
  t.ok(relativeImports('test/chart/render.test.ts').some(NEEDS_TOOLS), 'the check finds a chart test that renders with helm');
});

t.test('no test file wraps the tests of the files after it in its suite', async (t) => {
  // A top-level beforeEach/afterEach/before/after hooks tap's root, which every later file of the suite shares.
  const rootHook = /^t\.(beforeEach|afterEach|before|after)\(/m;
  const offenders = unitTestFiles().filter((f) => rootHook.test(readFileSync(join(ROOT, f), 'utf8')));
  t.same(offenders, [], 'hooks go inside a t.test, or t.teardown for clean-up');
  t.ok(rootHook.test("t.test('x', async () => {});\nt.beforeEach(() => {});\n"), 'the check finds one');
});

const LATE = ['first', 'second'].map((f) => join(ROOT, `test/architecture/fixtures/late-import/${f}.test.ts`));

/** Runs `script` (an ES module, with the suite runner's path as SUITES) in a node of its own, outside this tap run. */
async function tapOutput(script: string): Promise<string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TAP') && k !== 'NODE_OPTIONS'));
  const code = `const SUITES = ${JSON.stringify(join(ROOT, 'test/suites/suites.ts'))};\n${script}`;
  // The source under the loader the suites run with (.taprc); the exit status is not the verdict (a lost test still exits 0).
  const run = await promisify(execFile)(process.execPath, ['--import=tsx', '--input-type=module', '-e', code], { env, cwd: ROOT }).catch(
    (e: { stdout?: string; stderr?: string }) => e,
  );
  return `${run.stdout ?? ''}${run.stderr ?? ''}`;
}

t.test('a suite runs the tests of a file whose import ends after the tests before it, whatever those hooked on tap’s root', async (t) => {
  const files = JSON.stringify(LATE);
  const suite = await tapOutput(`const { importTestFiles } = await import(SUITES);\nawait importTestFiles('late', ${files});`);
  t.match(suite, /^ok \d+ - the first file’s test/m);
  t.match(suite, /^ok \d+ - the second file’s test/m, 'the late file’s test ran');
  t.notMatch(suite, /cannot create subtest|not ok/);
  const oneByOne = await tapOutput(`for (const file of ${files}) await import(file);`);
  t.match(oneByOne, /cannot create subtest after parent test ends/, 'imported one by one, as the runner did, the late file loses its test');
  t.notMatch(oneByOne, /^ok \d+ - the second file’s test/m);
});
