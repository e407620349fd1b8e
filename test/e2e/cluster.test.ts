// Cluster awareness against a real kube-apiserver: `practice-gate serve --kubeconfig` watching
// PDBs, HPAs, Namespaces and the replicated workloads, the cluster audit writing PolicyReports under a Lease, and
// replicas keeping their own certificate in a Secret. There are no nodes and no
// controller-manager, so no pod ever runs: every serve is a process on this machine, and the
// API server calls it by URL.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import t from 'tap';
import type { Test } from 'tap';
import { parse } from 'yaml';
import { CLI, run, startCluster } from './fixture/cluster.js';
import type { Cluster } from './fixture/cluster.js';
import { waitFor } from './fixture/processes.js';
import { createWebhook, logLines, registerWebhooks, startWebhook, waitForCanary } from './fixture/webhook.js';
import type { Webhook } from './fixture/webhook.js';

type Obj = Record<string, any>;

/** Where serve keeps its Secret and Leases (--namespace). */
const OWN_NS = 'practice-gate';
const REPORTS = '/apis/wgpolicyk8s.io/v1alpha2';

const manifest = (file: string): string => readFileSync(new URL(`./manifests/${file}`, import.meta.url), 'utf8');
/** A manifest under another name, optionally changed, as JSON for kubectl. */
const variant = (file: string, name: string, change: (d: Obj) => void = () => {}): string => {
  const doc = parse(manifest(file)) as Obj;
  doc.metadata.name = name;
  change(doc);
  return JSON.stringify(doc);
};
const runAsNonRoot = (d: Obj): void => {
  d.spec.template.spec.securityContext = { runAsNonRoot: true, runAsUser: 10001 };
};
const warnings = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('Warning:'));
const warns = (stderr: string, policy: string): boolean => warnings(stderr).some((l) => l.includes(`[${policy}]`));

let cluster: Cluster;

