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

const MEASURED = ['cpu', 'memory'] as const;

function quantities(value: unknown): Quantities | undefined {
  if (!isRecord(value)) return undefined;
  const out: Quantities = {};
  for (const resource of MEASURED) {
    const q = value[resource];
    if (typeof q === 'string' || typeof q === 'number') out[resource] = q;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function resourcesOf(value: unknown): ProjectedResources | undefined {
  if (!isRecord(value)) return undefined;
  const requests = quantities(value.requests);
  const limits = quantities(value.limits);
  if (!requests && !limits) return undefined;
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}

/** Every container keeps its place in the list, so a path named from the projection is the object's. */
function containersOf(value: unknown, init: boolean): ProjectedContainer[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.map((item: unknown) => {
    const c: ProjectedContainer = {};
    if (!isRecord(item)) return c;
    if (typeof item.name === 'string') c.name = item.name;
    // A plain init container has finished before the pod serves: only its name is kept.
    if (init && item.restartPolicy !== 'Always') return c;
    if (init) c.restartPolicy = 'Always';
    const resources = resourcesOf(item.resources);
    if (resources) c.resources = resources;
    return c;
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
