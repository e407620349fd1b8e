// What the webhook keeps of a workload's pod spec: the container names and their CPU and memory
// requests and limits, which hpa-target-requests judges an HPA write against (the HPA divides
// the pods' usage by these requests). Nothing else of the pod spec is kept (workload-projection.ts).
import { isRecord } from '../../engine/k8s.js';

type Quantities = Record<string, string | number>;

interface ProjectedResources {
  requests?: Quantities;
  limits?: Quantities;
}

export interface ProjectedContainer {
  name?: string;
  /** `Always` on an init container makes it a native sidecar, which the HPA sums. */
  restartPolicy?: string;
  resources?: ProjectedResources;
}

export interface ProjectedPodSpec {
  containers?: ProjectedContainer[];
  initContainers?: ProjectedContainer[];
  /** Pod-level requests (KEP-2837). */
  resources?: ProjectedResources;
}

const quantity = (value: unknown): string | number | undefined =>
  typeof value === 'string' || typeof value === 'number' ? value : undefined;

// Object literals of fixed shapes, not objects grown key by key: a grown object costs several
// times the heap, and there is one per container of every workload in the cluster.
function quantities(value: unknown): Quantities | undefined {
  if (!isRecord(value)) return undefined;
  const cpu = quantity(value.cpu);
  const memory = quantity(value.memory);
  if (cpu === undefined) return memory === undefined ? undefined : { memory };
  return memory === undefined ? { cpu } : { cpu, memory };
}

/**
 * Most containers of a cluster carry one of a few resource blocks (a chart's defaults): equal
 * blocks are kept once, frozen, up to INTERNED of them.
 */
const INTERNED = 4096;
const interned = new Map<string, ProjectedResources>();

function resourcesOf(value: unknown): ProjectedResources | undefined {
  if (!isRecord(value)) return undefined;
  const requests = quantities(value.requests);
  const limits = quantities(value.limits);
  if (!requests && !limits) return undefined;
  const resources: ProjectedResources = !limits ? { requests } : !requests ? { limits } : { requests, limits };
  const key = JSON.stringify(resources);
  const known = interned.get(key);
  if (known) return known;
  if (interned.size < INTERNED) interned.set(key, Object.freeze(resources));
  return resources;
}

/** Every container keeps its place in the list, so a path named from the projection is the object's. */
function containersOf(value: unknown, init: boolean): ProjectedContainer[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.map((item: unknown): ProjectedContainer => {
    if (!isRecord(item)) return {};
    const name = typeof item.name === 'string' ? item.name : undefined;
    // A plain init container has finished before the pod serves: only its name is kept.
    if (init && item.restartPolicy !== 'Always') return { name };
    const resources = resourcesOf(item.resources);
    if (init) return { name, restartPolicy: 'Always', resources };
    return resources ? { name, resources } : { name };
  });
}

/** The requests-relevant part of a pod spec; projecting a projection gives an equal one. */
export function projectPodRequests(podSpec: unknown): ProjectedPodSpec {
  const spec = isRecord(podSpec) ? podSpec : {};
  const out: ProjectedPodSpec = {};
  const containers = containersOf(spec.containers, false);
  if (containers) out.containers = containers;
  const initContainers = containersOf(spec.initContainers, true);
  if (initContainers) out.initContainers = initContainers;
  const resources = resourcesOf(spec.resources);
  if (resources) out.resources = resources;
  return out;
}
