// The Helm chart against a real kube-apiserver: what `helm install` creates, what the API
// server does with the webhook configuration, what `helm upgrade` keeps (lookup works here,
// unlike under `helm template`), and what `helm uninstall` leaves behind. There are no nodes
// and no controller-manager, so no pod ever runs: installs go without --wait and `helm test`
// is not run. Where the running binary would act (cluster audit, self-managed caBundle), the
// product's own cluster code runs in-process under the chart's ServiceAccount token.
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { POLICIES } from '../../policies/index.js';
import { KubeClients } from '../../src/cluster/api/client.js';
import { buildPolicyReport, ReportPublisher } from '../../src/cluster/scan/reports.js';
import { scanCluster } from '../../src/cluster/scan/scanner.js';
import { parseConfigText } from '../../src/config/load.js';
import { compileConfig } from '../../src/engine/index.js';
import { WEBHOOK_NAME } from '../../src/server/webhook-name.js';
import { captureLogger } from '../helpers/cluster.js';
import { makeCerts, run, startCluster } from './fixture/cluster.js';
import type { Cluster, CommandResult } from './fixture/cluster.js';
import { waitFor } from './fixture/processes.js';

type Obj = Record<string, any>;

const CHART = fileURLToPath(new URL('../../charts/practice-gate', import.meta.url));
const INSTALL_DOC = fileURLToPath(new URL('../../docs/install.md', import.meta.url));
const manifest = (file: string): string => readFileSync(new URL(`./manifests/${file}`, import.meta.url), 'utf8');

// As in docs/install.md: release practice-gate in namespace practice-gate, so every object is
// called practice-gate.
const RELEASE = 'practice-gate';
const NS = 'practice-gate';
const NAME = 'practice-gate';
const WEBHOOK = WEBHOOK_NAME;
const CRD = 'policyreports.wgpolicyk8s.io';
const INSTANCE = `app.kubernetes.io/instance=${RELEASE}`;
const NOW = Date.UTC(2030, 5, 1, 12, 0, 0);

// Every kind the chart can render (and the pod kinds that would betray a leaked hook), for the
// label query that must find exactly what the release manifest lists.
const NAMESPACED_KINDS =
  'deployments,replicasets,pods,services,serviceaccounts,configmaps,secrets,roles,rolebindings,poddisruptionbudgets,networkpolicies,leases,jobs';
const CLUSTER_KINDS =
  'clusterroles,clusterrolebindings,validatingwebhookconfigurations,mutatingwebhookconfigurations,customresourcedefinitions';

let cluster: Cluster;
let helmEnv: NodeJS.ProcessEnv;

t.before(async () => {
  cluster = await startCluster();
  const home = join(cluster.dir, 'helm');
  for (const d of ['cache', 'config', 'data']) mkdirSync(join(home, d), { recursive: true });
  helmEnv = {
    ...process.env,
    KUBECONFIG: cluster.kubeconfig,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
  };
});
t.teardown(async () => {
  await cluster?.stop();
});

function helm(args: string[]): Promise<CommandResult> {
  return run(cluster.tools.helm, [...args, '--kubeconfig', cluster.kubeconfig], { env: helmEnv, timeoutMs: 90_000 });
}

const install = (release: string, namespace: string, ...flags: string[]) =>
  helm(['install', release, CHART, '--namespace', namespace, '--create-namespace', ...flags]);
const upgrade = (...flags: string[]) => helm(['upgrade', RELEASE, CHART, '--namespace', NS, '--reuse-values', ...flags]);
const uninstall = (release = RELEASE, namespace = NS) => helm(['uninstall', release, '--namespace', namespace]);

async function kubectlJson(args: string[]): Promise<Obj> {
  const res = await cluster.kubectl([...args, '-o', 'json']);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as Obj;
}

const keyOf = (o: Obj): string =>
  `${String(o.kind)} ${o.metadata?.namespace ? `${String(o.metadata.namespace)}/` : ''}${String(o.metadata?.name)}`;

