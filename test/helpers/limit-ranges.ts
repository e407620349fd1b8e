import { ContextIndex, compileConfig, DEFAULT_CONFIG, evaluate } from '../../src/engine/index.js';
import type { KubeObject, Note, Policy } from '../../src/engine/index.js';

/** A LimitRange with these `spec.limits` items, in namespace shop unless told. */
export function limitRange(name: string, limits: unknown, namespace = 'shop'): KubeObject {
  return { apiVersion: 'v1', kind: 'LimitRange', metadata: { name, namespace }, spec: { limits } };
}

/** A Deployment in shop with these containers (and init containers). */
export function deployment(containers: unknown[], initContainers?: unknown[], namespace = 'shop'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers, ...(initContainers ? { initContainers } : {}) } },
    },
  };
}

/** The notes one policy gives the object in this context: what the offline audit prints beside findings. */
export function notesOf(policy: Policy, object: KubeObject, context: Iterable<KubeObject>): Note[] {
  const config = compileConfig(DEFAULT_CONFIG, [policy]);
  return evaluate(object, ContextIndex.fromObjects(context), config, { notes: true })?.notes ?? [];
}