t.before(async () => {
  cluster = await startCluster();
  // The chart's own CRD, as `helm install` would create it.
  const crd = await run(cluster.tools.helm, [
    'template',
    'practice-gate',
    new URL('../../charts/practice-gate', import.meta.url).pathname,
    '--set',
    'policyReportCRD.install=true',
    '--show-only',
    'templates/crd-policyreport.yaml',
  ]);
  if (crd.code !== 0) throw new Error(`helm template failed: ${crd.stderr}`);
  for (const args of [
    ['apply', '-f', '-'],
    ['create', 'namespace', OWN_NS],
  ]) {
    const res = await cluster.kubectl(args, crd.stdout);
    if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${res.stderr}`);
  }
  await waitFor(
    'the PolicyReport CRD to be served',
    async () => ((await cluster.api('GET', `${REPORTS}/policyreports`)).status === 200 ? true : undefined),
    30_000,
  );
});
t.teardown(async () => {
  await cluster?.stop();
});

async function get(path: string): Promise<Obj | undefined> {
  const res = await cluster.api('GET', path);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as Obj;
}
const policyReport = (namespace: string) => get(`${REPORTS}/namespaces/${namespace}/policyreports/practice-gate`);
const lease = (name: string) => get(`/apis/coordination.k8s.io/v1/namespaces/${OWN_NS}/leases/${name}`);
/** The report's results for one object (and policy). */
const resultsFor = (report: Obj | undefined, kind: string, name: string, policy?: string): Obj[] =>
  ((report?.results ?? []) as Obj[]).filter(
    (r) => r.resources?.[0]?.kind === kind && r.resources?.[0]?.name === name && (policy === undefined || r.policy === policy),
  );

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const res = await cluster.kubectl(args, input);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

/** A sample of a Prometheus text exposition; undefined when the series has no sample. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** The process's log lines carrying this `event`. */
/** The `event` lines logged so far; for a line that must appear, use webhook.logged(), which waits for it. */
function logEvents(webhook: Webhook, event: string): Obj[] {
  return logLines(webhook.logFile).filter((e) => e.event === event);
}

t.test('serve --kubeconfig: PDBs, HPAs, workloads and namespace labels from the informers, findings from the audit', async (t) => {
  const webhook = await startWebhook(cluster, {
    name: 'aware',
    env: { POD_NAME: 'aware-0' },
    // Its readiness waits for the informers' first lists: on a loaded machine that takes more than the default 30 s.
    readyTimeoutMs: 120_000,
    args: ['--kubeconfig', cluster.kubeconfig, '--namespace', OWN_NS, '--audit-interval', '3s', '--lease-name', 'aware-audit'],
  });
  t.teardown(async () => {
    await cluster.kubectl(['delete', 'validatingwebhookconfiguration', 'practice-gate-e2e', '--ignore-not-found']);
    await webhook.stop();
  });

  t.test('pdb-coverage follows the PDB: warned without, quiet with, reported by the audit once it is deleted', async (t) => {
    const ns = 'pdb-flow';
    await kubectlOk(['create', 'namespace', ns]);
    const created = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], manifest('replicated.yaml'));
    t.equal(created.code, 0, created.stderr);
    t.ok(warns(created.stderr, 'pdb-coverage'), `no PDB yet: ${created.stderr}`);

    await kubectlOk(['apply', '-n', ns, '-f', '-'], manifest('pdb.yaml'));
    // Same labels under another name: a create the webhook judges (an unchanged apply sends nothing).
    const probe = variant('replicated.yaml', 'replicated-probe');
    const quiet = await waitFor(
      'the informer to see the PDB',
      async () => {
        const res = await cluster.kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], probe);
        return res.code === 0 && !warns(res.stderr, 'pdb-coverage') ? res : undefined;
      },
      15_000,
      300,
    );
    t.same(warnings(quiet.stderr), [], 'covered by the PDB: no warning at all');

    // Two scans finished after this point: the second started with the PDB in place.
    const scans = async () => metric(await webhook.metrics(), 'practice_gate_audit_scans_total', { result: 'success' }) ?? 0;
    const mark = await scans();
    await waitFor('two more audit scans', async () => ((await scans()) >= mark + 2 ? true : undefined), 20_000, 500);
    const covered = await policyReport(ns);
    t.ok(covered, 'the namespace has its PolicyReport');
    t.same(resultsFor(covered, 'Deployment', 'replicated', 'pdb-coverage'), [], 'the audit finds no pdb-coverage with the PDB in place');

    await kubectlOk(['delete', 'poddisruptionbudget', 'replicated', '-n', ns]);
    const uncovered = await waitFor(
      'the audit to report the Deployment without its PDB',
      async () => {
        const [result] = resultsFor(await policyReport(ns), 'Deployment', 'replicated', 'pdb-coverage');
        return result;
      },
      20_000,
      500,
    );
    t.match(uncovered, {
      source: 'practice-gate',
      result: 'warn',
      severity: 'medium',
      message: /3 replicas but no PodDisruptionBudget/,
      properties: { action: 'warn' },
      resources: [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'replicated' }],
    });
    const uid = (await get(`/apis/apps/v1/namespaces/${ns}/deployments/replicated`))?.metadata?.uid as string;
    t.equal(uncovered.resources[0].uid, uid, 'the result names the Deployment by uid');

    const audit = await run(process.execPath, [
      CLI,
      'audit',
      '--cluster',
      '--kubeconfig',
      cluster.kubeconfig,
      '--namespace',
      ns,
      '--format',
      'json',
      '--fail-on',
      'warn',
    ]);
    t.equal(audit.code, 1, `audit --cluster --fail-on warn exits 1 on the warning: ${audit.stderr}`);
    const json = JSON.parse(audit.stdout) as Obj;
    const deployment = (json.results as Obj[]).find((r) => r.kind === 'Deployment' && r.name === 'replicated');
    t.ok(
      deployment?.findings.some((f: Obj) => f.policy === 'pdb-coverage'),
      'audit --cluster agrees',
    );
  });

  t.test('an HPA that may scale a one-replica Deployment to 5 makes it need a PDB', async (t) => {
    const ns = 'hpa-flow';
    await kubectlOk(['create', 'namespace', ns]);
    const dryRun = () => cluster.kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], manifest('compliant.yaml'));
    const alone = await dryRun();
    t.equal(alone.code, 0, alone.stderr);
    t.notOk(warns(alone.stderr, 'pdb-coverage'), `one replica, no HPA: ${alone.stderr}`);

    await kubectlOk(['apply', '-n', ns, '-f', '-'], manifest('cluster-hpa.yaml'));
    const scaled = await waitFor(
      'the informer to see the HPA',
      async () => {
        const res = await dryRun();
        return warns(res.stderr, 'pdb-coverage') ? res : undefined;
      },
      15_000,
      300,
    );
    t.equal(scaled.code, 0, 'a warning, not a denial');
    t.match(
      warnings(scaled.stderr).find((l) => l.includes('[pdb-coverage]')),
      'HPA "compliant" scales it to 5',
    );
  });

  t.test('hpa-managed-replicas follows the HPAs: created before the workload, after it, and deleted', async (t) => {
    const ns = 'hpa-replicas';
    await kubectlOk(['create', 'namespace', ns]);
    const hpaFor = (name: string) => variant('cluster-hpa.yaml', name, (d) => (d.spec.scaleTargetRef.name = name));
    const deployment = (name: string, replicas?: number) =>
      variant('compliant.yaml', name, (d) => {
        if (replicas === undefined) delete d.spec.replicas;
        else d.spec.replicas = replicas;
      });
    const managed = (stderr: string) => warnings(stderr).find((l) => l.includes('[hpa-managed-replicas]'));

    // The HPA first, then the workload.
    await kubectlOk(['apply', '-n', ns, '-f', '-'], hpaFor('early'));
    const first = await waitFor(
      'the informer to see the HPA',
      async () => {
        const res = await cluster.kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], deployment('early', 3));
        return managed(res.stderr) ? res : undefined;
      },
      15_000,
      300,
    );
    t.equal(first.code, 0, 'a warning, not a denial');
    t.match(managed(first.stderr), 'replicas: 3 undoes HPA "early" on each apply: keep it out of the manifest');
    // The API server defaults replicas to 1: neither an apply nor a create without it is taken for a manifest value.
    for (const verb of ['apply', 'create']) {
      const res = await cluster.kubectl([verb, '--dry-run=server', '-n', ns, '-f', '-'], deployment('early'));
      t.equal(res.code, 0, res.stderr);
      t.notOk(managed(res.stderr), `kubectl ${verb} without replicas: ${res.stderr}`);
    }
    const applied = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], deployment('early', 3));
    t.ok(managed(applied.stderr), `kubectl apply warns: ${applied.stderr}`);

    // The workload first, then the HPA: its next apply warns.
    const alone = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], deployment('late', 2));
    t.equal(alone.code, 0, alone.stderr);
    t.notOk(managed(alone.stderr), `no HPA yet: ${alone.stderr}`);
    await kubectlOk(['apply', '-n', ns, '-f', '-'], hpaFor('late'));
    const later = await waitFor(
      'the informer to see the later HPA',
      async () => {
        const res = await cluster.kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], deployment('late', 4));
        return managed(res.stderr) ? res : undefined;
      },
      15_000,
      300,
    );
    t.match(managed(later.stderr), 'replicas: 4 undoes HPA "late"');

    // The HPA deleted: replicas are the manifest's again.
    await kubectlOk(['delete', 'horizontalpodautoscaler', 'late', '-n', ns]);
    const gone = await waitFor(
      'the informer to drop the HPA',
      async () => {
        const res = await cluster.kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], deployment('late', 5));
        return res.code === 0 && !managed(res.stderr) ? res : undefined;
      },
      15_000,
      300,
    );
    t.notOk(managed(gone.stderr), 'no warning once the HPA is gone');
  });

  t.test('hpa-target-requests: the HPA judged against the live workload, the workload against the live HPA', async (t) => {
    // A Deployment without a cpu request is refused by resource-requests (deny); in an audited
    // namespace it is admitted with its warnings, and this policy's is one of them.
    const ns = 'hpa-requests';
    await kubectlOk(['create', 'namespace', ns]);
    await kubectlOk(['label', 'namespace', ns, 'practice-gate.io/mode=audit']);
    const hpaFor = (name: string) => variant('cluster-hpa.yaml', name, (d) => (d.spec.scaleTargetRef.name = name));
    const withoutCpu = (name: string, memory = '256Mi') =>
      variant('compliant.yaml', name, (d) => (d.spec.template.spec.containers[0].resources.requests = { memory }));
    const requests = (stderr: string) => warnings(stderr).find((l) => l.includes('[hpa-target-requests]'));
    const apply = (input: string, dryRun = false) =>
      cluster.kubectl(['apply', ...(dryRun ? ['--dry-run=server'] : []), '-n', ns, '-f', '-'], input);
    const until = (what: string, input: string, pass: (res: Awaited<ReturnType<typeof apply>>) => boolean) =>
      waitFor(
        what,
        async () => {
          const res = await apply(input, true);
          return res.code === 0 && pass(res) ? res : undefined;
        },
        15_000,
        300,
      );

    // The HPA first: its target does not exist yet, so nothing to say; then the workload is judged against it.
    const early = await apply(hpaFor('early'));
    t.equal(early.code, 0, early.stderr);
    t.notOk(requests(early.stderr), `no target yet: ${early.stderr}`);
    await until('the informer to see the HPA', withoutCpu('early'), (res) => requests(res.stderr) !== undefined);
    const created = await apply(withoutCpu('early'));
    t.match(created.stdout, 'deployment.apps/early created');
    t.match(requests(created.stderr), 'HPA "early" needs a cpu request: set it on container "app"');
    // The webhook fits its lines to 120 characters (src/server/messages.ts); kubectl puts `Warning: ` before them.
    const line = (requests(created.stderr) ?? '').replace(/^Warning: /, '');
    t.ok(line.length <= 120, `the webhook's line within 120 characters: ${line}`);
    const compliant = await apply(variant('compliant.yaml', 'early'), true);
    t.notOk(requests(compliant.stderr), `with its cpu request: ${compliant.stderr}`);

    // The workload first: no HPA, nothing to say; then the HPA is judged against the live Deployment.
    const late = await apply(withoutCpu('late'));
    t.equal(late.code, 0, late.stderr);
    t.notOk(requests(late.stderr), `no HPA yet: ${late.stderr}`);
    await until('the informer to see the Deployment', hpaFor('late'), (res) => requests(res.stderr) !== undefined);
    const hpa = await apply(hpaFor('late'));
    t.match(hpa.stdout, 'horizontalpodautoscaler.autoscaling/late created');
    t.match(requests(hpa.stderr), 'Deployment "late" needs a cpu request: set it on container "app"');
    const reported = await waitFor(
      'the audit to report the HPA',
      async () => resultsFor(await policyReport(ns), 'HorizontalPodAutoscaler', 'late', 'hpa-target-requests')[0],
      20_000,
      500,
    );
    t.match(
      reported,
      { result: 'warn', message: /Deployment "late" needs a cpu request: set it on container "app"/ },
      'in the PolicyReport too',
    );
    // autoscaling/v1 reaches the webhook as v2 (matchPolicy Equivalent): its CPU target is judged the same.
    const v1 = JSON.stringify({
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'late-v1' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'late' },
        maxReplicas: 3,
        targetCPUUtilizationPercentage: 50,
      },
    });
    const legacy = await apply(v1, true);
    t.equal(legacy.code, 0, legacy.stderr);
    t.match(requests(legacy.stderr), 'Deployment "late" needs a cpu request: set it on container "app"', 'an autoscaling/v1 HPA');

    // The HPA deleted: the workload's requests are no longer an HPA's business. The change of
    // the memory request makes the write one the webhook judges again (an unchanged apply sends nothing).
    const changed = withoutCpu('early', '300Mi');
    t.ok(requests((await apply(changed, true)).stderr), 'the change is judged while the HPA is there');
    await kubectlOk(['delete', 'horizontalpodautoscaler', 'early', '-n', ns]);
    const gone = await until('the informer to drop the HPA', changed, (res) => !requests(res.stderr));
    t.notOk(requests(gone.stderr), 'no warning once the HPA is gone');
  });

  t.test('pdb-allows-disruption judges a PDB write against the live Deployment it selects', async (t) => {
    const ns = 'drain-flow';
    await kubectlOk(['create', 'namespace', ns]);
    await kubectlOk(['apply', '-n', ns, '-f', '-'], manifest('replicated.yaml'));
    const budget = (minAvailable: number) =>
      variant('pdb.yaml', 'replicated', (d) => {
        delete d.spec.maxUnavailable;
        d.spec.minAvailable = minAvailable;
      });
    // The Deployment reaches the informer within moments; a server-side dry run tells when.
    await waitFor(
      'the informer to see the Deployment',
      async () => {
        const res = await cluster.kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], budget(3));
        return warns(res.stderr, 'pdb-allows-disruption') ? res : undefined;
      },
      15_000,
      300,
    );

    const holding = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], budget(3));
    t.equal(holding.code, 0, `a warning, not a denial: ${holding.stderr}`);
    t.match(holding.stdout, 'poddisruptionbudget.policy/replicated created');
    t.match(
      warnings(holding.stderr).find((l) => l.includes('[pdb-allows-disruption]')),
      'minAvailable 3 holds all of Deployment "replicated" (3 replicas)',
      'minAvailable 3 over 3 replicas blocks every drain, and kubectl says so',
    );

    const leaving = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], budget(2));
    t.equal(leaving.code, 0, leaving.stderr);
    t.match(leaving.stdout, 'poddisruptionbudget.policy/replicated configured');
    t.notOk(warns(leaving.stderr, 'pdb-allows-disruption'), `minAvailable 2 leaves a pod to evict: ${leaving.stderr}`);
  });

  t.test('practice-gate.io/mode=audit: one namespace audited, the others still enforced', async (t) => {
    await kubectlOk(['apply', '-f', '-'], manifest('cluster-mode-namespaces.yaml'));
    const denied = await cluster.kubectl(['apply', '-n', 'mode-enforce', '-f', '-'], manifest('root.yaml'));
    t.not(denied.code, 0, 'denied where no label says otherwise');
    t.match(denied.stderr, 'denied the request');
    t.match(denied.stderr, '[run-as-non-root]');

    const admitted = await waitFor(
      'the informer to see the namespace label',
      async () => {
        const res = await cluster.kubectl(['apply', '-n', 'mode-audit', '-f', '-'], manifest('root.yaml'));
        return res.code === 0 ? res : undefined;
      },
      15_000,
      300,
    );
    t.match(admitted.stdout, 'deployment.apps/root created');
    t.match(
      warnings(admitted.stderr).find((l) => l.includes('[run-as-non-root]')),
      /would/i,
      'the warning says what enforce would do',
    );
    t.ok((await get('/apis/apps/v1/namespaces/mode-audit/deployments/root')) !== undefined, 'stored in the audited namespace');
    t.equal(await get('/apis/apps/v1/namespaces/mode-enforce/deployments/root'), undefined, 'nothing stored in the enforced one');

    // Taking the label off enforces again: the label is read live, not at start.
    await kubectlOk(['label', 'namespace', 'mode-audit', 'practice-gate.io/mode-']);
    const again = await waitFor(
      'the informer to see the label removed',
      async () => {
        const res = await cluster.kubectl(['apply', '--dry-run=server', '-n', 'mode-audit', '-f', '-'], variant('root.yaml', 'root-again'));
        return res.code !== 0 ? res : undefined;
      },
      15_000,
      300,
    );
    t.match(again.stderr, '[run-as-non-root]');
  });
});

