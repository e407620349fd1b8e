// What the chart renders, as an admin would meet it in the cluster: the webhook
// configuration that can or cannot block namespaces, the RBAC it is granted, the pod it
// runs, the certificates per mode.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import t from 'tap';
import { parse } from 'yaml';
import { POLICIES } from '../../policies/index.js';
import { DEFAULT_WEBHOOK_PORT_NAME } from '../../src/cluster/certs/rollout.js';
import { chartRegistry } from '../../src/registry/chart.js';
import { WEBHOOK_NAME } from '../../src/server/webhook-name.js';
import { selectorMatches } from '../../src/engine/index.js';
import { FULLNAME, NAMESPACE, ciValuesFiles, kinds, one, render } from './helm.js';

type Obj = Record<string, any>;

const VWC = 'ValidatingWebhookConfiguration';
const SERVICE_DNS = `${FULLNAME}.${NAMESPACE}.svc`;

function webhookOf(objects: Obj[]): Obj {
  const vwc = one(objects, VWC);
  t.equal(vwc.webhooks.length, 1, 'one webhook in the configuration');
  return vwc.webhooks[0];
}

function deploymentPod(objects: Obj[]): Obj {
  return one(objects, 'Deployment').spec.template;
}

function args(objects: Obj[]): string[] {
  return deploymentPod(objects).spec.containers[0].args;
}

function excludedNamespaces(webhook: Obj): string[] {
  const expr = webhook.namespaceSelector.matchExpressions.find((e: Obj) => e.key === 'kubernetes.io/metadata.name');
  t.equal(expr?.operator, 'NotIn', 'namespaces are excluded by name with NotIn');
  return expr.values;
}

function rulesOf(role: Obj): Obj[] {
  return role.rules.map((r: Obj) => ({ ...r }));
}