/** kind namespace/name of every object in the release manifest (hooks excluded, as helm does). */
async function manifestObjects(release = RELEASE, namespace = NS): Promise<Obj[]> {
  const res = await helm(['get', 'manifest', release, '--namespace', namespace]);
  if (res.code !== 0) throw new Error(`helm get manifest failed: ${res.stderr}`);
  return parseAllDocuments(res.stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

/** What the API server holds with the release's instance label, in any namespace. */
async function labelledInCluster(): Promise<string[]> {
  const namespaced = await kubectlJson(['get', NAMESPACED_KINDS, '--all-namespaces', '-l', INSTANCE]);
  const clusterScoped = await kubectlJson(['get', CLUSTER_KINDS, '-l', INSTANCE]);
  return [...namespaced.items, ...clusterScoped.items].map(keyOf).sort();
}

const vwc = (): Promise<Obj> => kubectlJson(['get', 'validatingwebhookconfiguration', NAME]);
const caBundleOf = (config: Obj): string | undefined => config.webhooks?.[0]?.clientConfig?.caBundle;

async function exists(args: string[]): Promise<boolean> {
  return (await cluster.kubectl(['get', ...args, '-o', 'name'])).code === 0;
}

/** A client holding a token of the chart's ServiceAccount: the identity the webhook pods run as. */
async function asServiceAccount(): Promise<KubeClients> {
  const res = await cluster.kubectl(['create', 'token', NAME, '--namespace', NS, '--duration=10m']);
  if (res.code !== 0) throw new Error(`kubectl create token failed: ${res.stderr}`);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'e2e', server: cluster.apiUrl, caFile: cluster.caFile, skipTLSVerify: false }],
    users: [{ name: 'webhook', token: res.stdout.trim() }],
    contexts: [{ name: 'webhook', cluster: 'e2e', user: 'webhook' }],
    currentContext: 'webhook',
  });
  return new KubeClients(kc);
}

/** The audit annotations of the API server's create of a Deployment (the fixture audits apps at RequestResponse). */
async function createAnnotations(namespace: string, name: string): Promise<Record<string, string>> {
  return waitFor(
    `the audit event of creating deployment ${namespace}/${name}`,
    async () => {
      for (const line of readFileSync(cluster.auditLog, 'utf8').split('\n')) {
        if (!line) continue;
        const ev = JSON.parse(line) as Obj;
        const ref = ev.objectRef ?? {};
        if (
          ev.stage === 'ResponseComplete' &&
          ev.verb === 'create' &&
          ref.resource === 'deployments' &&
          ref.namespace === namespace &&
          ref.name === name
        ) {
          return (ev.annotations ?? {}) as Record<string, string>;
        }
      }
      return undefined;
    },
    15_000,
  );
}
const FAILED_OPEN = 'failed-open.validating.webhook.admission.k8s.io/round_0_index_0';