/**
 * Two serve processes with self-managed certificates in OWN_NS and these certificate timings,
 * registered (with no caBundle: they must patch it into both entries), started and answering;
 * stopped, and their webhook configuration and Secret deleted, when the test ends.
 */
async function selfManagedPair(t: Test, names: [string, string], webhookConfig: string, secret: string, timings: string[]) {
  const replica = (name: string) =>
    createWebhook(cluster, {
      name,
      selfManagedCerts: true,
      webhookConfig,
      env: { POD_NAME: name },
      args: ['--kubeconfig', cluster.kubeconfig, '--namespace', OWN_NS, '--cert-secret', secret, '--audit-interval', '0', ...timings],
    });
  const replicas = [await replica(names[0]), await replica(names[1])];
  t.teardown(async () => {
    await Promise.all(replicas.map((r) => r.process && r.stop()));
    await cluster.kubectl(['delete', 'validatingwebhookconfiguration', webhookConfig, '--ignore-not-found']);
    await cluster.kubectl(['delete', 'secret', secret, '-n', OWN_NS, '--ignore-not-found']);
  });
  await registerWebhooks(
    cluster,
    webhookConfig,
    replicas.map((r, i) => r.entry('Fail', `r${i}.validate.practice-gate.io`)),
  );
  await Promise.all(replicas.map((r) => r.start()));
  await waitForCanary(cluster, /denied the request/, 30_000);
  return replicas;
}

