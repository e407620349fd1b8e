import { isRecord, metaOf, nameOf, stringMap, isControllerOwned } from './k8s.js';
import type { Container, KubeObject, PodSpec } from './k8s.js';

/**
 * Where each workload kind keeps its pod spec, relative to the object. A Map: the kind comes
 * from the request, and a plain object would answer `constructor` with Object itself.
 */
const POD_SPEC_PATHS: ReadonlyMap<string, readonly string[]> = new Map([
  ['Pod', ['spec']],
  ['Deployment', ['spec', 'template', 'spec']],
  ['StatefulSet', ['spec', 'template', 'spec']],
  ['DaemonSet', ['spec', 'template', 'spec']],
  ['ReplicaSet', ['spec', 'template', 'spec']],
  ['ReplicationController', ['spec', 'template', 'spec']],
  ['Job', ['spec', 'template', 'spec']],
  ['CronJob', ['spec', 'jobTemplate', 'spec', 'template', 'spec']],
  ['PodTemplate', ['template', 'spec']],
]);

export const WORKLOAD_KINDS: readonly string[] = [...POD_SPEC_PATHS.keys()];

/** Kinds whose pods run to completion: probes make no sense there. */
const BATCH_KINDS = new Set(['Job', 'CronJob']);

/** Kinds that keep a replica count that a PodDisruptionBudget protects. */
export const REPLICATED_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController']);

export type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';

export interface ContainerRef {
  readonly container: Container;
  readonly name: string;
  readonly list: ContainerList;
  readonly index: number;
  /** Field path of this container, e.g. `spec.template.spec.containers[1]`. */
  readonly path: string;
  /** An init container with `restartPolicy: Always` runs for the pod's life. */
  readonly sidecar: boolean;
}

export interface Workload {
  readonly object: KubeObject;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly podSpec: PodSpec;
  readonly podSpecPath: string;
  /** Labels of the pods this workload creates (the template's, or the Pod's own). */
  readonly podLabels: Readonly<Record<string, string>>;
  readonly containers: readonly ContainerRef[];
  readonly windows: boolean;
  readonly batch: boolean;
  readonly controllerOwned: boolean;
  /** `spec.replicas` for replicated kinds (API default 1), undefined for other kinds. */
  readonly replicas: number | undefined;
  /**
   * Set by the engine on a slice of a large pod whose violations of this policy are past the
   * listing cap and only counted (src/engine/evaluate.ts): a violation that names a container may
   * then be COUNTED (policy.ts) instead of written out.
   */
  readonly counting?: boolean;
}

