import { readFileSync } from 'node:fs';
import type { Test } from 'tap';
import { parseAllDocuments } from 'yaml';
import { ContextIndex, compileConfig, evaluate, DEFAULT_CONFIG, nameOf } from '../../src/engine/index.js';
import type { Config, Finding, KubeObject, Policy } from '../../src/engine/index.js';

/** The documents of a multi-document YAML file, keyed by metadata.name. */
export function loadManifests(file: string | URL): Map<string, KubeObject> {
  const out = new Map<string, KubeObject>();
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const obj = doc.toJS() as KubeObject | null;
    if (!obj) continue;
    const name = nameOf(obj);
    if (!name) throw new Error(`${String(file)}: a test manifest needs metadata.name`);
    if (out.has(name)) throw new Error(`${String(file)}: duplicate test manifest name ${name}`);
    out.set(name, obj);
  }
  return out;
}

/**
 * Runs one policy through the real engine, with every other document of `context`
 * (PDBs, HPAs, namespaces, workloads) as cluster context.
 */
export function judge(policy: Policy, object: KubeObject, context: Iterable<KubeObject> = [], config: Partial<Config> = {}): Finding[] {
  const engineConfig = compileConfig({ ...DEFAULT_CONFIG, ...config }, [policy]);
  const result = evaluate(object, ContextIndex.fromObjects(context), engineConfig);
  return result?.findings ?? [];
}

/** The example of this name; a typo in a test fails with the name instead of judging undefined. */
export function pick(file: ReadonlyMap<string, KubeObject>, name: string): KubeObject {
  const obj = file.get(name);
  if (!obj) throw new Error(`missing example ${name}`);
  return obj;
}

/**
 * Asserts that `policy` judges long-running pods only: no Job or CronJob, nothing in the
 * `pod-of-a-job` example of `good` (a pod that runs to completion), and its container `task`
 * once the same pod restarts forever.
 */
export function assertLongRunningOnly(t: Test, policy: Policy, good: ReadonlyMap<string, KubeObject>): void {
  t.notOk(policy.kinds.includes('Job'));
  t.notOk(policy.kinds.includes('CronJob'));
  const jobPod = pick(good, 'pod-of-a-job');
  t.same(judge(policy, jobPod), []);
  const servicePod = { ...jobPod, spec: { ...(jobPod.spec as object), restartPolicy: 'Always' } };
  t.same(
    judge(policy, servicePod).map((f) => f.container),
    ['task'],
    'the same pod restarted forever is long-running',
  );
}

export interface Examples {
  good: Map<string, KubeObject>;
  bad: Map<string, KubeObject>;
  /** The bad example of this name. */
  get(name: string): KubeObject;
}

/** Both example files of a policy, from policies/<id>/examples/. */
export function examples(policyId: string): Examples {
  const dir = new URL(`../../policies/${policyId}/examples/`, import.meta.url);
  const bad = loadManifests(new URL('bad.yaml', dir));
  return { good: loadManifests(new URL('good.yaml', dir)), bad, get: (name) => pick(bad, name) };
}

/** A Deployment as YAML text: one container `app`, its extra lines (e.g. a securityContext) from line 12 on. */
export function deploymentYaml(name: string, options: { namespace?: string; container?: readonly string[] } = {}): string {
  const ns = options.namespace !== undefined ? `, namespace: ${options.namespace}` : '';
  const extra = (options.container ?? []).map((line) => `          ${line}\n`).join('');
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}${ns} }
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers:
        - name: app
          image: example/${name}:1.0
${extra}`;
}