// What docs/rbac.md says `practice-gate serve` calls, feature by feature. The kinds follow from the
// registry (src/registry/chart.ts): the informers' context, always; the other judged kinds for the scan.
const REGISTRY = chartRegistry(POLICIES);
const INFORMER_RULES = REGISTRY.informerRules;
const AUDIT_RULES = [
  ...REGISTRY.auditRules,
  { apiGroups: ['wgpolicyk8s.io'], resources: ['policyreports'], verbs: ['list', 'create', 'update', 'delete'] },
];
const VWC_AUDIT_RULE = {
  apiGroups: ['admissionregistration.k8s.io'],
  resources: ['validatingwebhookconfigurations'],
  resourceNames: [FULLNAME],
  verbs: ['get'],
};
const VWC_RULE = {
  apiGroups: ['admissionregistration.k8s.io'],
  resources: ['validatingwebhookconfigurations'],
  resourceNames: [FULLNAME],
  verbs: ['get', 'patch'],
};
const CERT_RULES = [
  { apiGroups: [''], resources: ['secrets'], resourceNames: [`${FULLNAME}-tls`], verbs: ['get', 'list', 'watch', 'update'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
  // The Service's endpoints, probed before the old CA leaves caBundle.
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list'] },
];
const LEASE_RULES = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [`${FULLNAME}-audit`], verbs: ['get', 'update'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
];

t.test('default values', async (t) => {
  const objects = render();
  t.same(
    kinds(objects),
    [
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'CustomResourceDefinition',
      'Deployment',
      'NetworkPolicy',
      'Pod',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Secret',
      'Service',
      'ServiceAccount',
      VWC,
    ].sort(),
    'renders the webhook, its RBAC, certificates, PolicyReport CRD and test pod',
  );

  t.test('webhook configuration', async (t) => {
    const webhook = webhookOf(objects);
    t.equal(webhook.name, WEBHOOK_NAME, 'the name serve --dev gives it: one audit annotation key however it was installed');
    t.equal(webhook.sideEffects, 'None');
    t.same(webhook.admissionReviewVersions, ['v1']);
    t.equal(webhook.matchPolicy, 'Equivalent');
    t.equal(webhook.failurePolicy, 'Ignore', 'a fresh install never blocks writes when the webhook is down');
    t.equal(webhook.timeoutSeconds, 5);
    t.same(webhook.clientConfig.service, { name: FULLNAME, namespace: NAMESPACE, path: '/validate', port: 443 });
    t.same(excludedNamespaces(webhook), [NAMESPACE, 'kube-system'], 'its own namespace and kube-system are never seen');
    t.same(
      webhook.namespaceSelector.matchExpressions.find((e: Obj) => e.key === 'practice-gate.io/ignore'),
      { key: 'practice-gate.io/ignore', operator: 'NotIn', values: ['true'] },
      'a namespace opts out with practice-gate.io/ignore=true',
    );
    t.notOk(webhook.objectSelector, 'no objectSelector unless asked for');
    t.same(webhook.matchConditions, [{ name: 'not-terminating', expression: '!has(object.metadata.deletionTimestamp)' }]);
    const ops = new Set(webhook.rules.map((r: Obj) => r.operations.join(',')));
    t.same([...ops], ['CREATE,UPDATE'], 'every rule covers CREATE and UPDATE only');
    const covered = webhook.rules.flatMap((r: Obj) =>
      r.resources.map((res: string) => `${r.apiGroups[0] || 'core'}/${r.apiVersions[0]}/${res}`),
    );
    t.same(covered.sort(), [
      'apps/v1/daemonsets',
      'apps/v1/deployments',
      'apps/v1/replicasets',
      'apps/v1/statefulsets',
      'autoscaling/v2/horizontalpodautoscalers',
      'batch/v1/cronjobs',
      'batch/v1/jobs',
      'core/v1/pods',
      'core/v1/podtemplates',
      'core/v1/replicationcontrollers',
      'policy/v1/poddisruptionbudgets',
    ]);
    t.same(webhook.rules, REGISTRY.webhookRules, 'the rules serve --dev prints');
    t.notOk(one(objects, VWC).metadata.annotations?.['helm.sh/resource-policy'], 'uninstall removes the configuration');
  });

  t.test('RBAC is what the default features need', async (t) => {
    t.same(
      rulesOf(one(objects, 'ClusterRole')),
      [...INFORMER_RULES, ...AUDIT_RULES, VWC_AUDIT_RULE],
      'the audit reads its own webhook configuration, by name, to judge what it is sent',
    );
    t.same(rulesOf(one(objects, 'Role')), LEASE_RULES, 'leader election for the cluster scan, its own Lease by name');
    for (const binding of [one(objects, 'ClusterRoleBinding'), one(objects, 'RoleBinding')]) {
      t.same(binding.subjects, [{ kind: 'ServiceAccount', name: FULLNAME, namespace: NAMESPACE }]);
      t.equal(binding.roleRef.name, FULLNAME);
    }
  });

  t.test('the webhook pod', async (t) => {
    const deployment = one(objects, 'Deployment');
    t.equal(deployment.spec.replicas, 2);
    const pod = deployment.spec.template;
    const spec = pod.spec;
    const [container] = spec.containers;
    t.equal(container.image, 'practice-gate:0.1.0', 'a pinned tag: the chart appVersion');
    t.same(container.command, [
      'node',
      '--enable-source-maps',
      '--max-semi-space-size=16',
      '--heap-growing-percent=200',
      '/app/dist/cli/practice-gate.js',
      'serve',
    ]);
    t.same(spec.securityContext, {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    t.same(container.securityContext, {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    t.same(container.resources, { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } });
    const probePort = container.ports.find((p: Obj) => p.name === container.readinessProbe.httpGet.port);
    t.equal(probePort?.containerPort, 8080, 'probes hit the plain-HTTP probe port');
    t.equal(container.readinessProbe.httpGet.path, '/readyz');
    t.equal(container.livenessProbe.httpGet.path, '/healthz');
    t.same(container.lifecycle, { preStop: { sleep: { seconds: 10 } } }, 'the kubelet sleep action on 1.30+');
    t.equal(spec.terminationGracePeriodSeconds, 40);
    t.equal(spec.automountServiceAccountToken, true);
    t.notOk(spec.priorityClassName);
    t.same(spec.topologySpreadConstraints, [
      {
        topologyKey: 'kubernetes.io/hostname',
        maxSkew: 1,
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: deployment.spec.selector.matchLabels },
        matchLabelKeys: ['pod-template-hash'],
      },
    ]);
    t.same(
      container.env.map((e: Obj) => [e.name, e.value ?? e.valueFrom.fieldRef.fieldPath]),
      [
        ['POD_NAME', 'metadata.name'],
        ['POD_NAMESPACE', 'metadata.namespace'],
        ['GLIBC_TUNABLES', 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=33554432'],
      ],
    );
    const a = args(objects);
    for (const flag of [
      '--port=8443',
      '--host=0.0.0.0',
      '--probe-port=8080',
      '--config=/etc/practice-gate/config/config.yaml',
      '--on-error=allow',
      '--shutdown-timeout=25',
      '--audit-interval=10m',
      `--lease-name=${FULLNAME}-audit`,
      '--lease-duration=15s',
      '--lease-renew-deadline=10s',
      '--lease-retry-period=2s',
      `--webhook-config=${FULLNAME}`,
      '--tls-cert=/etc/practice-gate/tls/tls.crt',
      '--tls-key=/etc/practice-gate/tls/tls.key',
    ]) {
      t.ok(a.includes(flag), `passes ${flag}`);
    }
    t.notOk(a.includes('--self-managed-certs'));
    const volumes = Object.fromEntries(spec.volumes.map((v: Obj) => [v.name, v]));
    t.equal(volumes.tls.secret.secretName, `${FULLNAME}-tls`);
    t.equal(volumes.config.configMap.name, `${FULLNAME}-config`);
    t.same(container.volumeMounts.map((m: Obj) => m.mountPath).sort(), ['/etc/practice-gate/config', '/etc/practice-gate/tls', '/tmp']);
  });

  t.test('the PodDisruptionBudget covers the webhook pods and nothing else', async (t) => {
    const pdb = one(objects, 'PodDisruptionBudget');
    t.equal(pdb.spec.maxUnavailable, 1, 'one pod may go: drains proceed, one replica keeps serving');
    t.ok(selectorMatches(pdb.spec.selector, deploymentPod(objects).metadata.labels), 'selects the Deployment pods');
    t.notOk(selectorMatches(pdb.spec.selector, one(objects, 'Pod').metadata.labels), 'does not select the helm test pod');
    t.ok(selectorMatches({ matchLabels: one(objects, 'Service').spec.selector }, deploymentPod(objects).metadata.labels));
    t.notOk(selectorMatches({ matchLabels: one(objects, 'Service').spec.selector }, one(objects, 'Pod').metadata.labels));
  });

  t.test('the NetworkPolicy selects the webhook pods and the test pod and admits the webhook and metrics ports only', async (t) => {
    const policy = one(objects, 'NetworkPolicy');
    t.ok(selectorMatches(policy.spec.podSelector, deploymentPod(objects).metadata.labels), 'selects the Deployment pods');
    t.ok(selectorMatches(policy.spec.podSelector, one(objects, 'Pod').metadata.labels), 'and the helm test pod');
    t.same(policy.spec.policyTypes, ['Ingress'], 'egress stays open: the pods call the API server');
    const named = deploymentPod(objects).spec.containers[0].ports.map((p: Obj) => p.name);
    t.same(
      policy.spec.ingress.flatMap((rule: Obj) => rule.ports.map((p: Obj) => p.port)),
      named,
      "the container's ports by name",
    );
    t.notOk(
      policy.spec.ingress.some((rule: Obj) => rule.from),
      'from every source: the API server calls from the control plane',
    );
  });

  t.test('the Service', async (t) => {
    const svc = one(objects, 'Service');
    t.same(
      svc.spec.ports.map((p: Obj) => [p.port, p.targetPort]),
      [
        [443, 'https-webhook'],
        [8080, 'http-metrics'],
      ],
    );
    const ports = deploymentPod(objects).spec.containers[0].ports.map((p: Obj) => [p.name, p.containerPort]);
    t.same(ports, [
      ['https-webhook', 8443],
      ['http-metrics', 8080],
    ]);
  });

  t.test('the config file', async (t) => {
    const config = parse(one(objects, 'ConfigMap').data['config.yaml']);
    t.same(
      config,
      { mode: 'audit', policies: {}, exemptions: [], objectExemptions: false, controllers: [] },
      'audit mode on a fresh install',
    );
  });

  t.test('helm-generated certificates', async (t) => {
    const secret = one(objects, 'Secret');
    t.equal(secret.type, 'kubernetes.io/tls');
    t.equal(secret.metadata.name, `${FULLNAME}-tls`);
    const pem = (key: string) => Buffer.from(secret.data[key], 'base64').toString('utf8');
    const ca = new X509Certificate(pem('ca.crt'));
    const cert = new X509Certificate(pem('tls.crt'));
    t.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'the serving certificate is signed by the CA');
    t.ok(cert.checkHost(SERVICE_DNS), `valid for ${SERVICE_DNS}, the name the API server calls`);
    t.ok(cert.subjectAltName?.includes(`DNS:${SERVICE_DNS}`));
    t.equal(createPrivateKey(pem('tls.key')).asymmetricKeyDetails?.modulusLength, 2048, 'a 2048-bit RSA key');
    t.ok(cert.checkPrivateKey(createPrivateKey(pem('tls.key'))), 'key and certificate belong together');
    t.equal(webhookOf(objects).clientConfig.caBundle, secret.data['ca.crt'], 'the API server trusts exactly that CA');
    t.ok(
      Date.parse(secret.metadata.annotations['practice-gate.io/cert-not-after']) > Date.now() + 3000 * 86_400_000,
      'valid for ~10 years',
    );
    t.equal(
      secret.metadata.annotations['practice-gate.io/cert-dns-names'],
      [FULLNAME, `${FULLNAME}.${NAMESPACE}`, SERVICE_DNS, `${SERVICE_DNS}.cluster.local`].join(','),
    );
  });

  t.test('the PolicyReport CRD', async (t) => {
    const crd = one(objects, 'CustomResourceDefinition');
    t.equal(crd.metadata.name, 'policyreports.wgpolicyk8s.io');
    t.equal(crd.spec.scope, 'Namespaced');
    t.same(
      crd.spec.versions.map((v: Obj) => [v.name, v.served, v.storage]),
      [['v1alpha2', true, true]],
    );
    t.equal(crd.metadata.annotations['helm.sh/resource-policy'], 'keep', 'reports of other tools survive an uninstall');
  });

  t.test('the helm test pod', async (t) => {
    const pod = one(objects, 'Pod');
    t.equal(pod.metadata.annotations['helm.sh/hook'], 'test');
    t.equal(pod.spec.restartPolicy, 'Never');
    t.equal(pod.spec.automountServiceAccountToken, false, 'the test needs no API access');
    t.same(
      pod.spec.containers[0].securityContext,
      deploymentPod(objects).spec.containers[0].securityContext,
      'as locked down as the webhook',
    );
    t.equal(pod.spec.containers[0].image, 'practice-gate:0.1.0');
    t.match(pod.spec.containers[0].args[0], `https.request`);
    t.match(pod.spec.containers[0].args[0], SERVICE_DNS);
  });
});

t.test('certs.mode=certManager', async (t) => {
  const objects = render(['--set', 'certs.mode=certManager']);
  t.equal(objects.filter((o) => o.kind === 'Secret').length, 0, 'cert-manager writes the Secret, not the chart');
  const vwc = one(objects, VWC);
  t.equal(vwc.metadata.annotations['cert-manager.io/inject-ca-from'], `${NAMESPACE}/${FULLNAME}-serving`);
  t.notOk(vwc.webhooks[0].clientConfig.caBundle, 'the cainjector fills caBundle');
  const serving = one(objects, 'Certificate', `${FULLNAME}-serving`);
  t.equal(serving.spec.secretName, deploymentPod(objects).spec.volumes.find((v: Obj) => v.name === 'tls').secret.secretName);
  t.ok(serving.spec.dnsNames.includes(SERVICE_DNS));
  t.same(serving.spec.issuerRef, { name: `${FULLNAME}-ca`, kind: 'Issuer', group: 'cert-manager.io' });
  const ca = one(objects, 'Certificate', `${FULLNAME}-ca`);
  t.equal(ca.spec.isCA, true);
  t.equal(ca.spec.issuerRef.name, `${FULLNAME}-selfsigned`);
  t.same(one(objects, 'Issuer', `${FULLNAME}-selfsigned`).spec, { selfSigned: {} });
  t.same(one(objects, 'Issuer', `${FULLNAME}-ca`).spec, { ca: { secretName: ca.spec.secretName } });
  t.notOk(args(objects).includes('--self-managed-certs'));
  t.same(rulesOf(one(objects, 'ClusterRole')), [...INFORMER_RULES, ...AUDIT_RULES, VWC_AUDIT_RULE], 'no extra RBAC');

  const external = render(['--values', 'charts/practice-gate/ci/certs-cert-manager-issuer-values.yaml']);
  t.equal(external.filter((o) => o.kind === 'Issuer').length, 0, 'an existing issuer needs no chart CA chain');
  t.same(one(external, 'Certificate').spec.issuerRef, { name: 'internal-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' });
});

t.test('certs.mode=selfManaged', async (t) => {
  const objects = render(['--set', 'certs.mode=selfManaged']);
  t.equal(objects.filter((o) => o.kind === 'Secret').length, 0, 'the binary creates its Secret');
  const vwc = one(objects, VWC);
  t.notOk(vwc.webhooks[0].clientConfig.caBundle, 'no caBundle for upgrades to overwrite: the binary patches it');
  t.notOk(vwc.metadata.annotations);
  const a = args(objects);
  for (const flag of ['--self-managed-certs', `--cert-secret=${FULLNAME}-tls`, `--webhook-config=${FULLNAME}`, `--service=${FULLNAME}`]) {
    t.ok(a.includes(flag), `passes ${flag}`);
  }
  t.notOk(
    a.some((x) => x.startsWith('--tls-cert')),
    'no certificate files',
  );
  t.notOk(deploymentPod(objects).spec.volumes.some((v: Obj) => v.name === 'tls'));
  t.same(
    rulesOf(one(objects, 'ClusterRole')),
    [...INFORMER_RULES, ...AUDIT_RULES, VWC_RULE],
    'may patch only its own webhook configuration',
  );
  t.same(rulesOf(one(objects, 'Role')), [...CERT_RULES, ...LEASE_RULES]);
  t.equal(one(objects, 'Role').metadata.namespace, NAMESPACE, 'Secrets of its own namespace only');
  // The binary probes the endpoints of --service on the EndpointSlice port of this name.
  const service = one(objects, 'Service');
  t.equal(service.metadata.name, FULLNAME, 'the Service --service names');
  t.ok(
    service.spec.ports.some((p: Obj) => p.name === DEFAULT_WEBHOOK_PORT_NAME),
    `its webhook port is named ${DEFAULT_WEBHOOK_PORT_NAME}`,
  );

  const noAudit = render(['--set', 'certs.mode=selfManaged', '--set', 'clusterAudit.enabled=false']);
  t.same(rulesOf(one(noAudit, 'ClusterRole')), [...INFORMER_RULES, VWC_RULE]);
  t.same(rulesOf(one(noAudit, 'Role')), CERT_RULES, 'no Lease: replicas agree on one CA through resourceVersion conflicts');
});

t.test('clusterAudit.enabled=false drops the scan, its RBAC and the CRD', async (t) => {
  const objects = render(['--set', 'clusterAudit.enabled=false']);
  t.same(rulesOf(one(objects, 'ClusterRole')), INFORMER_RULES);
  t.equal(objects.filter((o) => o.kind === 'Role' || o.kind === 'RoleBinding').length, 0, 'no lease needed');
  t.equal(objects.filter((o) => o.kind === 'CustomResourceDefinition').length, 0);
  t.ok(args(objects).includes('--audit-interval=0'));
  t.notOk(args(objects).some((a) => a.startsWith('--lease-') || a.startsWith('--webhook-config')));
  t.equal(
    render(['--set', 'clusterAudit.enabled=false', '--set', 'policyReportCRD.install=true']).filter(
      (o) => o.kind === 'CustomResourceDefinition',
    ).length,
    1,
    'install=true renders it anyway',
  );
  t.equal(render(['--set', 'policyReportCRD.install=false']).filter((o) => o.kind === 'CustomResourceDefinition').length, 0);
});

t.test('excluded namespaces and selectors', async (t) => {
  const objects = render([
    '--values',
    'charts/practice-gate/ci/selectors-values.yaml',
    '--set',
    `webhook.excludedNamespaces={istio-system,${NAMESPACE},kube-system}`,
  ]);
  const webhook = webhookOf(objects);
  t.same(excludedNamespaces(webhook), [NAMESPACE, 'kube-system', 'istio-system'], 'extra namespaces join, without duplicates');
  t.same(webhook.namespaceSelector.matchExpressions.at(-1), { key: 'team', operator: 'Exists' });
  t.notOk(webhook.objectSelector, 'the example narrows by namespace only: no object label opt-out');
  // An admin who accepts the risk can still set one; it is passed through unchanged.
  const selector = { matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend'] }] };
  t.same(webhookOf(render(['--set-json', `webhook.objectSelector=${JSON.stringify(selector)}`])).objectSelector, selector);

  const emptied = webhookOf(render(['--set', 'webhook.excludedNamespaces=null']));
  t.same(excludedNamespaces(emptied), [NAMESPACE, 'kube-system'], 'the built-in exclusions cannot be removed');
  const elsewhere = webhookOf(render(['--namespace', 'gate']));
  t.same(excludedNamespaces(elsewhere), ['gate', 'kube-system'], 'follows the release namespace');
});

t.test('values that change the pod', async (t) => {
  const enforce = render(['--values', 'charts/practice-gate/ci/enforce-values.yaml']);
  const [container] = deploymentPod(enforce).spec.containers;
  t.equal(
    container.image,
    `registry.example.com/platform/practice-gate:0.1.0@sha256:4f6c1a4b3e0d2c9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817`,
  );
  t.equal(deploymentPod(enforce).spec.priorityClassName, 'system-cluster-critical');
  t.equal(webhookOf(enforce).failurePolicy, 'Fail');
  t.equal(webhookOf(enforce).timeoutSeconds, 3);
  t.ok(args(enforce).includes('--on-error=deny'));
  t.same(
    parse(one(enforce, 'ConfigMap').data['config.yaml']).policies,
    {
      'image-tag-pinned': 'deny',
      'liveness-probe': 'warn',
      'cronjob-concurrency': { action: 'audit' },
      'pdb-coverage': 'off',
      'memory-limit': { action: 'off' },
    },
    'a bare off, which helm reads as false, is written as "off"',
  );

  const old = deploymentPod(render(['--kube-version', '1.29.0']));
  t.same(
    old.spec.containers[0].lifecycle,
    { preStop: { exec: { command: ['/bin/sleep', '10'] } } },
    'before 1.30 the preStop sleeps with /bin/sleep',
  );
  t.notOk(webhookOf(render(['--kube-version', '1.27.0'])).matchConditions, 'no matchConditions before 1.28');
  t.notOk(
    deploymentPod(render(['--set', 'server.preStop.sleepSeconds=0', '--set', 'terminationGracePeriodSeconds=30'])).spec.containers[0]
      .lifecycle,
  );
  t.notOk(
    deploymentPod(render(['--set', 'resources.limits.cpu=null'])).spec.containers[0].resources.limits.cpu,
    'the CPU limit can be removed',
  );
  t.notOk(deploymentPod(render(['--set', 'topologySpread.enabled=false'])).spec.topologySpreadConstraints);
  t.equal(render(['--set', 'podDisruptionBudget.enabled=false']).filter((o) => o.kind === 'PodDisruptionBudget').length, 0);
  t.equal(render(['--set', 'networkPolicy.enabled=false']).filter((o) => o.kind === 'NetworkPolicy').length, 0);
  t.equal(render(['--set', 'tests.enabled=false']).filter((o) => o.kind === 'Pod').length, 0);
});

t.test('every ci/ values file: a config the binary accepts, the exclusions, only known RBAC, a hardened pod', async (t) => {
  const { parseConfig } = await import('../../src/config/load.js');
  const knownClusterRules = [...INFORMER_RULES, ...AUDIT_RULES, VWC_AUDIT_RULE, VWC_RULE].map((r) => JSON.stringify(r));
  const knownRoleRules = [...CERT_RULES, ...LEASE_RULES].map((r) => JSON.stringify(r));
  for (const file of ciValuesFiles()) {
    const name = file.slice(file.indexOf('ci/'));
    const objects = render(['--values', file]);
    const text = one(objects, 'ConfigMap').data['config.yaml'];
    t.doesNotThrow(() => parseConfig(parse(text), file, POLICIES), `${name}: the config parses`);
    t.same(
      kinds(objects).filter((k) => k === VWC),
      [VWC],
      `${name}: one webhook configuration`,
    );

    const webhook = one(objects, VWC).webhooks[0];
    const excluded = excludedNamespaces(webhook);
    t.ok(excluded.includes(NAMESPACE) && excluded.includes('kube-system'), `${name}: never its own namespace or kube-system`);
    t.ok(
      webhook.namespaceSelector.matchExpressions.some((e: Obj) => e.key === 'practice-gate.io/ignore' && e.operator === 'NotIn'),
      `${name}: the opt-out label`,
    );

    const clusterRules = rulesOf(one(objects, 'ClusterRole')).map((r) => JSON.stringify(r));
    for (const rule of clusterRules) t.ok(knownClusterRules.includes(rule), `${name}: ClusterRole rule ${rule} is one docs/rbac.md names`);
    // The informers always run: without watch on a kind its cache never syncs and /readyz stays false.
    for (const rule of INFORMER_RULES.map((r) => JSON.stringify(r)))
      t.ok(clusterRules.includes(rule), `${name}: the informers' rule ${rule}`);
    for (const role of objects.filter((o) => o.kind === 'Role') as Obj[]) {
      t.equal(role.metadata?.namespace, NAMESPACE, `${name}: the Role stays in the release namespace`);
      for (const rule of rulesOf(role))
        t.ok(knownRoleRules.includes(JSON.stringify(rule)), `${name}: Role rule ${JSON.stringify(rule)} is one docs/rbac.md names`);
    }

    const spec = deploymentPod(objects).spec;
    const [container] = spec.containers;
    t.match(spec.securityContext, { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, `${name}: pod security context`);
    t.match(
      container.securityContext,
      { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      `${name}: container security context`,
    );
    t.ok(
      container.resources.requests.cpu && container.resources.requests.memory && container.resources.limits.memory,
      `${name}: requests and a memory limit`,
    );
    t.match(container.readinessProbe, { httpGet: { path: '/readyz' } }, `${name}: readiness probe`);
    t.match(container.livenessProbe, { httpGet: { path: '/healthz' } }, `${name}: liveness probe`);
  }
});