t.test('certs.mode=helm (the default)', async (t) => {
  t.test('helm install with default values creates exactly what it rendered', async (t) => {
    const res = await install(RELEASE, NS);
    t.equal(res.code, 0, res.stderr);
    t.match(res.stdout, 'STATUS: deployed');

    t.test('its NOTES give the mode and the way from audit to enforce', async (t) => {
      t.match(res.stdout, /^Mode: audit$/m);
      t.match(res.stdout, 'Nothing is rejected');
      t.match(res.stdout, 'kubectl label namespace <namespace> practice-gate.io/mode=enforce');
      t.match(res.stdout, `helm upgrade ${RELEASE} <chart> -n ${NS} --reuse-values --set config.mode=enforce`);
      t.match(res.stdout, /^Certificates: helm$/m);
      t.match(res.stdout, `helm uninstall ${RELEASE} -n ${NS}`);
      t.match(res.stdout, 'kubectl delete policyreports -A -l app.kubernetes.io/managed-by=practice-gate');
    });

    const rendered = await manifestObjects();
    t.same(
      rendered.map((o) => String(o.kind)).sort(),
      [
        'ClusterRole',
        'ClusterRoleBinding',
        'ConfigMap',
        'CustomResourceDefinition',
        'Deployment',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'Role',
        'RoleBinding',
        'Secret',
        'Service',
        'ServiceAccount',
        'ValidatingWebhookConfiguration',
      ],
      'the release holds the webhook, its RBAC, PDB, certificates and the PolicyReport CRD (the test pod is a hook)',
    );
    t.same(
      await labelledInCluster(),
      rendered.map(keyOf).sort(),
      'the API server holds every rendered object, and nothing else of the release',
    );

    const hooks = await helm(['get', 'hooks', RELEASE, '--namespace', NS]);
    t.match(hooks.stdout, 'helm.sh/hook: test', 'the `helm test` pod is kept as a hook');
    t.equal((await cluster.kubectl(['get', 'pods', '--namespace', NS, '-o', 'name'])).stdout, '', 'and is not created by install');

    const deployment = await kubectlJson(['get', 'deployment', NAME, '--namespace', NS]);
    t.equal(deployment.spec.replicas, 2);
    t.equal(deployment.spec.template.spec.serviceAccountName, NAME);
    const pdb = await kubectlJson(['get', 'poddisruptionbudget', NAME, '--namespace', NS]);
    t.same(pdb.spec.selector, deployment.spec.selector, "the PDB selects exactly the Deployment's pods");
    const binding = await kubectlJson(['get', 'clusterrolebinding', NAME]);
    t.same(binding.subjects, [{ kind: 'ServiceAccount', name: NAME, namespace: NS }]);

    // What the API server's own authorizer says the service account may do: the informers and
    // the audit work, and nothing beyond docs/rbac.md is granted.
    const can = async (verb: string, resource: string, ...extra: string[]) =>
      (await cluster.kubectl(['auth', 'can-i', verb, resource, '--as', `system:serviceaccount:${NS}:${NAME}`, ...extra])).stdout.trim();
    for (const resource of [
      'namespaces',
      'poddisruptionbudgets.policy',
      'horizontalpodautoscalers.autoscaling',
      'deployments.apps',
      'statefulsets.apps',
      'replicasets.apps',
      'replicationcontrollers',
    ]) {
      for (const verb of ['list', 'watch'])
        t.equal(await can(verb, resource, '--all-namespaces'), 'yes', `the service account may ${verb} ${resource} cluster-wide`);
    }
    t.equal(await can('list', 'pods', '--all-namespaces'), 'yes', 'the cluster audit lists pods');
    t.equal(
      await can('get', `validatingwebhookconfigurations.admissionregistration.k8s.io/${NAME}`),
      'yes',
      'the audit reads its own webhook configuration',
    );
    for (const [verb, resource] of [
      ['create', 'deployments.apps'],
      ['get', 'secrets'],
      ['patch', 'namespaces'],
      ['watch', 'pods'],
      ['patch', 'validatingwebhookconfigurations.admissionregistration.k8s.io'],
    ]) {
      t.equal(await can(verb as string, resource as string, '--all-namespaces'), 'no', `nothing more: not ${verb} ${resource}`);
    }
    const crd = await kubectlJson(['get', 'customresourcedefinition', CRD]);
    t.equal(crd.metadata.annotations['helm.sh/resource-policy'], 'keep');
    t.ok(
      crd.status.conditions.some((c: Obj) => c.type === 'Established' && c.status === 'True'),
      'the API server accepted and established the PolicyReport CRD',
    );
    // Established comes before the storage of the new resource is ready: lists answer 429
    // "storage is (re)initializing" for a moment. The binary's next scan would retry; here we wait.
    await waitFor(
      'the API server to serve PolicyReports',
      async () => ((await cluster.api('GET', '/apis/wgpolicyk8s.io/v1alpha2/policyreports')).status === 200 ? true : undefined),
      30_000,
    );
  });

  t.test("the webhook configuration trusts the chart's CA and skips the release namespace and kube-system", async (t) => {
    const config = await vwc();
    const secret = await kubectlJson(['get', 'secret', `${NAME}-tls`, '--namespace', NS]);
    t.equal(caBundleOf(config), secret.data['ca.crt'], 'caBundle is the CA in the TLS Secret');
    const ca = new X509Certificate(Buffer.from(secret.data['ca.crt'], 'base64'));
    const serving = new X509Certificate(Buffer.from(secret.data['tls.crt'], 'base64'));
    t.ok(serving.checkIssued(ca) && serving.verify(ca.publicKey), 'the serving certificate is signed by that CA');
    t.match(serving.subjectAltName ?? '', `DNS:${NAME}.${NS}.svc`, 'and names the Service the API server calls');
    const webhook = config.webhooks[0];
    t.same(webhook.clientConfig.service, { name: NAME, namespace: NS, path: '/validate', port: 443 });
    t.same(webhook.namespaceSelector.matchExpressions, [
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [NS, 'kube-system'] },
      { key: 'practice-gate.io/ignore', operator: 'NotIn', values: ['true'] },
    ]);

    // No pod serves the webhook, so every call the API server makes fails and, with
    // failurePolicy Ignore, is admitted with a failed-open audit annotation: that annotation
    // shows which namespaces the API server sends to the webhook.
    for (const ns of ['shop', 'legacy']) t.equal((await cluster.kubectl(['create', 'namespace', ns])).code, 0);
    t.equal((await cluster.kubectl(['label', 'namespace', 'legacy', 'practice-gate.io/ignore=true'])).code, 0);
    for (const ns of ['shop', NS, 'kube-system', 'legacy']) {
      const res = await cluster.kubectl(['apply', '--namespace', ns, '-f', '-'], manifest('compliant.yaml'));
      t.equal(res.code, 0, `a Deployment in ${ns} is admitted while the webhook is down (failurePolicy Ignore): ${res.stderr}`);
    }
    t.equal((await createAnnotations('shop', 'compliant'))[FAILED_OPEN], WEBHOOK, 'an ordinary namespace is sent to the webhook');
    for (const ns of [NS, 'kube-system', 'legacy']) {
      t.notOk(FAILED_OPEN in (await createAnnotations(ns, 'compliant')), `${ns} is never sent to the webhook`);
    }
  });

  t.test("the cluster audit, as the chart's ServiceAccount, writes PolicyReports the CRD stores unchanged", async (t) => {
    for (const file of ['root.yaml', 'warn-only.yaml']) {
      const res = await cluster.kubectl(['apply', '--namespace', 'shop', '-f', '-'], manifest(file));
      t.equal(res.code, 0, res.stderr);
    }
    const clients = await asServiceAccount();
    const configMap = await kubectlJson(['get', 'configmap', `${NAME}-config`, '--namespace', NS]);
    const engine = compileConfig(parseConfigText(configMap.data['config.yaml'], `ConfigMap ${NS}/${NAME}-config`), POLICIES);
    // scanCluster fails on a forbidden list: the chart's ClusterRole must cover every kind.
    const scan = await scanCluster(clients.clusterReader(), engine);
    const { logger, lines } = captureLogger();
    const publisher = new ReportPublisher(clients.policyReportStore(), logger);
    const first = await publisher.publish(scan, engine, NOW);
    t.match(first, { available: true, failed: 0, updated: 0 }, JSON.stringify(lines));
    t.ok(first.created >= 1, 'reports were created');

    const stored = await kubectlJson(['get', 'policyreport', 'practice-gate', '--namespace', 'shop']);
    const expected = buildPolicyReport(
      'shop',
      scan.judged.filter((j) => j.evaluation.namespace === 'shop'),
      engine,
      NOW,
    );
    t.same(
      { labels: stored.metadata.labels, summary: stored.summary, results: stored.results },
      { labels: expected.metadata.labels, summary: expected.summary, results: expected.results },
      'the stored report is the one practice-gate wrote, field for field (nothing pruned by the schema)',
    );
    t.ok(
      stored.results.some((r: Obj) => r.policy === 'run-as-non-root' && r.result === 'fail' && r.resources[0].name === 'root'),
      'the root Deployment fails run-as-non-root',
    );
    t.ok(
      stored.results.some((r: Obj) => r.result === 'warn' && r.resources[0].name === 'warn-only'),
      'warn-only has warnings',
    );

    const second = await publisher.publish(scan, engine, NOW + 60_000);
    t.match(
      second,
      { created: 0, updated: 0, failed: 0, unchanged: first.created },
      'a second scan reads back the same reports and writes nothing',
    );

    const table = await cluster.kubectl(['get', 'policyreport', '--namespace', 'shop']);
    t.match(table.stdout, /^NAME\s+PASS\s+FAIL\s+WARN\s+ERROR\s+SKIP\s+AGE$/m, 'kubectl shows the summary columns');
    t.match(
      table.stdout,
      new RegExp(`^practice-gate\\s+${expected.summary.pass}\\s+${expected.summary.fail}\\s+${expected.summary.warn}\\s+0\\s+0\\s`, 'm'),
    );
  });

  t.test('helm upgrade keeps the certificates; an upgrade inside the renewal window replaces them', async (t) => {
    const certs = async () => {
      const secret = await kubectlJson(['get', 'secret', `${NAME}-tls`, '--namespace', NS]);
      return {
        ca: secret.data['ca.crt'] as string,
        crt: secret.data['tls.crt'] as string,
        key: secret.data['tls.key'] as string,
        caBundle: caBundleOf(await vwc()),
      };
    };
    const before = await certs();
    const res = await upgrade('--set', 'server.logLevel=debug');
    t.equal(res.code, 0, res.stderr);
    t.match(res.stdout, 'REVISION: 2');
    const deployment = await kubectlJson(['get', 'deployment', NAME, '--namespace', NS]);
    t.ok(deployment.spec.template.spec.containers[0].args.includes('--log-level=debug'), 'the upgrade applied the new value');
    t.same(await certs(), before, 'tls.crt, tls.key, ca.crt and caBundle are unchanged');

    // Ten years of validity are left, so renewing 4000 days before expiry means renewing now.
    const renew = await upgrade('--set', 'certs.helm.renewBeforeDays=4000');
    t.equal(renew.code, 0, renew.stderr);
    const after = await certs();
    t.not(after.ca, before.ca, 'a new CA');
    t.not(after.crt, before.crt, 'a new serving certificate');
    t.equal(after.caBundle, after.ca, 'and caBundle follows the new CA in the same upgrade');
  });

  t.test('helm uninstall removes the webhook configuration and keeps only the PolicyReport CRD, as documented', async (t) => {
    const res = await uninstall();
    t.equal(res.code, 0, res.stderr);
    t.match(res.stdout, `These resources were kept due to the resource policy:\n[CustomResourceDefinition] ${CRD}`);
    t.notOk(await exists(['validatingwebhookconfiguration', NAME]), 'no webhook configuration is left to slow or block writes');
    t.same(await labelledInCluster(), [`CustomResourceDefinition ${CRD}`], 'nothing else of the release remains');
    t.ok(await exists(['policyreport', 'practice-gate', '--namespace', 'shop']), 'reports survive with the CRD');

    const docs = readFileSync(INSTALL_DOC, 'utf8');
    const uninstallSection = docs.slice(docs.indexOf('## 5. Uninstall'), docs.indexOf('## Certificates'));
    t.match(uninstallSection, 'the PolicyReport CRD (`helm.sh/resource-policy: keep`)');
    t.match(uninstallSection, `kubectl delete crd ${CRD}`);
    const cleanup = 'kubectl delete policyreports -A -l app.kubernetes.io/managed-by=practice-gate';
    t.match(uninstallSection, cleanup, 'the docs say how to remove the reports the binary wrote');
    const cleaned = await cluster.kubectl(cleanup.split(' ').slice(1));
    t.equal(cleaned.code, 0, cleaned.stderr);
    t.notOk(await exists(['policyreport', 'practice-gate', '--namespace', 'shop']), 'and that command removes them');
  });
});

