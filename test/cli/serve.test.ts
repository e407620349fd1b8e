// `practice-gate serve` as a child process, the built CLI as npx runs it: the README's main command.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse, parseAllDocuments } from 'yaml';
import { builtCli } from '../helpers/cli.js';
import { spawnNode } from '../helpers/node-child.js';
import { admissionReview, eventually, httpsRequest, pod } from '../helpers/server.js';

interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function practiceGate(args: string[]): Running {
  const child = spawnNode([builtCli(), ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

interface WebhookConfig {
  metadata: { name: string };
  webhooks: Array<{
    name: string;
    clientConfig: { url: string; caBundle: string };
    rules: Array<{ apiGroups: string[]; resources: string[]; operations: string[] }>;
    sideEffects: string;
    admissionReviewVersions: string[];
    failurePolicy: string;
    timeoutSeconds: number;
    matchPolicy: string;
    namespaceSelector: unknown;
  }>;
}

t.test('serve --dev prints a webhook configuration, judges over HTTPS with that CA, exits 0 on SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pg-serve-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const saved = join(dir, 'webhook.yaml');
  const gate = practiceGate(['serve', '--dev', '--port', '0', '--dev-webhook-config', saved]);
  t.teardown(() => gate.child.kill('SIGKILL'));
  await eventually(() => gate.stderr().includes('"dev webhook configuration printed on stdout"'), 60_000);

  const config = parse(gate.stdout()) as WebhookConfig;
  t.equal(readFileSync(saved, 'utf8'), gate.stdout().replace(/^#.*\n/gm, ''), 'the file holds the same configuration');
  t.match(gate.stdout(), /^# practice-gate serve --dev: /, 'stdout starts with how to use it');
  t.equal(config.metadata.name, 'practice-gate-dev');
  const [hook] = config.webhooks;
  t.match(hook, {
    name: 'validate.practice-gate.io',
    clientConfig: { url: /^https:\/\/127\.0\.0\.1:\d+\/validate$/ },
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    failurePolicy: 'Ignore',
    timeoutSeconds: 5,
    matchPolicy: 'Equivalent',
    namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }] },
  });
  t.strictSame(
    hook?.rules.map((r) => [r.apiGroups, r.resources, r.operations]),
    [
      [[''], ['pods', 'podtemplates', 'replicationcontrollers'], ['CREATE', 'UPDATE']],
      [['apps'], ['daemonsets', 'deployments', 'replicasets', 'statefulsets'], ['CREATE', 'UPDATE']],
      [['autoscaling'], ['horizontalpodautoscalers'], ['CREATE', 'UPDATE']],
      [['batch'], ['cronjobs', 'jobs'], ['CREATE', 'UPDATE']],
      [['policy'], ['poddisruptionbudgets'], ['CREATE', 'UPDATE']],
    ],
  );

  const ca = Buffer.from(hook?.clientConfig.caBundle ?? '', 'base64').toString('utf8');
  t.match(ca, /^-----BEGIN CERTIFICATE-----/, 'the caBundle is the base64 of a PEM CA');
  const port = Number(new URL(hook?.clientConfig.url ?? '').port);
  const res = await httpsRequest(port, {
    body: JSON.stringify(admissionReview(pod('api', 'shop', [{ name: 'app' }]), { uid: 'cli' })),
    ca,
  });
  t.equal(res.status, 200);
  t.match(res.json().response, {
    uid: 'cli',
    allowed: false,
    status: { code: 403, message: /\[run-as-non-root\] container "app" may run as root/ },
  });
  await eventually(() => gate.stderr().includes('"msg":"admission review"'));
  t.pass('logs go to stderr with --dev');

  // Without a cluster connection nothing says whether a PDB covers a workload: the README's
  // compliant example is admitted without a word, and start-up said once what is not run.
  const good = parseAllDocuments(readFileSync(new URL('../../examples/good/api.yaml', import.meta.url), 'utf8')).map(
    (d) => d.toJS() as { kind: string },
  );
  const deployment = good.find((o) => o.kind === 'Deployment');
  const api = await httpsRequest(port, { body: JSON.stringify(admissionReview(deployment, { uid: 'good', namespace: 'shop' })), ca });
  t.strictSame(api.json().response, { uid: 'good', allowed: true }, 'examples/good/api.yaml: allowed, no warning, no finding');
  const notRun = gate
    .stderr()
    .split('\n')
    .filter((l) => l.includes('no cluster connection: not running pdb-coverage'));
  t.equal(notRun.length, 1, 'said once at start-up');
  t.notMatch(gate.stdout(), /"msg"/, 'and never to stdout');

  gate.child.kill('SIGTERM');
  t.strictSame(await gate.exited, { code: 0, signal: null });
  t.match(gate.stderr(), /"msg":"shut down"/);
});

t.test('usage errors exit 2 with a message that says what to do', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['serve'], /serve needs --tls-cert and --tls-key .* for a local try, use --dev/],
    [['serve', '--dev', '--tls-cert', 'a.crt'], /--dev generates its own certificates/],
    [
      ['serve', '--tls-cert', '/nonexistent/tls.crt', '--tls-key', '/nonexistent/tls.key'],
      /TLS certificate file \/nonexistent\/tls\.crt does not exist/,
    ],
    [
      ['serve', '--dev', '--config', '/nonexistent/config.yaml'],
      /cannot read config \/nonexistent\/config\.yaml: no such file or directory$/m,
    ],
    [['serve', '--dev', '--on-error', 'maybe'], /option '--on-error <mode>' argument 'maybe' is invalid/],
    [['serve', '--dev', '--port', '99999'], /must be a port number/],
  ];
  for (const [args, message] of cases) {
    const run = practiceGate(args);
    const { code } = await run.exited;
    t.equal(code, 2, args.join(' '));
    t.match(run.stderr(), message, args.join(' '));
    t.equal(run.stdout(), '', 'nothing on stdout');
  }
});
