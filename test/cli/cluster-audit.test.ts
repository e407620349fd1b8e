import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { runClusterAudit } from '../../src/cli/cluster-audit.js';
import type { ClusterReader } from '../../src/cluster/scan/scanner.js';
import { compileConfig, DEFAULT_CONFIG } from '../../src/engine/index.js';
import { runCli } from '../helpers/cli.js';
import { listReader } from '../helpers/cluster.js';

const objects: Record<string, unknown>[] = [
  { kind: 'Namespace', metadata: { name: 'shop' } },
  {
    kind: 'Deployment',
    metadata: { namespace: 'shop', name: 'web', uid: 'u-web' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'app:latest' }] } },
    },
  },
  {
    kind: 'ReplicaSet',
    metadata: {
      namespace: 'shop',
      name: 'web-5d8f',
      uid: 'u-rs',
      ownerReferences: [{ kind: 'Deployment', name: 'web', uid: 'u-web', controller: true }],
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'app:latest' }] } },
    },
  },
  {
    kind: 'Pod',
    metadata: {
      namespace: 'shop',
      name: 'web-1',
      uid: 'u-p',
      ownerReferences: [{ kind: 'ReplicaSet', name: 'web-5d8f', uid: 'u-rs', controller: true }],
    },
    spec: { containers: [{ name: 'app' }] },
  },
];

const reader = (failing?: string, status?: number): ClusterReader => listReader(objects, failing, status);

function io(failing?: string, status?: number) {
  const out: string[] = [];
  const said: string[] = [];
  return {
    out,
    said,
    io: {
      stdout: { write: (s: string) => out.push(s) },
      say: (s: string) => void said.push(s),
      reader: reader(failing, status),
      source: 'cluster kind-test',
    },
  };
}

const config = compileConfig(DEFAULT_CONFIG, POLICIES);

t.test('prints the offline audit table for the live objects, owned pods left to their owner', async (t) => {
  const run = io();
  const code = await runClusterAudit({ config, format: 'table', failOn: 'deny' }, run.io);
  const text = run.out.join('');
  t.equal(code, 1, 'a deny finding: exit 1, as the offline audit');
  t.match(text, /Deployment shop\/web \(cluster kind-test\)/);
  t.match(text, /DENY\s+run-as-non-root/);
  t.notMatch(text, /web-1/, "the Deployment's pod is not judged on its own");
  t.match(text, /1 object judged/);
});

t.test('JSON output and --fail-on never', async (t) => {
  const run = io();
  const code = await runClusterAudit({ config, format: 'json', failOn: 'never', namespace: 'shop' }, run.io);
  t.equal(code, 0);
  const report = JSON.parse(run.out.join('')) as {
    results: Array<{ kind: string; name: string; source: string }>;
    summary: { objects: number };
  };
  t.same(
    report.results.map((r) => `${r.kind}/${r.name}`),
    ['Deployment/web'],
  );
  t.equal(report.results[0]?.source, 'cluster kind-test');
  t.equal(report.summary.objects, 1);
});

t.test('a cluster that cannot be listed: exit 2, saying which kind and why, and no report', async (t) => {
  const run = io('deployments');
  const code = await runClusterAudit({ config, format: 'table', failOn: 'deny' }, run.io);
  t.equal(code, 2);
  t.same(run.out, []);
  t.match(run.said, [/cannot audit the cluster: cannot list deployments: HTTP 500/]);
});

t.test('a kind the user may not list is skipped and named, the rest still audited', async (t) => {
  const run = io('podtemplates', 403);
  const code = await runClusterAudit({ config, format: 'table', failOn: 'deny' }, run.io);
  t.equal(code, 1);
  t.same(run.said, ['not allowed to list podtemplates: those were not audited']);
  t.match(run.out.join(''), /Deployment shop\/web/);
});

t.test('an unusable kubeconfig: exit 2 naming it', async (t) => {
  const run = io();
  const { reader: _reader, ...rest } = run.io;
  const code = await runClusterAudit({ config, format: 'table', failOn: 'deny', kubeconfig: '/nonexistent/kubeconfig' }, rest);
  t.equal(code, 2);
  t.match(run.said, [/cannot load \/nonexistent\/kubeconfig/]);
});

t.test('audit --cluster with no kubeconfig anywhere says so, and where it looked', async (t) => {
  const home = t.testdir({});
  const run = await runCli(['audit', '--cluster'], { env: { HOME: home, KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: undefined } });
  t.equal(run.code, 2);
  t.equal(run.stdout, '');
  t.match(
    run.stderr,
    /^practice-gate: no kubeconfig found: KUBECONFIG is not set, .*\/\.kube\/config does not exist, and this is not a pod \(KUBERNETES_SERVICE_HOST is not set\); pass --kubeconfig FILE or set KUBECONFIG\n$/,
  );
  t.ok(run.stderr.includes(`${home}/.kube/config`), 'names the file it looked for');
  t.notMatch(run.stderr, /HTTP protocol|skipTLSVerify/, "not the client library's fallback to localhost:8080");
});

t.test('audit --cluster --format html and sarif: the same report, the same exit status', async (t) => {
  const html = io();
  t.equal(await runClusterAudit({ config, format: 'html', failOn: 'deny' }, html.io), 1);
  const page = html.out.join('');
  t.match(page, /^<!DOCTYPE html>/);
  t.match(page, /<h3>Deployment shop\/web <span class="at">cluster kind-test<\/span><\/h3>/);
  t.match(page, /data-count="deny"><b>[1-9]/);
  const sarif = io();
  t.equal(await runClusterAudit({ config, format: 'sarif', failOn: 'never' }, sarif.io), 0);
  const log = JSON.parse(sarif.out.join('')) as {
    runs: Array<{ results: Array<{ ruleId: string; locations: Array<Record<string, unknown>> }> }>;
  };
  const result = log.runs[0]?.results.find((r) => r.ruleId === 'run-as-non-root');
  t.match(
    result?.locations,
    [{ logicalLocations: [{ fullyQualifiedName: /^Deployment\/shop\/web\/spec\.template/ }] }],
    'no file in a cluster: the object is the location',
  );
  t.notOk(result?.locations[0]?.physicalLocation);
});