t.test('certs.mode=selfManaged', async (t) => {
  t.test('helm install (over the kept CRD) creates exactly what it rendered, with no caBundle and no Secret', async (t) => {
    const res = await install(RELEASE, NS, '--set', 'certs.mode=selfManaged');
    t.equal(res.code, 0, res.stderr);
    t.match(res.stdout, /^Certificates: selfManaged$/m);
    t.match(res.stdout, /^Mode: audit$/m);
    t.match(res.stdout, `kubectl -n ${NS} delete secret ${NAME}-tls   # created by the binary, not by helm`);

    const rendered = await manifestObjects();
    const kinds = rendered.map((o) => String(o.kind));
    t.notOk(kinds.includes('Secret'), 'the chart makes no certificate: the binary does');
    t.ok(kinds.includes('CustomResourceDefinition'), 'the CRD kept from the earlier release of this name is adopted again');
    t.same(
      await labelledInCluster(),
      rendered.map(keyOf).sort(),
      'the API server holds every rendered object, and nothing else of the release',
    );
    t.notOk(caBundleOf(await vwc()), 'caBundle is empty until the binary sets it');
    const args: string[] = (await kubectlJson(['get', 'deployment', NAME, '--namespace', NS])).spec.template.spec.containers[0].args;
    t.ok(args.includes('--self-managed-certs') && args.includes(`--webhook-config=${NAME}`) && args.includes(`--cert-secret=${NAME}-tls`));
  });

  t.test('helm upgrade keeps the caBundle the binary set', async (t) => {
    // What the binary does at start, with its own client and the chart's RBAC: create the
    // Secret, then patch caBundle by webhook name (a strategic merge patch).
    const clients = await asServiceAccount();
    const files = makeCerts(join(cluster.dir, 'self-managed'), NAME, NS);
    await clients.secretStore(NS, `${NAME}-tls`).create({
      data: {
        'ca.crt': readFileSync(files.caFile, 'utf8'),
        'tls.crt': readFileSync(files.certFile, 'utf8'),
        'tls.key': readFileSync(files.keyFile, 'utf8'),
      },
      annotations: {},
    });
    await clients.webhookStore(NAME).setCaBundle([WEBHOOK], files.caBundle);
    t.equal(caBundleOf(await vwc()), files.caBundle, 'the ServiceAccount may patch caBundle');

    const unrelated = await upgrade('--set', 'server.logLevel=debug');
    t.equal(unrelated.code, 0, unrelated.stderr);
    t.equal(caBundleOf(await vwc()), files.caBundle, 'an upgrade of an unrelated value keeps caBundle');

    // The riskier upgrade: it changes the webhook entry that holds caBundle.
    const webhookChange = await upgrade('--set', 'webhook.timeoutSeconds=7');
    t.equal(webhookChange.code, 0, webhookChange.stderr);
    const config = await vwc();
    t.equal(config.webhooks[0].timeoutSeconds, 7, 'the upgrade changed the webhook');
    t.equal(caBundleOf(config), files.caBundle, 'and kept caBundle');
  });

  t.test("helm uninstall removes the webhook configuration; the binary's Secret stays, as NOTES say", async (t) => {
    const res = await uninstall();
    t.equal(res.code, 0, res.stderr);
    t.notOk(await exists(['validatingwebhookconfiguration', NAME]));
    t.same(await labelledInCluster(), [`CustomResourceDefinition ${CRD}`]);
    t.ok(await exists(['secret', `${NAME}-tls`, '--namespace', NS]), "the Secret the binary created is not helm's to delete");
  });
});

t.test('policyReportCRD.install=auto leaves a CRD owned by another release alone', async (t) => {
  const crdBefore = await kubectlJson(['get', 'customresourcedefinition', CRD]);
  t.equal(crdBefore.metadata.annotations['meta.helm.sh/release-name'], RELEASE, "the CRD is still recorded as release practice-gate's");
  const res = await install('other', 'other');
  t.equal(res.code, 0, res.stderr);
  t.teardown(() => uninstall('other', 'other'));
  const kinds = (await manifestObjects('other', 'other')).map((o) => String(o.kind));
  t.notOk(kinds.includes('CustomResourceDefinition'), 'the other release does not render it');
  t.ok(kinds.includes('ValidatingWebhookConfiguration'));
  const crdAfter = await kubectlJson(['get', 'customresourcedefinition', CRD]);
  t.same(crdAfter.metadata.annotations, crdBefore.metadata.annotations, 'and does not take it over');
  t.equal(crdAfter.metadata.resourceVersion, crdBefore.metadata.resourceVersion, 'or write to it');
});
