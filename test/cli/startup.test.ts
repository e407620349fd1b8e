// An offline audit must not pay for the webhook and cluster code it never runs: loading
// @kubernetes/client-node alone takes about half a second, the server (fastify, pino,
// prom-client) a few hundred milliseconds more. docs/performance.md, "3. Offline audit" and
// "Start-up". The CLI is one bundled file (scripts/bundle-cli.mjs): the server and cluster code
// is inside it, so what the audit must not run shows as the packages and Node modules it would load.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { DEFAULT_HOST, DEFAULT_PORT, DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../../src/server/defaults.js';
import { runCli } from '../helpers/cli.js';

const BIN = fileURLToPath(new URL('../../bin/practice-gate.js', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../../dist/cli/practice-gate.js', import.meta.url));
if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first (npm test does)`);

// A module loader hook that writes every URL the process loads to $LOADLOG.
const HOOKS = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.LOADLOG, url + '\\n');
  return next(url, context);
}
`;
const REGISTER = `import { register } from 'node:module';
register('./hooks.mjs', import.meta.url);
`;
// CommonJS modules (what the bundle requires: yaml, node-forge, fastify...) do not pass the hook:
// the process lists the CommonJS cache as it exits, and the Node modules it loaded (node:http...).
const CJS = `process.on('exit', () => {
  const natives = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => 'node:' + m.slice('NativeModule '.length));
  require('node:fs').appendFileSync(process.env.LOADLOG, [...Object.keys(require.cache), ...natives].join('\\n') + '\\n');
});
`;

// The server's and the cluster client's packages, and the Node modules only they use (node:net
// is not one: stdout to a pipe is a socket; child_process comes with commander's executable
// subcommands, which practice-gate has none of).
const HEAVY = [
  /node_modules\/@kubernetes\/client-node\//,
  /node_modules\/(fastify|pino|prom-client)\//,
  /^node:(http|https|tls|zlib|child_process)$/,
  /^node:internal\/deps\/undici/,
];
// Not needed either to audit well-formed manifests with the built-in config.
const AUDIT_ONLY_WHEN_NEEDED = [/node_modules\/zod\//, /node_modules\/yaml\//, /node_modules\/node-forge\//];

async function loadedBy(t: Test, args: string[], files: Record<string, string> = {}): Promise<{ code: number | null; urls: string[] }> {
  const dir = t.testdir({ 'hooks.mjs': HOOKS, 'register.mjs': REGISTER, 'cjs.cjs': CJS, ...files });
  const log = join(dir, 'loaded.log');
  // Through env(1): the test runner instruments the node processes it sees spawned (with modules
  // of its own, child_process among them) by rewriting NODE_OPTIONS; env sets ours last.
  const options = `--import ${pathToFileURL(join(dir, 'register.mjs')).href} --require ${join(dir, 'cjs.cjs')}`;
  const run = spawnSync('env', [`NODE_OPTIONS=${options}`, `LOADLOG=${log}`, process.execPath, BIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (run.error) throw run.error;
  return { code: run.status, urls: readFileSync(log, 'utf8').trim().split('\n') };
}

const POD = 'apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  containers:\n    - { name: app, image: "example/app:1.0" }\n';

t.test('an offline audit loads neither @kubernetes/client-node nor the server', async (t) => {
  const { code, urls } = await loadedBy(t, ['audit', 'pod.yaml', '--format', 'json'], { 'pod.yaml': POD });
  t.equal(code, 1, 'the pod has findings: the audit really ran');
  t.ok(
    urls.some((u) => u.endsWith('/dist/cli/practice-gate.js')),
    'the hook saw the bundle load',
  );
  t.ok(
    urls.some((u) => u === 'node:fs'),
    'the Node modules loaded are listed',
  );
  // yaml: held by the next test.
  for (const heavy of [...HEAVY, ...AUDIT_ONLY_WHEN_NEEDED.filter((m) => !m.test('node_modules/yaml/'))])
    t.notOk(
      urls.find((u) => heavy.test(u)),
      `nothing matching ${heavy} is loaded`,
    );
  t.notOk(
    urls.find((u) => /node_modules\/diff\//.test(u)),
    'nor the diff library, for the table or JSON',
  );
});

t.test('an offline audit loads the CLI as one file, and no package from node_modules', async (t) => {
  const { code, urls } = await loadedBy(t, ['audit', 'pod.yaml', '--format', 'json'], { 'pod.yaml': POD });
  t.equal(code, 1, 'the pod has findings');
  const files = urls
    .filter((u) => u.startsWith('file:') || u.startsWith('/'))
    .filter((u) => !/\/(hooks\.mjs|register\.mjs|cjs\.cjs)$/.test(u));
  t.same(
    [...new Set(files.map((u) => u.replace(/^.*\/(bin|dist)\//, '$1/')))],
    ['bin/practice-gate.js', 'bin/code-cache.js', 'dist/cli/practice-gate.js'],
    'the launcher, its code cache and the bundle',
  );
});

// Node modules a bare start does not load and an offline audit does not run. Importing node:util
// the way a bundler does (copying its properties) loads them on Node 24 (scripts/bundle-cli.mjs).
const UNUSED_NODE = [/^node:worker_threads$/, /^node:internal\/worker$/, /^node:internal\/util\/(parse_args\/|diff$)/];

t.test('an offline audit loads no Node module it does not run', async (t) => {
  // Without the loader hook of loadedBy: module.register() starts a worker thread of its own.
  const dir = t.testdir({ 'cjs.cjs': CJS, 'pod.yaml': POD });
  const log = join(dir, 'loaded.log');
  const run = spawnSync(
    'env',
    [`NODE_OPTIONS=--require ${join(dir, 'cjs.cjs')}`, `LOADLOG=${log}`, process.execPath, BIN, 'audit', 'pod.yaml'],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  t.equal(run.status, 1, 'the pod has findings: the audit really ran');
  const urls = readFileSync(log, 'utf8').trim().split('\n');
  t.ok(
    urls.some((u) => u === 'node:fs'),
    'the Node modules loaded are listed',
  );
  for (const unused of UNUSED_NODE)
    t.notOk(
      urls.find((u) => unused.test(u)),
      `nothing matching ${unused} is loaded`,
    );
});

t.test('the bundle is ASCII without comments, so a start reads it into a one-byte string', async (t) => {
  const bundle = readFileSync(BUNDLE);
  t.equal(
    bundle.findIndex((byte) => byte > 0x7f),
    -1,
    'no byte outside ASCII (one comment with typographic quotes doubled the string)',
  );
  t.notMatch(bundle.toString('latin1'), /^\s*\/\/ (?!# sourceMappingURL)/m, 'no line comment');
});

t.test('an audit exits once its work is done, without tearing the runtime down, with its report and status whole', async (t) => {
  const dir = t.testdir({ 'pod.yaml': POD });
  // --trace-exit reports an exit by process.exit(); an exit by an empty event loop goes unreported.
  const run = spawnSync('env', ['NODE_OPTIONS=--trace-exit', process.execPath, BIN, 'audit', 'pod.yaml', '--format', 'json'], {
    cwd: dir,
    encoding: 'utf8',
  });
  t.equal(run.status, 1, 'the pod has findings: exit status 1');
  t.match(run.stderr, /Exited the environment with code 1/, 'the process exits at once');
  t.ok((JSON.parse(run.stdout) as { summary: object }).summary, 'the JSON report is complete');
});

t.test('findings take their lines from the fast parse: a file with findings does not load the yaml library', async (t) => {
  const { code, urls } = await loadedBy(t, ['audit', 'pod.yaml', '--format', 'json'], { 'pod.yaml': POD });
  t.equal(code, 1, 'the pod has findings');
  t.notOk(
    urls.find((u) => /node_modules\/yaml\//.test(u)),
    'yaml is not loaded',
  );
});

t.test('an offline audit of a file without findings does not load the yaml library', async (t) => {
  const good =
    'apiVersion: batch/v1\nkind: Job\nmetadata: { name: j }\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      securityContext: { runAsNonRoot: true }\n      containers:\n        - name: app\n          image: example/app:1.0\n          securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false }\n          resources: { requests: { cpu: 10m, memory: 64Mi }, limits: { memory: 64Mi } }\n';
  const { code, urls } = await loadedBy(t, ['audit', 'job.yaml', '--format', 'json'], { 'job.yaml': good });
  t.equal(code, 0, 'no finding');
  for (const heavy of AUDIT_ONLY_WHEN_NEEDED)
    t.notOk(
      urls.find((u) => heavy.test(u)),
      `nothing matching ${heavy} is loaded`,
    );
});

t.test('what the offline audit leaves out still loads when it is needed', async (t) => {
  const files = { 'pod.yaml': `${POD}  labels: &l { a: b }\n`, 'config.yaml': 'mode: audit\n' };
  const { code, urls } = await loadedBy(t, ['audit', 'pod.yaml', '--config', 'config.yaml', '--format', 'json'], files);
  t.equal(code, 0, 'audit mode: findings, exit 0');
  for (const needed of AUDIT_ONLY_WHEN_NEEDED.slice(0, 2))
    t.ok(
      urls.find((u) => needed.test(u)),
      `${needed} is loaded for the config and the anchor`,
    );
});

t.test('serve --help lists every flag without loading the server or the cluster code', async (t) => {
  const { code, urls } = await loadedBy(t, ['serve', '--help']);
  t.equal(code, 0);
  for (const heavy of HEAVY)
    t.notOk(
      urls.find((u) => heavy.test(u)),
      `nothing matching ${heavy} is loaded`,
    );
});

t.test('serve --help states the defaults the server applies', async (t) => {
  const { code, stdout } = await runCli(['serve', '--help']);
  t.equal(code, 0);
  const help = stdout.replace(/\s+/g, ' ');
  t.match(help, `--port <port> HTTPS port for /validate (default: ${DEFAULT_PORT})`);
  t.match(help, `(default ${DEFAULT_HOST}; 127.0.0.1 with --dev)`);
  t.match(help, `on SIGTERM (default: ${DEFAULT_SHUTDOWN_TIMEOUT_MS / 1000})`);
});
