import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { ContextIndex, DEFAULT_CONFIG, EMPTY_CONTEXT, WORKLOAD_KINDS, compileConfig, evaluate } from '../../src/engine/index.js';
import type { ClusterContext, Config, KubeObject, PdbPolicy, Policy, WorkloadPolicy } from '../../src/engine/index.js';

// Stand-in policies: they fail every object they see, so each test is about the engine alone.
const denyEach: WorkloadPolicy = {
  id: 'deny-each-container',
  title: 't',
  why: 'w',
  fix: 'fix: general',
  defaultAction: 'deny',
  kinds: WORKLOAD_KINDS,
  target: 'workload',
  check: (w) => w.containers.map((c) => ({ path: `${c.path}.image`, container: c.name, message: `container "${c.name}" is bad` })),
};
const warnOnce: WorkloadPolicy = {
  id: 'warn-once',
  title: 't',
  why: 'w',
  fix: 'fix: general',
  defaultAction: 'warn',
  kinds: ['Deployment', 'StatefulSet'],
  target: 'workload',
  check: () => [{ path: 'spec', message: 'x'.repeat(300), remediation: 'fix: own' }],
};
const pdbAlways: PdbPolicy = {
  id: 'pdb-always',
  title: 't',
  why: 'w',
  fix: 'fix: general',
  defaultAction: 'audit',
  kinds: ['PodDisruptionBudget'],
  target: 'pdb',
  check: (_pdb, namespace) => [{ path: 'spec', message: `pdb in ${namespace}` }],
};
const REGISTRY: readonly Policy[] = [denyEach, warnOnce, pdbAlways];

const config = (overrides: Partial<Config> = {}) => compileConfig({ ...DEFAULT_CONFIG, ...overrides }, REGISTRY);
const deployment = (name = 'web', namespace?: string, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, ...(namespace ? { namespace } : {}), ...(annotations ? { annotations } : {}) },
  spec: { template: { spec: { containers: [{ name: 'app' }, { name: 'side' }] } } },
});
const run = (object: unknown, overrides: Partial<Config> = {}, context: ClusterContext = EMPTY_CONTEXT, namespace?: string) =>
  evaluate(object as KubeObject, context, config(overrides), namespace === undefined ? {} : { namespace });
const findings = (...args: Parameters<typeof run>) => run(...args)?.findings ?? [];

t.test('kinds practice-gate does not judge give undefined', async (t) => {
  for (const object of [
    { kind: 'Service', metadata: { name: 's' }, spec: { containers: [] } },
    { kind: 'ConfigMap' },
    { kind: 'deployment', spec: {} },
    { kind: 5 },
    {},
    null,
    undefined,
    5,
    'Deployment',
    [{ kind: 'Deployment' }],
  ]) {
    t.equal(run(object), undefined, JSON.stringify(object) ?? 'undefined');
  }
});

