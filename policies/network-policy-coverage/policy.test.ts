import t from 'tap';
import { parse } from 'yaml';
import policy from './policy.js';
import { ContextIndex, compileConfig, DEFAULT_CONFIG, evaluate, kindOf } from '../../src/engine/index.js';
import type { KubeObject } from '../../src/engine/index.js';
import { examples, judge } from '../../test/helpers/manifests.js';

// Each file holds its cases and the NetworkPolicies they are judged against, as an offline audit of the file would.
const { good, bad, get } = examples('network-policy-coverage');
const judged = (file: Map<string, KubeObject>) => [...file].filter(([, obj]) => policy.kinds.includes(kindOf(obj)));
const inBad = (obj: KubeObject, context: Iterable<KubeObject> = bad.values()) => judge(policy, obj, context);
const withLabels = (obj: KubeObject, labels: Record<string, string>): KubeObject => {
  const copy = structuredClone(obj) as { spec: { template: { metadata: { labels: Record<string, string> } } } };
  copy.spec.template.metadata.labels = labels;
  return copy as KubeObject;
};
const networkPolicy = (namespace: string, name: string, spec: unknown): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec,
});

t.test('good examples pass', async (t) => {
  t.equal(judged(good).length, 8, 'every workload kind that makes pods is among them');
  for (const [name, obj] of judged(good)) t.same(judge(policy, obj, good.values()), [], name);
});

t.test('every bad example fails', async (t) => {
  t.equal(judged(bad).length, 9);
  for (const [name, obj] of judged(bad)) t.equal(inBad(obj).length, 1, name);
});

t.test('no NetworkPolicy: an audit finding on the template labels, fixed by a policy for the pods and their ports', async (t) => {
  const findings = inBad(get('no-policy'));
  t.equal(findings.length, 1);
  t.match(findings[0], { policy: 'network-policy-coverage', action: 'audit', path: 'spec.template.metadata.labels' });
  t.notOk(findings[0]?.container);
  t.equal(findings[0]?.message, 'no NetworkPolicy selects its pods, so any pod can reach them: add one');
  t.ok((findings[0]?.message.length ?? 0) <= 70, 'the warning line stays within 120 characters with its prefixes');
  t.same(parse(findings[0]?.remediation ?? ''), {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'no-policy', namespace: 'bare' },
    spec: {
      podSelector: { matchLabels: { app: 'no-policy' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: {} }], ports: [{ port: 8080 }, { port: 9090 }] }],
    },
  });
});

t.test('the suggested policy of a pod that serves no port lets nothing in; of unlabelled pods it says what {} means', async (t) => {
  const noPorts = parse(inBad(get('unselected'))[0]?.remediation ?? '') as { spec: Record<string, unknown> };
  t.same(noPorts.spec.ingress, []);
  const remediation = inBad(get('unlabelled'))[0]?.remediation ?? '';
  t.same((parse(remediation) as { spec: { podSelector: unknown } }).spec.podSelector, {});
  t.match(remediation, /every pod of the namespace; label them/);
  t.equal(inBad(get('unlabelled'))[0]?.path, 'metadata.labels', "a Pod's labels are its own");
});

t.test('an empty podSelector, or none, selects every pod of its namespace', async (t) => {
  const app = get('no-policy');
  t.same(inBad(app, [networkPolicy('bare', 'deny-all', { podSelector: {}, policyTypes: ['Ingress'] })]), []);
  t.same(inBad(app, [networkPolicy('bare', 'no-selector', { policyTypes: ['Egress'] })]), [], 'the API stores it as {}');
  t.same(inBad(app, [networkPolicy('bare', 'null-selector', { podSelector: null })]), [], 'null is unset');
  t.same(inBad(app, [networkPolicy('bare', 'no-spec', undefined)]), [], 'so is a missing spec');
});

t.test('matchLabels must all be on the pods', async (t) => {
  const app = get('unselected');
  t.equal(inBad(app).length, 1);
  t.same(inBad(withLabels(app, { app: 'web' })), [], 'pods with the labels are selected');
  const both = networkPolicy('labels-miss', 'both', { podSelector: { matchLabels: { app: 'unselected', tier: 'api' } } });
  t.equal(inBad(app, [both]).length, 1, 'one label of two is not enough');
  t.same(inBad(withLabels(app, { app: 'unselected', tier: 'api' }), [both]), []);
});

