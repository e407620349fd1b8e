// Switching a live cluster to enforce without breaking what already runs (issue 14), as an admin
// walks it with kubectl against a real kube-apiserver: a legacy Deployment admitted in audit
// mode keeps accepting the writes that change nothing practice-gate judges, while new
// violations are refused; staged deadlines and expiring exemptions are judged by serve's
// clock, set with the hidden --now flag (never by waiting for a date).
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { join } from 'node:path';
import { CLI, run, startCluster } from './fixture/cluster.js';
import type { Cluster } from './fixture/cluster.js';
import { waitFor } from './fixture/processes.js';
import { startWebhook } from './fixture/webhook.js';
import type { Webhook } from './fixture/webhook.js';

const NS = 'legacy';
const OWN_NS = 'practice-gate';
/** serve's clock starts here. */
const NOW = '2027-01-10T12:00:00Z';

/** A Deployment from before practice-gate: runs as root (run-as-non-root, deny), otherwise fine. */
const legacy = (name = 'shop') =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'registry.example.com/shop/api:1.4.2',
              securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
              resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
              readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
              livenessProbe: { httpGet: { path: '/live', port: 8080 } },
            },
          ],
        },
      },
    },
  });

const warnings = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('Warning:'));

let cluster: Cluster;
let webhook: Webhook;

async function kubectl(args: string[], input?: string) {
  const res = await cluster.kubectl(args, input);
  // The transcript an admin would see, for README's "Rolling out enforcement".
  t.comment(`$ kubectl ${args.join(' ')}\n${res.stdout}${res.stderr}`.trimEnd());
  return res;
}

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const res = await cluster.kubectl(args, input);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

/** A CREATE of another legacy Deployment, judged and not stored. */
const probeCreate = () => cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], legacy('probe'));

async function setConfig(content: string, proof: () => Promise<boolean>): Promise<void> {
  writeFileSync(webhook.configFile, content);
  await waitFor('the webhook to reload its config', async () => ((await proof()) ? true : undefined), 30_000, 300);
}

t.before(async () => {
  cluster = await startCluster();
  for (const ns of [OWN_NS, NS]) await kubectlOk(['create', 'namespace', ns]);
  webhook = await startWebhook(cluster, {
    name: 'rollout',
    config: 'mode: audit\n',
    // The informers must sync first; on a loaded machine that takes longer than the default.
    readyTimeoutMs: 180_000,
    args: ['--kubeconfig', cluster.kubeconfig, '--namespace', OWN_NS, '--audit-interval', '0', '--now', NOW],
  });
});
t.teardown(async () => {
  await webhook?.stop();
  await cluster?.stop();
});

t.test('a legacy Deployment is admitted in audit mode, with the warning that enforce would deny it', async (t) => {
  const res = await kubectl(['create', '-f', '-'], legacy());
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, 'deployment.apps/shop created');
  t.ok(
    warnings(res.stderr).some((l) => l.includes('[run-as-non-root] would deny')),
    res.stderr,
  );
});

t.test('a namespace admin may not label the namespace: only cluster admins move it to enforce or set its deadline', async (t) => {
  // The team's own Role (the built-in admin role is aggregated by the controller-manager, which this cluster does not run).
  await kubectlOk(['create', 'role', 'team-admin', '-n', NS, '--verb', '*', '--resource', 'deployments.apps,pods,services,configmaps']);
  await kubectlOk(['create', 'rolebinding', 'team-admin', '-n', NS, '--role', 'team-admin', '--user', 'dev']);
  const own = await kubectl(['auth', 'can-i', 'patch', 'deployments', '-n', NS, '--as', 'dev']);
  t.equal(own.stdout.trim(), 'yes', 'dev administers the namespace');
  const label = await kubectl(['label', 'namespace', NS, 'practice-gate.io/enforce-from=2099-01-01', '--as', 'dev']);
  t.not(label.code, 0, 'but cannot label it');
  t.match(label.stderr, /forbidden/);
});