t.test('a workload: identity, mode and one finding per violation', async (t) => {
  const result = run(deployment('web', 'shop'));
  t.match(result, { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web', mode: 'enforce', controllerOwned: false });
  t.same(result?.findings, [
    {
      policy: 'deny-each-container',
      action: 'deny',
      configuredAction: 'deny',
      path: 'spec.template.spec.containers[0].image',
      message: 'container "app" is bad',
      remediation: 'fix: general',
      exempt: false,
      container: 'app',
    },
    {
      policy: 'deny-each-container',
      action: 'deny',
      configuredAction: 'deny',
      path: 'spec.template.spec.containers[1].image',
      message: 'container "side" is bad',
      remediation: 'fix: general',
      exempt: false,
      container: 'side',
    },
    {
      policy: 'warn-once',
      action: 'warn',
      configuredAction: 'warn',
      path: 'spec',
      message: 'x'.repeat(300),
      remediation: 'fix: own',
      exempt: false,
    },
  ]);
});

t.test('a policy only sees its kinds; a PDB only pdb policies', async (t) => {
  t.same(
    findings({ kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a' }] } }).map((f) => f.policy),
    ['deny-each-container'],
  );
  const pdb = run({ kind: 'PodDisruptionBudget', metadata: { name: 'b', namespace: 'ns1' }, spec: {} });
  t.same(
    pdb?.findings.map((f) => [f.policy, f.action, f.message]),
    [['pdb-always', 'audit', 'pdb in ns1']],
  );
  t.equal(pdb?.controllerOwned, false);
});

t.test('namespace: the object names it, else the option, else default', async (t) => {
  t.equal(run(deployment('a', 'own'), {}, EMPTY_CONTEXT, 'request')?.namespace, 'own');
  t.equal(run(deployment('a'), {}, EMPTY_CONTEXT, 'request')?.namespace, 'request');
  t.equal(run(deployment('a'))?.namespace, 'default');
  t.equal(findings({ kind: 'PodDisruptionBudget', metadata: { name: 'b' } }, {}, EMPTY_CONTEXT, 'request')[0]?.message, 'pdb in request');
});

t.test('controller-owned objects say so and name their controller; whether they are judged through it is owners.test.ts', async (t) => {
  const owned = (controller: boolean) => ({
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name: 'x', ownerReferences: [{ kind: 'ReplicaSet', name: 'o', uid: 'u1', controller }] },
    spec: { containers: [{ name: 'app' }] },
  });
  t.match(run(owned(true)), { controllerOwned: true, controller: { kind: 'ReplicaSet', name: 'o', uid: 'u1' }, judgedThroughOwner: false });
  t.match(run(owned(false)), { controllerOwned: false, judgedThroughOwner: false }, 'an owner that is not the controller');
  t.notOk(run(owned(false))?.controller);
});

t.test('off policies produce nothing; the config can change an action', async (t) => {
  t.same(findings(deployment(), { policies: { 'deny-each-container': 'off', 'warn-once': 'off' } }), []);
  t.same(
    config({ policies: { 'warn-once': 'off' } }).active.map((a) => a.policy.id),
    ['deny-each-container', 'pdb-always'],
  );
  const raised = findings(deployment(), { policies: { 'warn-once': 'deny', 'deny-each-container': 'audit' } });
  t.same(
    raised.map((f) => [f.policy, f.action]),
    [
      ['deny-each-container', 'audit'],
      ['deny-each-container', 'audit'],
      ['warn-once', 'deny'],
    ],
  );
});

t.test('audit mode turns deny into warn and keeps the configured action', async (t) => {
  const result = run(deployment(), { mode: 'audit', policies: { 'pdb-always': 'deny' } });
  t.equal(result?.mode, 'audit');
  t.same(
    result?.findings.map((f) => [f.policy, f.action, f.configuredAction]),
    [
      ['deny-each-container', 'warn', 'deny'],
      ['deny-each-container', 'warn', 'deny'],
      ['warn-once', 'warn', 'warn'],
    ],
  );
  const auditStays = findings(deployment(), { mode: 'audit', policies: { 'deny-each-container': 'audit' } });
  t.equal(auditStays[0]?.action, 'audit');
});

t.test('the namespace label practice-gate.io/mode overrides the config mode', async (t) => {
  const context = ContextIndex.fromObjects([
    { kind: 'Namespace', metadata: { name: 'trial', labels: { 'practice-gate.io/mode': 'audit' } } },
    { kind: 'Namespace', metadata: { name: 'strict', labels: { 'practice-gate.io/mode': 'enforce' } } },
    { kind: 'Namespace', metadata: { name: 'typo', labels: { 'practice-gate.io/mode': 'Audit' } } },
  ]);
  const trial = run(deployment('a', 'trial'), {}, context);
  t.equal(trial?.mode, 'audit');
  t.equal(trial?.findings[0]?.action, 'warn', 'deny becomes warn in an audit namespace');
  const strict = run(deployment('a', 'strict'), { mode: 'audit' }, context);
  t.equal(strict?.mode, 'enforce');
  t.equal(strict?.findings[0]?.action, 'deny', 'an enforce namespace enforces under an audit config');
  t.equal(run(deployment('a', 'typo'), {}, context)?.mode, 'enforce', 'an unknown value is ignored');
  t.equal(run(deployment('a', 'unlabelled'), { mode: 'audit' }, context)?.mode, 'audit');
});

t.test('admin exemptions by namespace, name and kind globs, and by policy', async (t) => {
  const exemptions = [
    { namespaces: ['kube-*'], reason: 'system namespaces' },
    { names: ['legacy-*'], policies: ['warn-once'], reason: 'legacy apps, being rewritten' },
    { kinds: ['*Set'], namespaces: ['data'], reason: 'stateful sets in data' },
  ];
  const system = findings(deployment('x', 'kube-system'), { exemptions });
  t.ok(system.length > 0 && system.every((f) => f.exempt && f.exemptReason === 'system namespaces'), 'exempt findings are still reported');
  t.ok(
    findings(deployment('x', 'kubex')).every((f) => !f.exempt),
    'kubex does not match kube-*',
  );

  const legacy = findings(deployment('legacy-billing'), { exemptions });
  t.same(
    legacy.map((f) => [f.policy, f.exempt, f.exemptReason]),
    [
      ['deny-each-container', false, undefined],
      ['deny-each-container', false, undefined],
      ['warn-once', true, 'legacy apps, being rewritten'],
    ],
  );

  const statefulSet = { ...deployment('db', 'data'), kind: 'StatefulSet' };
  t.ok(
    findings(statefulSet, { exemptions }).every((f) => f.exempt && f.exemptReason === 'stateful sets in data'),
    'kind glob *Set',
  );
  t.ok(
    findings(deployment('db', 'data'), { exemptions }).every((f) => !f.exempt),
    'Deployment is not *Set',
  );
  t.ok(
    findings({ ...statefulSet, metadata: { name: 'db', namespace: 'other' } }, { exemptions }).every((f) => !f.exempt),
    'every condition must hold',
  );
  t.equal(findings(deployment('x', 'kube-system'), { exemptions })[0]?.action, 'deny', 'an exemption does not change the action');
});

t.test('object annotations exempt only when objectExemptions is on', async (t) => {
  const annotated = deployment('web', 'shop', {
    'practice-gate.io/exempt': ' warn-once , pdb-always',
    'practice-gate.io/exempt-reason': 'vendor chart, ticket OPS-12',
  });
  t.ok(
    findings(annotated).every((f) => !f.exempt),
    'ignored by default',
  );
  const on = findings(annotated, { objectExemptions: true });
  t.same(
    on.map((f) => [f.policy, f.exempt, f.exemptReason]),
    [
      ['deny-each-container', false, undefined],
      ['deny-each-container', false, undefined],
      ['warn-once', true, 'vendor chart, ticket OPS-12'],
    ],
  );
  const all = findings(deployment('web', 'shop', { 'practice-gate.io/exempt': 'all' }), { objectExemptions: true });
  t.ok(
    all.length === 3 && all.every((f) => f.exempt && f.exemptReason === 'object annotation practice-gate.io/exempt'),
    'all, with the default reason',
  );
  const adminFirst = findings(annotated, { objectExemptions: true, exemptions: [{ namespaces: ['shop'], reason: 'admin' }] });
  t.equal(adminFirst[2]?.exemptReason, 'admin', "the admin's reason wins");
  const odd = findings(deployment('web', 'shop', { 'practice-gate.io/exempt': 5 } as unknown as Record<string, string>), {
    objectExemptions: true,
  });
  t.ok(
    odd.every((f) => !f.exempt),
    'a non-string annotation exempts nothing',
  );
});

// Every field of a valid object, replaced in turn by each malformed value, through every real policy.
t.test('malformed input never throws, through all registered policies', async (t) => {
  const engine = compileConfig(DEFAULT_CONFIG, POLICIES);
  const JUNK: unknown[] = [null, 5, 'x', true, [], {}, [null, 5, 'x'], { a: 1 }];
  const full = (kind: string): KubeObject => {
    const podSpec = {
      os: { name: 'windows' },
      securityContext: { runAsUser: 1, runAsNonRoot: true },
      initContainers: [{ name: 'i', image: 'a:1', restartPolicy: 'Always', securityContext: { privileged: true } }],
      containers: [
        {
          name: 'c',
          image: 'a:1',
          securityContext: { runAsUser: 0, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
          resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '1Gi' } },
          readinessProbe: {},
          livenessProbe: {},
          startupProbe: {},
        },
      ],
      ephemeralContainers: [{ name: 'e', image: 'b' }],
    };
    const template = { metadata: { labels: { app: 'a' } }, spec: podSpec };
    const metadata = {
      name: 'n',
      namespace: 'ns',
      labels: { app: 'a' },
      annotations: { 'practice-gate.io/exempt': 'all' },
      ownerReferences: [{ controller: true }],
    };
    if (kind === 'Pod') return { kind, metadata, spec: podSpec };
    if (kind === 'PodTemplate') return { kind, metadata, template } as KubeObject;
    if (kind === 'CronJob') return { kind, metadata, spec: { concurrencyPolicy: 'Allow', jobTemplate: { spec: { template } } } };
    if (kind === 'PodDisruptionBudget')
      return {
        kind,
        metadata,
        spec: {
          minAvailable: 2,
          maxUnavailable: '0%',
          selector: { matchLabels: { app: 'a' }, matchExpressions: [{ key: 'app', operator: 'In', values: ['a'] }] },
        },
      };
    if (kind === 'HorizontalPodAutoscaler')
      return { kind, metadata, spec: { scaleTargetRef: { kind: 'Deployment', name: 'n' }, minReplicas: 2, maxReplicas: 5 } };
    return { kind, metadata, spec: { replicas: 3, selector: { matchLabels: { app: 'a' } }, template } };
  };
  const paths = (value: unknown, prefix: (string | number)[] = []): (string | number)[][] => {
    if (value === null || typeof value !== 'object') return [];
    const out: (string | number)[][] = [];
    for (const [key, child] of Object.entries(value)) {
      const path = [...prefix, Array.isArray(value) ? Number(key) : key];
      if (path[0] !== 'kind') out.push(path);
      out.push(...paths(child, path));
    }
    return out;
  };
  const replaced = (object: KubeObject, path: (string | number)[], junk: unknown): KubeObject => {
    const copy = structuredClone(object) as Record<string | number, unknown>;
    let cursor = copy;
    for (const key of path.slice(0, -1)) cursor = cursor[key] as Record<string | number, unknown>;
    cursor[path[path.length - 1] as string | number] = junk;
    return copy as KubeObject;
  };
  const kinds = [...WORKLOAD_KINDS, 'PodDisruptionBudget'];
  const contextKinds = ['PodDisruptionBudget', 'HorizontalPodAutoscaler', 'Deployment'];
  let evaluations = 0;
  const failures: string[] = [];
  for (const kind of [...kinds, 'HorizontalPodAutoscaler']) {
    const base = full(kind);
    for (const path of paths(base)) {
      for (const junk of JUNK) {
        const broken = replaced(base, path, junk);
        const where = `${kind} ${path.join('.')} = ${JSON.stringify(junk)}`;
        try {
          // A broken object is judged itself, and also serves as context for the healthy kinds.
          const context = ContextIndex.fromObjects([broken, ...contextKinds.filter((k) => k !== kind).map(full)]);
          for (const object of kind === 'HorizontalPodAutoscaler' ? kinds.map(full) : [broken, ...kinds.map(full)]) {
            const result = evaluate(object, context, engine, { namespace: 'ns' });
            if (!result) failures.push(`${where}: ${String(object.kind)} not judged`);
            evaluations++;
          }
        } catch (err) {
          failures.push(`${where}: ${(err as Error).stack ?? String(err)}`);
        }
      }
    }
  }
  t.same(failures, [], `${evaluations} evaluations`);
  t.ok(evaluations > 5000);
});

t.test("a policy id that is an Object.prototype name reads only the config's own keys", async (t) => {
  for (const id of Object.getOwnPropertyNames(Object.prototype)) {
    const named: WorkloadPolicy = { ...denyEach, id };
    t.same(
      compileConfig(DEFAULT_CONFIG, [named]).active.map((a) => a.action),
      ['deny'],
      `${id}: its default action`,
    );
  }
});