function dig(object: unknown, path: readonly string[]): unknown {
  let cur: unknown = object;
  for (const key of path) {
    if (!isRecord(cur) || !Object.hasOwn(cur, key)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** The lists of a pod spec that hold containers, in the order the engine reads them. */
export const CONTAINER_LISTS: readonly ContainerList[] = ['containers', 'initContainers', 'ephemeralContainers'];

/**
 * A ContainerRef whose path is written when it is read: of a pod with 100,000 failing containers
 * only the listed findings' paths are (src/engine/evaluate.ts counts the rest).
 */
class Ref implements ContainerRef {
  readonly name: string;
  readonly sidecar: boolean;
  readonly #podSpecPath: string;

  constructor(
    readonly container: Container,
    readonly list: ContainerList,
    readonly index: number,
    podSpecPath: string,
  ) {
    this.name = typeof container.name === 'string' ? container.name : `${list}[${index}]`;
    this.sidecar = list === 'initContainers' && container.restartPolicy === 'Always';
    this.#podSpecPath = podSpecPath;
  }

  get path(): string {
    return `${this.#podSpecPath}.${this.list}[${this.index}]`;
  }
}

/**
 * The pod spec's containers as refs, `size` at a time, built as they are asked for: the engine
 * judges a large pod slice by slice (src/engine/evaluate.ts), so each slice's refs die young
 * instead of a hundred thousand of them surviving collections for the whole judgement. Always
 * at least one slice, empty for a pod without containers.
 */
export function* containerSlices(podSpec: PodSpec, podSpecPath: string, size: number): Generator<ContainerRef[], void, void> {
  let slice: ContainerRef[] = [];
  let sent = false;
  for (const list of CONTAINER_LISTS) {
    const items: unknown = podSpec[list];
    if (!Array.isArray(items)) continue;
    for (let index = 0; index < items.length; index++) {
      const item: unknown = items[index];
      if (!isRecord(item)) continue;
      slice.push(new Ref(item as Container, list, index, podSpecPath));
      if (slice.length >= size) {
        yield slice;
        sent = true;
        slice = [];
      }
    }
  }
  if (slice.length > 0 || !sent) yield slice;
}

function containerRefs(podSpec: PodSpec, podSpecPath: string): ContainerRef[] {
  return containerSlices(podSpec, podSpecPath, Infinity).next().value ?? [];
}

function podLabelsPath(kind: string, podSpecPath: readonly string[]): string[] {
  return kind === 'Pod' ? ['metadata', 'labels'] : [...podSpecPath.slice(0, -1), 'metadata', 'labels'];
}

/**
 * The fields of an object of this kind that its workload view is built from (src/engine/inputs.ts
 * compares them on UPDATE). Undefined for kinds that are not workloads.
 */
export function workloadFields(kind: string): string[][] | undefined {
  const path = POD_SPEC_PATHS.get(kind);
  if (!path) return undefined;
  const fields = [[...path], podLabelsPath(kind, path)];
  if (REPLICATED_KINDS.has(kind)) fields.push(['spec', 'replicas']);
  return fields;
}

function replicasOf(object: KubeObject, kind: string): number | undefined {
  if (!REPLICATED_KINDS.has(kind)) return undefined;
  const replicas = dig(object, ['spec', 'replicas']);
  return typeof replicas === 'number' && Number.isFinite(replicas) ? replicas : 1;
}

/**
 * The workload view of an object without its container refs (`containers` is empty): the engine
 * fills them in slice by slice (containerSlices). Undefined when the object is not a workload kind.
 */
export function workloadShell(object: KubeObject, defaultNamespace: string): Workload | undefined {
  const kind = typeof object.kind === 'string' ? object.kind : '';
  const path = POD_SPEC_PATHS.get(kind);
  if (!path) return undefined;
  const rawSpec = dig(object, path);
  const podSpec: PodSpec = isRecord(rawSpec) ? (rawSpec as PodSpec) : {};
  const meta = metaOf(object);
  const osName = isRecord(podSpec.os) ? podSpec.os.name : undefined;
  return {
    object,
    kind,
    name: nameOf(object),
    namespace: typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : defaultNamespace,
    podSpec,
    podSpecPath: path.join('.'),
    podLabels: stringMap(dig(object, podLabelsPath(kind, path))),
    containers: [],
    windows: osName === 'windows',
    batch: BATCH_KINDS.has(kind),
    controllerOwned: isControllerOwned(object),
    replicas: replicasOf(object, kind),
  };
}

/**
 * The workload view of an object, or undefined when the object is not a workload kind.
 * `defaultNamespace` applies when the object names none (manifests often don't).
 */
export function toWorkload(object: KubeObject, defaultNamespace: string): Workload | undefined {
  const shell = workloadShell(object, defaultNamespace);
  return shell && { ...shell, containers: containerRefs(shell.podSpec, shell.podSpecPath) };
}

/**
 * The workload's containers that `keeps`. In most pods that is every one, and the list itself is
 * the answer: ten policies ask for each slice of a large pod, and a copy each cost more than judging.
 */
function only(workload: Workload, keeps: (c: ContainerRef) => boolean): readonly ContainerRef[] {
  const all = workload.containers;
  return all.every(keeps) ? all : all.filter(keeps);
}

/** Containers that run the whole life of the pod: regular ones and native sidecars. */
export function longRunningContainers(workload: Workload): readonly ContainerRef[] {
  return only(workload, (c) => c.list === 'containers' || c.sidecar);
}

/** Containers that can carry resources and a root filesystem setting (not ephemeral ones). */
export function resourceContainers(workload: Workload): readonly ContainerRef[] {
  return only(workload, (c) => c.list !== 'ephemeralContainers');
}
