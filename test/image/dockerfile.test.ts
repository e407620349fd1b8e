// No Docker engine runs here, so the image is checked the way a reviewer would read it:
// the linter's verdict, what the runtime stage runs and carries, and whether `npm run build`
// inside the build stage can see every file it compiles.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { relative, sep } from 'node:path';
import t from 'tap';
import { DockerfileParser, Env } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import type { Ignore } from '@balena/dockerignore';
import ts from 'typescript';
import { chartEnv, chartNodeFlags } from '../../bench/lib/chart-command.js';

// A CommonJS module whose types declare an ES default export: load it as what it is.
const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as (options?: { ignorecase?: boolean }) => Ignore;
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const dockerfileText = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
const dockerfile = DockerfileParser.parse(dockerfileText);
const ignore = dockerignore({ ignorecase: false }).add(readFileSync(new URL('../../.dockerignore', import.meta.url), 'utf8'));
const inContext = (path: string): boolean => !ignore.ignores(path);

/** The instructions of the last stage: what the image is made of. */
function runtimeStage() {
  const froms = dockerfile.getFROMs();
  const last = froms[froms.length - 1];
  if (!last) throw new Error('Dockerfile has no FROM');
  const start = last.getRange().start.line;
  return dockerfile.getInstructions().filter((i) => i.getRange().start.line >= start);
}
const args = (keyword: string) =>
  runtimeStage()
    .filter((i) => i.getKeyword() === keyword)
    .map((i) => i.getArgumentsContent() ?? '');

t.test('the linter finds nothing', async (t) => {
  const problems = validate(dockerfileText).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
  t.same(problems, []);
});

t.test('the base image is Node 24 (LTS) pinned to a version, the same in every stage', async (t) => {
  const arg = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfileText)?.[1] ?? '';
  t.match(arg, /^node:24\.\d+\.\d+-[a-z0-9-]+$/, 'an exact Node 24 release on a named base');
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's FROM names the build argument itself
  for (const from of dockerfile.getFROMs()) t.equal(from.getImageName(), '${NODE_IMAGE}', from.getTextContent());
});

t.test("engines admits the image's Node release, and .ci/run runs the unit suite on that release too", async (t) => {
  const version = /^ARG NODE_IMAGE=node:(\d+)\.(\d+)\.(\d+)-/m.exec(dockerfileText);
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
  const ranges = pkg.engines.node.split('||').map((r) => /^\^(\d+)\.(\d+)\.(\d+)$/.exec(r.trim()));
  const major = Number(version?.[1]);
  const minor = Number(version?.[2]);
  t.ok(
    ranges.some((r) => r !== null && Number(r[1]) === major && Number(r[2]) <= minor),
    `${pkg.engines.node} admits ${version?.[0]}`,
  );
  const ci = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8');
  t.match(ci, /image_node=\$\(sed -n 's\/\^ARG NODE_IMAGE=node:/, '.ci/run reads the release from the Dockerfile');
  t.match(ci, /PATH="\$image_node_bin:\$PATH" npx tap\n/, 'and runs the unit suite with it');
});

t.test('the runtime stage runs node directly as a numeric non-root user', async (t) => {
  const [user] = args('USER');
  const [uid, gid] = (user ?? '').split(':');
  t.match(uid, /^[1-9]\d*$/, 'numeric, non-zero uid: the kubelet can verify runAsNonRoot');
  t.match(gid, /^[1-9]\d*$/, 'numeric, non-zero gid');
  t.same(args('ENTRYPOINT'), ['[]'], 'no shell wrapper between the runtime and the process');
  const cmd = JSON.parse(args('CMD')[0] ?? 'null') as unknown;
  t.ok(Array.isArray(cmd), 'exec form, so SIGTERM reaches node');
  const flags = chartNodeFlags();
  t.same(
    flags,
    ['--enable-source-maps', '--max-semi-space-size=16', '--heap-growing-percent=200'],
    'source maps, and a heap sized for the pod',
  );
  t.same(
    (cmd as string[]).slice(0, flags.length + 3),
    ['node', ...flags, 'dist/cli/practice-gate.js', 'serve'],
    "the bundled CLI, with the chart's Node flags",
  );
});

t.test('the image sets the environment the chart sets: malloc is set up alike however the process is started', async (t) => {
  const set = Object.fromEntries(
    runtimeStage()
      .flatMap((i) => (i instanceof Env ? i.getProperties() : []))
      .map((p) => [p.getName(), p.getValue()]),
  );
  const chart = chartEnv();
  t.same(
    chart,
    { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=33554432' },
    'the chart gives the webhook one fixed variable',
  );
  for (const [name, value] of Object.entries(chart)) t.equal(set[name], value, `ENV ${name}=${value}`);
});

t.test('the runtime stage carries only the bundle (dist/cli), the production node_modules and package.json', async (t) => {
  const copied = args('COPY').map((a) => a.replace(/--from=\S+\s+/, '').split(/\s+/)[0]);
  t.same(copied.sort(), ['/src/dist/cli', '/src/node_modules', 'package.json']);
  const deps = dockerfileText.match(/npm ci --omit=dev/g) ?? [];
  t.equal(deps.length, 1, 'node_modules of the runtime come from an install without dev dependencies');
});

t.test('npm run build in the build stage sees every file it compiles', async (t) => {
  const config = ts.getParsedCommandLineOfConfigFile(
    `${REPO}tsconfig.build.json`,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => t.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    },
  );
  if (!config) throw new Error('tsconfig.build.json does not parse');
  const program = ts.createProgram(config.fileNames, config.options);
  const compiled = program
    .getSourceFiles()
    .map((f) => relative(REPO, f.fileName).split(sep).join('/'))
    .filter((f) => !f.startsWith('node_modules/') && !f.startsWith('..'));
  t.ok(
    compiled.some((f) => f === 'src/cli/main.ts'),
    'the CLI is part of the build',
  );
  t.same(
    compiled.filter((f) => !inContext(f)),
    [],
    'files outside the Docker build context',
  );
  for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) t.ok(inContext(file), file);
  const build = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { build: string } }).scripts
    .build;
  const scripts = [...build.matchAll(/\bnode (\S+)/g)].map((m) => m[1] as string);
  t.ok(scripts.length > 0, 'the build bundles the CLI with a script of its own');
  for (const script of scripts) t.ok(inContext(script), `${script}, run by npm run build, is in the context`);
  for (const secret of [
    '.git/config',
    'node_modules/x/index.js',
    'dist/src/cli/main.js',
    'test/e2e/webhook.test.ts',
    '.env',
    'policies/run-as-non-root/policy.test.ts',
    'policies/run-as-non-root/examples/bad.yaml',
  ]) {
    t.notOk(inContext(secret), `${secret} stays out of the context`);
  }
});