t.test('matchExpressions: In, NotIn, Exists and DoesNotExist as the API reads them', async (t) => {
  t.equal(inBad(get('replica-db')).length, 1, 'In: a value not listed');
  t.same(inBad(withLabels(get('replica-db'), { app: 'db', role: 'primary' })), [], 'In: a value listed');
  t.equal(inBad(get('frontend')).length, 1, 'NotIn: a value listed');
  t.same(inBad(withLabels(get('frontend'), { app: 'frontend' })), [], 'NotIn: no such label at all');
  t.same(inBad(withLabels(get('frontend'), { app: 'frontend', tier: 'web' })), [], 'NotIn: a value not listed');
  t.equal(inBad(get('unowned')).length, 1, 'Exists: no such label');
  t.same(inBad(withLabels(get('unowned'), { app: 'unowned', team: '' })), [], 'Exists: the label with an empty value');
  t.equal(inBad(get('canary')).length, 1, 'DoesNotExist: the label is there');
  t.same(inBad(withLabels(get('canary'), { app: 'shop' })), [], 'DoesNotExist: the label is not');
  const unknown = networkPolicy('bare', 'unknown-op', { podSelector: { matchExpressions: [{ key: 'app', operator: 'Matches' }] } });
  t.equal(inBad(get('no-policy'), [unknown]).length, 1, 'an operator the API refuses selects nothing');
});

t.test("another namespace's NetworkPolicy does not count", async (t) => {
  t.equal(inBad(get('other-ns')).length, 1);
  const moved = structuredClone(get('other-ns'));
  moved.metadata = { name: 'other-ns', namespace: 'team-b' };
  t.same(inBad(moved), [], 'the same workload in the policy namespace is covered');
  const unnamespaced = networkPolicy('', 'default-ns', { podSelector: {} });
  delete (unnamespaced.metadata as { namespace?: string }).namespace;
  const inDefault = structuredClone(get('other-ns'));
  inDefault.metadata = { name: 'other-ns' };
  t.same(inBad(inDefault, [unnamespaced]), [], 'a manifest without namespace is in the default namespace, like the workload');
  t.equal(inBad(get('other-ns'), [unnamespaced]).length, 1);
});

t.test('a podSelector or spec of the wrong type selects nothing', async (t) => {
  t.equal(inBad(get('string-selector')).length, 1, 'a string podSelector, a list matchLabels and a string spec');
  for (const spec of [{ podSelector: [] }, { podSelector: 'all' }, { podSelector: { matchExpressions: 'app' } }, 7, []]) {
    t.equal(inBad(get('no-policy'), [networkPolicy('bare', 'broken', spec)]).length, 1, JSON.stringify(spec));
  }
  const numberLabel = networkPolicy('bare', 'number', { podSelector: { matchLabels: { app: 1 } } });
  t.equal(inBad(withLabels(get('no-policy'), { app: '1' }), [numberLabel]).length, 1, 'a number never equals a label value');
});

t.test('the NetworkPolicy deleted from the context: the workload is uncovered again', async (t) => {
  const config = compileConfig(DEFAULT_CONFIG, [policy]);
  const context = new ContextIndex();
  const api = get('no-policy');
  const allow = networkPolicy('bare', 'allow-api', { podSelector: { matchLabels: { app: 'no-policy' } } });
  t.equal(evaluate(api, context, config)?.findings.length, 1, 'the workload arrives first: nothing covers it');
  context.upsert(allow);
  t.same(evaluate(api, context, config)?.findings, [], 'the policy arrives after it (informer order)');
  context.upsert({ ...allow, spec: { podSelector: { matchLabels: { app: 'other' } } } });
  t.equal(evaluate(api, context, config)?.findings.length, 1, 'the policy is narrowed to other pods');
  context.upsert(allow);
  context.remove(allow);
  t.equal(evaluate(api, context, config)?.findings.length, 1, 'the policy is deleted');
  t.same(context.networkPoliciesIn('bare'), []);
});

t.test('pods on the node network are not judged; only the boolean true puts them there', async (t) => {
  const agent = good.get('node-agent') as KubeObject;
  t.same(judge(policy, agent, []), []);
  const quoted = structuredClone(agent) as { spec: { template: { spec: Record<string, unknown> } } };
  quoted.spec.template.spec.hostNetwork = 'true';
  t.equal(judge(policy, quoted as KubeObject, []).length, 1);
});

t.test('a Job: the suggested policy does not select by the uid labels the API adds', async (t) => {
  const job: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'migrate', namespace: 'jobs' },
    spec: {
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } },
      template: {
        metadata: { labels: { app: 'migrate', 'batch.kubernetes.io/controller-uid': 'u1', 'controller-uid': 'u1', 'job-name': 'migrate' } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image: 'example/migrate:1.0' }] },
      },
    },
  };
  const findings = judge(policy, job, []);
  t.equal(findings[0]?.path, 'spec.template.metadata.labels');
  const suggested = parse(findings[0]?.remediation ?? '') as { spec: { podSelector: unknown } };
  t.same(suggested.spec.podSelector, { matchLabels: { app: 'migrate', 'job-name': 'migrate' } });
});

t.test('a CronJob is judged by its job template labels', async (t) => {
  const cron = good.get('report') as KubeObject;
  const findings = judge(policy, cron, []);
  t.equal(findings[0]?.path, 'spec.jobTemplate.spec.template.metadata.labels');
});

t.test('a PodTemplate makes no pods and is not judged', async (t) => {
  t.notOk(policy.kinds.includes('PodTemplate'));
  t.ok(policy.needsCluster, 'without the cluster it cannot know the NetworkPolicies: serve --dev does not run it');
});