t.test('--self-managed-certs: two replicas started together share one CA, and a renewal fails no request', async (t) => {
  const configName = 'practice-gate-certs';
  const secret = 'e2e-certs-tls';
  // Renewal due 10 s after issue; the CA outlives the test.
  const replicas = await selfManagedPair(t, ['certs-a', 'certs-b'], configName, secret, [
    '--cert-validity',
    '40s',
    '--cert-renew-before',
    '30s',
    '--ca-validity',
    '1h',
  ]);

  const stored = await get(`/api/v1/namespaces/${OWN_NS}/secrets/${secret}`);
  const data = Object.fromEntries(
    Object.entries((stored?.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
  t.same(
    Object.keys(data).sort(),
    ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'],
    'one Secret: one CA and its serving pair, no rotation under way',
  );
  const caPem = data['ca.crt'] ?? '';
  t.equal(caPem.match(/BEGIN CERTIFICATE/g)?.length, 1, 'exactly one CA');
  const ca = new X509Certificate(caPem);
  const webhooks = ((await get(`/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${configName}`))?.webhooks ??
    []) as Obj[];
  t.equal(webhooks.length, 2);
  for (const w of webhooks) {
    t.equal(
      Buffer.from(String(w.clientConfig?.caBundle ?? ''), 'base64')
        .toString('utf8')
        .trim(),
      caPem.trim(),
      `caBundle of ${String(w.name)} is the Secret's CA`,
    );
  }
  const initial = new X509Certificate(data['tls.crt'] ?? '');
  for (const r of replicas) {
    const served = await r.servedCertificate();
    t.equal(served.fingerprint256, initial.fingerprint256, `${r.logFile}: serves the Secret's certificate`);
    t.ok(served.checkIssued(ca) && served.verify(ca.publicKey), 'signed by the one CA');
  }
  const written = replicas.flatMap((r) => logEvents(r, 'certs-written'));
  t.equal(written.length, 1, `one replica wrote the Secret, the other used it: ${JSON.stringify(written.map((w) => w.reasons))}`);
  const conflicts = replicas.flatMap((r) => logEvents(r, 'certs-conflict')).length;
  t.comment(`start race: ${conflicts} write conflict(s) resolved by reading the Secret again`);

  const judged = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], manifest('root.yaml'));
  t.match(judged.stderr, /admission webhook "r[01]\.validate\.practice-gate\.io" denied the request/);
  for (const r of replicas) {
    t.ok(
      (metric(await r.metrics(), 'practice_gate_admission_requests_total', { kind: 'Deployment', decision: 'deny' }) ?? 0) > 0,
      `${r.logFile}: the API server called it`,
    );
  }

  // Keep applying while the serving certificate is renewed, until both replicas serve a new one.
  // Alongside, new TLS connections (what a restarted API server would open) check what each
  // replica serves: the API server's kept-alive connections alone would not notice an expired one.
  let stop = false;
  const outcomes: { code: number | null; stderr: string; startedAt: number }[] = [];
  const unusable: string[] = [];
  const applies = (async () => {
    while (!stop) {
      const startedAt = Date.now();
      const res = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], manifest('compliant.yaml'));
      outcomes.push({ code: res.code, stderr: res.stderr, startedAt });
    }
  })();
  const handshakes = (async () => {
    while (!stop) {
      for (const r of replicas) {
        const served = await r.servedCertificate();
        const now = Date.now();
        if (
          !(served.checkIssued(ca) && served.verify(ca.publicKey)) ||
          Date.parse(served.validTo) <= now ||
          Date.parse(served.validFrom) > now
        ) {
          unusable.push(
            `${new Date(now).toISOString()} ${r.logFile}: serves ${served.fingerprint256.slice(0, 11)} valid ${served.validFrom} - ${served.validTo}`,
          );
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const started = Date.now();
  // When a replica was last seen serving the first certificate, and when both served the renewed one.
  let initialSeenAt: number | undefined;
  let renewedAt = Infinity;
  try {
    await waitFor(
      'both replicas to serve a renewed certificate',
      async () => {
        const served = await Promise.all(replicas.map((r) => r.servedCertificate()));
        if (served.every((c) => c.fingerprint256 !== initial.fingerprint256)) return true;
        initialSeenAt = Date.now();
        return undefined;
      },
      30_000,
      500,
    );
    renewedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2_000));
    await waitFor(
      'an apply started after the renewal',
      async () => (outcomes.some((o) => o.startedAt > renewedAt) ? true : undefined),
      60_000,
      100,
    );
  } finally {
    stop = true;
    await Promise.all([applies, handshakes]);
  }
  t.comment(`renewed ${((Date.now() - started) / 1000).toFixed(1)} s into the loop; ${outcomes.length} applies`);
  const failed = outcomes.filter((o) => o.code !== 0);
  t.ok(
    outcomes.some((o) => initialSeenAt !== undefined && o.startedAt < initialSeenAt),
    'applies ran while the first certificate was served',
  );
  t.ok(
    outcomes.some((o) => o.startedAt > renewedAt),
    'and after both replicas served the renewed one',
  );
  t.same(
    failed.map((f) => f.stderr.trim()),
    [],
    'no apply failed during the renewal',
  );
  t.same(unusable.slice(0, 5), [], `a new connection always got a valid certificate (${unusable.length} did not)`);

  const after = await get(`/api/v1/namespaces/${OWN_NS}/secrets/${secret}`);
  t.equal(Buffer.from(String(after?.data?.['ca.crt']), 'base64').toString('utf8'), caPem, 'renewed under the same CA');
  const renewed = new X509Certificate(Buffer.from(String(after?.data?.['tls.crt']), 'base64').toString('utf8'));
  t.ok(renewed.checkIssued(ca), 'the new certificate is signed by it');
  const bundles = ((await get(`/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${configName}`))?.webhooks ??
    []) as Obj[];
  t.ok(
    bundles.every((w) => Buffer.from(String(w.clientConfig?.caBundle), 'base64').toString('utf8').trim() === caPem.trim()),
    'caBundle unchanged',
  );
  for (const r of replicas)
    t.ok(await r.logged('certs-loaded twice', (e) => e.event === 'certs-loaded', 2), `${r.logFile}: reloaded the renewed certificate`);
});

// The replicas are registered by URL on 127.0.0.1 and have no Service, so no EndpointSlices:
// the API server refuses loopback addresses in them, and tests send traffic to loopback only.
// Retirement is then decided by the overlap; the endpoint check itself is tested in
// test/cluster/rollout.test.ts against real TLS servers on 127.0.0.1.
t.test('--self-managed-certs: a forced CA rotation (stage, switch, retire) fails no request', async (t) => {
  const configName = 'practice-gate-rotation';
  const secret = 'e2e-rotation-tls';
  // The CA is staged 40 s after start, switched 5 s later; the old CA retires 10 s after that,
  // long before it expires (90 s).
  const replicas = await selfManagedPair(t, ['rot-a', 'rot-b'], configName, secret, [
    '--cert-validity',
    '60s',
    '--cert-renew-before',
    '50s',
    '--ca-validity',
    '90s',
    '--ca-propagation',
    '5s',
    '--ca-overlap',
    '10s',
  ]);

  const secretData = async (): Promise<Record<string, string>> => {
    const stored = await get(`/api/v1/namespaces/${OWN_NS}/secrets/${secret}`);
    return Object.fromEntries(
      Object.entries((stored?.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
  };
  const firstCa = new X509Certificate((await secretData())['ca.crt'] ?? '');

  let stop = false;
  const outcomes: { code: number | null; stderr: string; startedAt: number }[] = [];
  const applies = (async () => {
    while (!stop) {
      const startedAt = Date.now();
      const res = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], manifest('compliant.yaml'));
      outcomes.push({ code: res.code, stderr: res.stderr, startedAt });
    }
  })();
  let firstCaSeenAt: number | undefined;
  let switchedAt: number | undefined;
  let retiredAt: number | undefined;
  try {
    await waitFor(
      'the switch to a new CA, then the old CA retired',
      async () => {
        const data = await secretData();
        const signing = new X509Certificate(data['ca.crt'] ?? '');
        if (signing.fingerprint256 === firstCa.fingerprint256) {
          firstCaSeenAt = Date.now();
          return undefined;
        }
        if (data['ca-prev.crt'] !== undefined && new X509Certificate(data['ca-prev.crt']).fingerprint256 === firstCa.fingerprint256) {
          switchedAt ??= Date.now();
          return undefined;
        }
        retiredAt = Date.now();
        return true;
      },
      120_000,
      250,
    );
    await new Promise((r) => setTimeout(r, 2_000));
    const retired = retiredAt ?? Infinity;
    await waitFor(
      'an apply started after the old CA retired',
      async () => (outcomes.some((o) => o.startedAt > retired) ? true : undefined),
      60_000,
      100,
    );
  } finally {
    stop = true;
    await applies;
  }
  t.ok(switchedAt, 'seen switched, with the first CA as ca-prev');
  t.ok(
    (retiredAt ?? Infinity) < Date.parse(firstCa.validTo),
    `the first CA retired before it expired (${firstCa.validTo}), so not by the expiry bound`,
  );
  t.same(
    replicas
      .flatMap((r) => logEvents(r, 'replicas-check-mode'))
      .map((e) => e.mode)
      .filter((m, i, all) => all.indexOf(m) === i),
    ['time'],
    'no EndpointSlices: retired after the overlap, and the log says so',
  );
  t.same(
    replicas.flatMap((r) => logEvents(r, 'ca-prev-expired')),
    [],
    'no CA left by expiry',
  );
  const failed = outcomes.filter((o) => o.code !== 0);
  t.ok(
    outcomes.some((o) => firstCaSeenAt !== undefined && o.startedAt < firstCaSeenAt),
    'applies ran while the first CA still signed',
  );
  t.ok(
    outcomes.some((o) => o.startedAt > (retiredAt ?? Infinity)),
    'and after it retired',
  );
  t.same(
    failed.map((f) => f.stderr.trim()),
    [],
    'no apply failed during the rotation',
  );
});

t.test('cluster audit: PolicyReports for workloads that predate the webhook, written by the Lease holder only', async (t) => {
  const ns = 'reports';
  const optedOut = 'reports-opted-out';
  const leaseName = 'e2e-reports';
  // Created before any replica runs (and with no webhook registered): only the audit can see them.
  await kubectlOk(['create', 'namespace', ns]);
  // A namespace-wide NetworkPolicy, so that network-policy-coverage adds no result to the ones this test counts.
  await kubectlOk(
    ['apply', '-n', ns, '-f', '-'],
    JSON.stringify({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'all-pods' },
      spec: { podSelector: {} },
    }),
  );
  await kubectlOk(['apply', '-n', ns, '-f', '-'], manifest('root.yaml'));
  await kubectlOk(['apply', '-n', ns, '-f', '-'], manifest('warn-only.yaml'));
  await kubectlOk(['create', 'namespace', optedOut]);
  await kubectlOk(['label', 'namespace', optedOut, 'practice-gate.io/ignore=true']);
  await kubectlOk(['apply', '-n', optedOut, '-f', '-'], manifest('root.yaml'));
  // The audit judges what this configuration's selectors would send the webhook (as the chart
  // renders them); its matchCondition keeps the API server from ever calling it.
  const scopeConfig = 'e2e-audit-scope';
  await kubectlOk(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: scopeConfig },
      webhooks: [
        {
          name: 'scope.practice-gate.io',
          clientConfig: { url: 'https://127.0.0.1:9/validate' },
          rules: [{ apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'], operations: ['CREATE', 'UPDATE'] }],
          namespaceSelector: {
            matchExpressions: [
              { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [OWN_NS, 'kube-system'] },
              { key: 'practice-gate.io/ignore', operator: 'NotIn', values: ['true'] },
            ],
          },
          matchConditions: [{ name: 'never-called', expression: 'false' }],
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          failurePolicy: 'Ignore',
        },
      ],
    }),
  );
  t.teardown(() => cluster.kubectl(['delete', 'validatingwebhookconfiguration', scopeConfig, '--ignore-not-found']));

  const replica = (name: string) =>
    createWebhook(cluster, {
      name,
      env: { POD_NAME: name },
      args: [
        '--kubeconfig',
        cluster.kubeconfig,
        '--namespace',
        OWN_NS,
        '--audit-interval',
        '3s',
        '--lease-name',
        leaseName,
        '--webhook-config',
        scopeConfig,
      ],
    });
  const replicas = [await replica('audit-a'), await replica('audit-b')];
  t.teardown(() => Promise.all(replicas.map((r) => r.process && r.stop())));
  await Promise.all(replicas.map((r) => r.start()));

  const holder = await waitFor(
    'a replica to hold the Lease',
    async () => {
      const id = (await lease(leaseName))?.spec?.holderIdentity as string | undefined;
      return id ? id : undefined;
    },
    20_000,
    300,
  );
  const leader = replicas.find((r) => r.logFile.includes(`/${holder}/`));
  const follower = replicas.find((r) => r !== leader);
  if (!leader || !follower) throw new Error(`Lease held by ${holder}, not by a replica of this test`);

  const first = await waitFor(
    'the PolicyReport of the pre-existing workloads',
    async () => {
      const report = await policyReport(ns);
      return resultsFor(report, 'Deployment', 'root', 'run-as-non-root').length > 0 &&
        resultsFor(report, 'Deployment', 'warn-only').length > 0
        ? report
        : undefined;
    },
    20_000,
    500,
  );
  t.match(first.metadata, { name: 'practice-gate', namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'practice-gate' } });
  const rootUid = (await get(`/apis/apps/v1/namespaces/${ns}/deployments/root`))?.metadata?.uid as string;
  t.match(resultsFor(first, 'Deployment', 'root', 'run-as-non-root')[0], {
    source: 'practice-gate',
    result: 'fail',
    severity: 'high',
    message: /container "app" may run as root/,
    properties: { action: 'deny', container: 'app' },
    resources: [{ kind: 'Deployment', name: 'root', namespace: ns, uid: rootUid }],
  });
  t.same(
    resultsFor(first, 'Deployment', 'warn-only')
      .map((r) => [r.policy, r.result])
      .sort(),
    [
      ['liveness-probe', 'warn'],
      ['memory-limit', 'warn'],
    ],
    'the warn-level findings of warn-only',
  );
  t.equal(first.summary.fail, 1);
  t.equal(await policyReport(optedOut), undefined, 'no report for a namespace the webhook configuration leaves out');
  t.match(
    (await leader.logged('audit-scope', (e) => e.event === 'audit-scope'))[0],
    { source: `ValidatingWebhookConfiguration ${scopeConfig}` },
    'the audit says whose selectors it follows',
  );

  const leaderMetrics = await leader.metrics();
  const followerMetrics = await follower.metrics();
  t.equal(metric(leaderMetrics, 'practice_gate_audit_leader'), 1, `${holder} runs the audit`);
  t.ok((metric(leaderMetrics, 'practice_gate_audit_scans_total', { result: 'success' }) ?? 0) >= 1);
  t.equal(metric(followerMetrics, 'practice_gate_audit_leader'), 0, 'the other does not');
  t.equal(metric(followerMetrics, 'practice_gate_audit_scans_total', { result: 'success' }), undefined, 'and never scanned');
  t.equal(logEvents(follower, 'scan-done').length, 0, 'no scan in the follower log');
  t.equal(
    metric(leaderMetrics, 'practice_gate_violations', { namespace: ns, policy: 'run-as-non-root', action: 'deny' }),
    1,
    'the leader counts the violation',
  );
  t.equal(
    metric(followerMetrics, 'practice_gate_violations', { namespace: ns, policy: 'run-as-non-root', action: 'deny' }),
    undefined,
    'the follower has no samples',
  );

  // Fixed: the result goes, the report stays.
  await kubectlOk(['apply', '-n', ns, '-f', '-'], variant('root.yaml', 'root', runAsNonRoot));
  const fixed = await waitFor(
    'the report to drop the fixed Deployment',
    async () => {
      const report = await policyReport(ns);
      return report && resultsFor(report, 'Deployment', 'root').length === 0 ? report : undefined;
    },
    20_000,
    500,
  );
  t.equal(fixed.summary.fail, 0);
  t.equal(resultsFor(fixed, 'Deployment', 'warn-only').length, 2, 'the unfixed one is still reported');
  t.equal(logEvents(follower, 'scan-done').length, 0, 'still only the leader scans');

  // The leader goes: the other takes the Lease within the lease duration (15 s).
  const before = (await lease(leaseName))?.spec as Obj;
  const stoppedAt = Date.now();
  t.equal(await leader.stop(), 0, 'the leader exits 0 on SIGTERM');
  const next = await waitFor(
    'the other replica to take the Lease',
    async () => {
      const spec = (await lease(leaseName))?.spec as Obj | undefined;
      return spec?.holderIdentity && spec.holderIdentity !== holder ? spec : undefined;
    },
    15_000,
    200,
  );
  t.comment(`Lease taken over ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after SIGTERM to ${holder}`);
  t.ok(
    follower.logFile.includes(`/${String(next.holderIdentity)}/`),
    `the Lease moved to the other replica (${String(next.holderIdentity)})`,
  );
  t.ok(next.leaseTransitions > (before.leaseTransitions ?? 0), 'leaseTransitions counts the change');
  t.equal(logEvents(leader, 'lease-released').length, 1, 'the leader handed the Lease back on its way out');

  await kubectlOk(['apply', '-n', ns, '-f', '-'], variant('root.yaml', 'late-root'));
  const later = await waitFor(
    'the new leader to report a new finding',
    async () => {
      const [result] = resultsFor(await policyReport(ns), 'Deployment', 'late-root', 'run-as-non-root');
      return result;
    },
    20_000,
    500,
  );
  t.equal(later.result, 'fail');
  t.equal(metric(await follower.metrics(), 'practice_gate_audit_leader'), 1, 'the new leader runs the audit');
  t.ok(await follower.logged('scan-done', (e) => e.event === 'scan-done'), 'and its log shows its scans');
});