t.test('its namespace switched to enforce: writes that change nothing judged still pass', async (t) => {
  await kubectl(['label', 'namespace', NS, 'practice-gate.io/mode=enforce']);
  await waitFor('the informer to see the namespace label', async () => ((await probeCreate()).code !== 0 ? true : undefined), 15_000, 300);

  const created = await kubectl(['apply', '--dry-run=server', '-f', '-'], legacy('another'));
  t.not(created.code, 0, 'a new legacy Deployment is refused');
  t.match(created.stderr, '[run-as-non-root]');

  const writes: Array<[string, string[], string?]> = [
    ['kubectl label', ['label', 'deployment', 'shop', '-n', NS, 'team=payments']],
    ['kubectl annotate', ['annotate', 'deployment', 'shop', '-n', NS, 'argocd.argoproj.io/tracking-id=shop:apps/Deployment:legacy/shop']],
    ['kubectl rollout restart', ['rollout', 'restart', 'deployment/shop', '-n', NS]],
    [
      'server-side apply of one annotation',
      ['apply', '--server-side', '--field-manager', 'gitops', '-f', '-'],
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'shop', namespace: NS, annotations: { 'example.com/owner': 'payments' } },
      }),
    ],
    ['kubectl scale', ['scale', 'deployment/shop', '-n', NS, '--replicas', '1']],
  ];
  for (const [what, args, input] of writes) {
    const res = await kubectl(args, input);
    t.equal(res.code, 0, `${what}: ${res.stderr}`);
    t.same(
      warnings(res.stderr).filter((l) => l.includes('practice-gate')),
      [],
      `${what}: nothing re-warned`,
    );
  }
  const restarted = await kubectlOk([
    'get',
    'deployment',
    'shop',
    '-n',
    NS,
    '-o',
    "jsonpath={.spec.template.metadata.annotations['kubectl\\.kubernetes\\.io/restartedAt']}",
  ]);
  t.not(restarted, '', 'the restart was stored');

  const bumped = await kubectl(['set', 'image', 'deployment/shop', '-n', NS, 'app=registry.example.com/shop/api:1.4.3']);
  t.equal(bumped.code, 0, bumped.stderr);
  t.ok(
    warnings(bumped.stderr).some((l) => l.includes('[run-as-non-root] already existed, not refused')),
    `an image bump warns of the existing violation: ${bumped.stderr}`,
  );
  const replicas = await kubectl(['patch', 'deployment', 'shop', '-n', NS, '--type', 'merge', '-p', '{"spec":{"replicas":2}}']);
  t.equal(replicas.code, 0, replicas.stderr);
  t.ok(
    warnings(replicas.stderr).some((l) => l.includes('[pdb-coverage]') && !l.includes('already existed')),
    `two replicas without a PDB: a new warning: ${replicas.stderr}`,
  );
});

t.test('writes that introduce a violation are refused or warned as usual', async (t) => {
  const stripped = await kubectl([
    'patch',
    'deployment',
    'shop',
    '-n',
    NS,
    '--type',
    'json',
    '-p',
    '[{"op":"remove","path":"/spec/template/spec/containers/0/securityContext"}]',
  ]);
  t.not(stripped.code, 0, 'removing the securityContext is refused');
  t.match(stripped.stderr, '[read-only-root-filesystem]');
  const denial = stripped.stderr.slice(stripped.stderr.indexOf('denied the request'));
  t.notMatch(denial, '[run-as-non-root]', 'the existing violation is not what refuses it');
  t.ok(
    warnings(stripped.stderr).some((l) => l.includes('[run-as-non-root] already existed')),
    'it is warned as existing',
  );

  const root = JSON.stringify([
    {
      op: 'add',
      path: '/spec/template/spec/containers/-',
      value: {
        name: 'debug',
        image: 'busybox:1.36',
        securityContext: { runAsUser: 0, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
        resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '16Mi' } },
      },
    },
  ]);
  const added = await kubectl(['patch', 'deployment', 'shop', '-n', NS, '--type', 'json', '-p', root]);
  t.not(added.code, 0, 'adding a root container is refused');
  t.match(added.stderr, 'container "debug" runs as uid 0');

  const latest = await kubectl(['set', 'image', 'deployment/shop', '-n', NS, 'app=registry.example.com/shop/api:latest']);
  t.equal(latest.code, 0, latest.stderr);
  const tag = warnings(latest.stderr).find((l) => l.includes('[image-tag-pinned]'));
  t.ok(tag, `the :latest tag gets the new warning: ${latest.stderr}`);
  t.notMatch(tag ?? '', 'already existed');
});

t.test('existingViolations: deny judges UPDATEs like CREATEs: the label change is refused', async (t) => {
  const label = () => cluster.kubectl(['label', 'deployment', 'shop', '-n', NS, 'release=2', '--overwrite', '--dry-run=server']);
  await setConfig('mode: audit\nexistingViolations: deny\n', async () => (await label()).code !== 0);
  const refused = await kubectl(['label', 'deployment', 'shop', '-n', NS, 'release=2', '--overwrite']);
  t.not(refused.code, 0);
  t.match(refused.stderr, '[run-as-non-root]');
  await setConfig('mode: audit\n', async () => (await label()).code === 0);
});

