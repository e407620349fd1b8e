// An offline audit must not pay for the webhook and cluster code it never runs: loading
// @kubernetes/client-node alone takes about half a second, the server (fastify, pino,
// prom-client) a few hundred milliseconds more. docs/performance.md, "3. Offline audit".
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { DEFAULT_HOST, DEFAULT_PORT, DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../../src/server/defaults.js';
import { runCli } from '../helpers/cli.js';

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
// CommonJS modules (yaml, node-forge, and what createRequire loads) do not pass the hook:
// the process lists the CommonJS cache as it exits.
const CJS = `process.on('exit', () => require('node:fs').appendFileSync(process.env.LOADLOG, Object.keys(require.cache).join('\\n') + '\\n'));
`;

const HEAVY = [/@kubernetes\/client-node/, /\/fastify\//, /\/src\/server\/run\.js$/, /\/src\/cluster\/(api\/kubeconfig|start|api\/client)\.js$/];
// Not needed either to audit well-formed manifests with the built-in config.
const AUDIT_ONLY_WHEN_NEEDED = [/node_modules\/zod\//, /node_modules\/yaml\//, /node_modules\/node-forge\//];

async function loadedBy(t: Test, args: string[], files: Record<string, string> = {}): Promise<{ code: number | null; urls: string[] }> {
  const dir = t.testdir({ 'hooks.mjs': HOOKS, 'register.mjs': REGISTER, 'cjs.cjs': CJS, ...files });
  const log = join(dir, 'loaded.log');
  const run = await runCli(args, {
    cwd: dir,
    env: { LOADLOG: log, NODE_OPTIONS: `--import ${pathToFileURL(join(dir, 'register.mjs')).href} --require ${join(dir, 'cjs.cjs')}` },
  });
  return { code: run.code, urls: readFileSync(log, 'utf8').trim().split('\n') };
}

const POD = 'apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  containers:\n    - { name: app, image: "example/app:1.0" }\n';

t.test('an offline audit loads neither @kubernetes/client-node nor the server', async (t) => {
  const { code, urls } = await loadedBy(t, ['audit', 'pod.yaml', '--format', 'json'], { 'pod.yaml': POD });
  t.equal(code, 1, 'the pod has findings: the audit really ran');
  t.ok(urls.some((u) => u.endsWith('/dist/src/audit/index.js')), 'the hook saw the audit code load');
  t.ok(urls.some((u) => u.includes('node_modules/commander/')), 'the CommonJS cache is listed');
  // yaml: held by the next test.
  for (const heavy of [...HEAVY, ...AUDIT_ONLY_WHEN_NEEDED.filter((m) => !m.test('node_modules/yaml/'))]) t.notOk(urls.find((u) => heavy.test(u)), `nothing matching ${heavy} is loaded`);
  for (const lazy of [/\/src\/audit\/formats\/(sarif|junit|github|html)\.js$/, /\/src\/fix\//, /node_modules\/diff\//]) t.notOk(urls.find((u) => lazy.test(u)), `nothing matching ${lazy} is loaded for the table or JSON`);
});

t.test("findings take their lines from the fast parse: a file with findings does not load the yaml library", async (t) => {
  const { code, urls } = await loadedBy(t, ['audit', 'pod.yaml', '--format', 'json'], { 'pod.yaml': POD });
  t.equal(code, 1, 'the pod has findings');
  t.notOk(urls.find((u) => /node_modules\/yaml\//.test(u)), 'yaml is not loaded');
});

t.test('an offline audit of a file without findings does not load the yaml library', async (t) => {
  const good = 'apiVersion: batch/v1\nkind: Job\nmetadata: { name: j }\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      securityContext: { runAsNonRoot: true }\n      containers:\n        - name: app\n          image: example/app:1.0\n          securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false }\n          resources: { requests: { cpu: 10m, memory: 64Mi }, limits: { memory: 64Mi } }\n';
  const { code, urls } = await loadedBy(t, ['audit', 'job.yaml', '--format', 'json'], { 'job.yaml': good });
  t.equal(code, 0, 'no finding');
  for (const heavy of AUDIT_ONLY_WHEN_NEEDED) t.notOk(urls.find((u) => heavy.test(u)), `nothing matching ${heavy} is loaded`);
});

t.test('what the offline audit leaves out still loads when it is needed', async (t) => {
  const files = { 'pod.yaml': `${POD}  labels: &l { a: b }\n`, 'config.yaml': 'mode: audit\n' };
  const { code, urls } = await loadedBy(t, ['audit', 'pod.yaml', '--config', 'config.yaml', '--format', 'json'], files);
  t.equal(code, 0, 'audit mode: findings, exit 0');
  for (const needed of AUDIT_ONLY_WHEN_NEEDED.slice(0, 2)) t.ok(urls.find((u) => needed.test(u)), `${needed} is loaded for the config and the anchor`);
});

t.test('serve --help lists every flag without loading the server or the cluster code', async (t) => {
  const { code, urls } = await loadedBy(t, ['serve', '--help']);
  t.equal(code, 0);
  for (const heavy of HEAVY) t.notOk(urls.find((u) => heavy.test(u)), `nothing matching ${heavy} is loaded`);
});

t.test('serve --help states the defaults the server applies', async (t) => {
  const { code, stdout } = await runCli(['serve', '--help']);
  t.equal(code, 0);
  const help = stdout.replace(/\s+/g, ' ');
  t.match(help, `--port <port> HTTPS port for /validate (default: ${DEFAULT_PORT})`);
  t.match(help, `(default ${DEFAULT_HOST}; 127.0.0.1 with --dev)`);
  t.match(help, `on SIGTERM (default: ${DEFAULT_SHUTDOWN_TIMEOUT_MS / 1000})`);
});