t.test("staged deadlines, judged by serve's clock: refused once the date has passed, a warning naming it before", async (t) => {
  const past = 'mode: audit\npolicies:\n  run-as-non-root: { action: deny, from: "2027-01-01" }\n';
  const future = 'mode: audit\npolicies:\n  run-as-non-root: { action: deny, from: "2027-02-01" }\n';
  await setConfig(future, async () => (await probeCreate()).code === 0);
  const warned = await kubectl(['apply', '--dry-run=server', '-f', '-'], legacy('staged'));
  t.equal(warned.code, 0, warned.stderr);
  t.ok(
    warnings(warned.stderr).some((l) => l.includes('[run-as-non-root] refused from 2027-02-01')),
    warned.stderr,
  );
  await setConfig(past, async () => (await probeCreate()).code !== 0);
  const refused = await kubectl(['apply', '--dry-run=server', '-f', '-'], legacy('staged'));
  t.not(refused.code, 0);
  t.match(refused.stderr, '[run-as-non-root]');
});

t.test('an expired exemption no longer exempts; one about to expire warns', async (t) => {
  const exemption = (expires: string) =>
    `mode: audit\nexemptions:\n  - namespaces: [${NS}]\n    policies: [run-as-non-root]\n    reason: OPS-412 root until the 2.0 image\n    expires: "${expires}"\n`;
  await setConfig(exemption('2027-01-20'), async () => (await probeCreate()).code === 0);
  const soon = await kubectl(['apply', '--dry-run=server', '-f', '-'], legacy('exempted'));
  t.equal(soon.code, 0, soon.stderr);
  t.ok(
    warnings(soon.stderr).some((l) => l.includes('[run-as-non-root] exempt only until 2027-01-20')),
    soon.stderr,
  );
  await setConfig(exemption('2027-01-05'), async () => (await probeCreate()).code !== 0);
  const refused = await kubectl(['apply', '--dry-run=server', '-f', '-'], legacy('exempted'));
  t.not(refused.code, 0, 'expired: refused');
  t.match(refused.stderr, '[run-as-non-root]');
  const expired = await webhook.logged(
    'the expired exemption',
    (e) => typeof e.msg === 'string' && e.msg.startsWith('exemption expired: it no longer exempts anything'),
  );
  t.match(expired[0], { exemption: 0 }, 'the reload logs the expired exemption');
  const metrics = await webhook.metrics();
  t.match(
    metrics,
    /practice_gate_exemption_expiry_timestamp_seconds\{exemption="0",scope="namespaces=legacy policies=run-as-non-root"\} 1799107200/,
    'the expiry is a metric',
  );
});

t.test('before switching: what enforce would refuse, and the exemptions with the objects they cover', async (t) => {
  const configFile = join(cluster.dir, 'whatif.yaml');
  writeFileSync(
    configFile,
    'mode: audit\nexemptions:\n  - namespaces: [legacy]\n    policies: [run-as-non-root]\n    reason: OPS-412 root until the 2.0 image\n    expires: "2099-01-20"\n  - namespaces: [legacy]\n    names: [shop]\n    policies: [image-tag-pinned]\n    reason: pinned by the 2.0 release\n    expires: "2026-01-05"\n',
  );
  const practiceGate = async (args: string[]) => {
    const res = await run(process.execPath, [CLI, ...args, '--kubeconfig', cluster.kubeconfig]);
    t.comment(`$ practice-gate ${args.join(' ')}\n${res.stdout}${res.stderr}`.trimEnd());
    return res;
  };
  const whatIf = await practiceGate(['audit', '--cluster', '--mode', 'enforce', '--fail-on', 'never']);
  t.equal(whatIf.code, 0, whatIf.stderr);
  t.match(whatIf.stdout, /What enforce would refuse today, per namespace and policy:/);
  t.match(whatIf.stdout, /legacy\s+run-as-non-root\s+1\s+1\s+0\s+0/);
  const json = await practiceGate(['audit', '--cluster', '--namespace', NS, '--mode', 'enforce', '--format', 'json', '--fail-on', 'never']);
  t.same((JSON.parse(json.stdout) as { whatIf: { totals: unknown } }).whatIf.totals, {
    objects: 1,
    existing: 1,
    blockUpdates: 0,
    pending: 0,
  });
  const listed = await practiceGate(['exemptions', '--config', configFile, '--cluster']);
  t.equal(listed.code, 0, listed.stderr);
  t.match(listed.stdout, /#0  ACTIVE  expires 2099-01-20[\s\S]*objects:  1 live object matched/);
  t.match(listed.stdout, /#1  EXPIRED  expired 2026-01-05[\s\S]*objects:  1 live object matched \(no longer exempt\)/);
});
