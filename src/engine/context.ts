import { isRecord, metaOf, nameOf, stringMap } from './k8s.js';
import type { HorizontalPodAutoscaler, KubeObject, PodDisruptionBudget } from './k8s.js';
import type { LimitRangeDefaults } from './limit-range.js';
import { LimitRangeIndex } from './limit-range-index.js';
import type { NetworkPolicy } from './k8s.js';
import { NamespacedObjects } from './namespaced-objects.js';
import { toWorkload } from './workload.js';
import type { Workload } from './workload.js';

/**
 * Read-only cluster state the policies may consult. The webhook fills it from watches,
 * the offline audit from the documents it was given; the engine never fetches anything.
 */
export interface ClusterContext {
  pdbsIn(namespace: string): readonly PodDisruptionBudget[];
  /**
   * The PDBs in a namespace that may select pods with these labels, in pdbsIn order: a
   * superset of those that do (the caller still matches each). Optional: without it callers
   * scan pdbsIn, which is linear in the namespace's PDBs.
   */
  pdbCandidates?(namespace: string, labels: Readonly<Record<string, string>>): readonly PodDisruptionBudget[];
  hpasTargeting(namespace: string, kind: string, name: string): readonly HorizontalPodAutoscaler[];
  /** Workloads known in a namespace (may be empty when the source does not track them). */
  workloadsIn(namespace: string): readonly Workload[];
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined;
  /**
   * The uid of a workload the source keeps, by namespace, kind and name; undefined when it
   * keeps none of that name. Optional: a source that keeps no uids cannot confirm an owner.
   */
  uidOf?(namespace: string, kind: string, name: string): string | undefined;
  /**
   * The container defaults of a namespace's LimitRanges, by name. Optional: without it no
   * LimitRange is known, and a request or limit the template leaves out counts as missing.
   */
  limitRangesIn?(namespace: string): readonly LimitRangeDefaults[];
  /** The NetworkPolicies of a namespace (network-policy-coverage); empty when the source holds none. */
  networkPoliciesIn(namespace: string): readonly NetworkPolicy[];
}

export const EMPTY_CONTEXT: ClusterContext = {
  pdbsIn: () => [],
  hpasTargeting: () => [],
  workloadsIn: () => [],
  namespaceLabels: () => undefined,
  networkPoliciesIn: () => [],
};

type Key = string;
const key = (namespace: string, name: string): Key => `${namespace}/${name}`;

/**
 * An in-memory index of cluster objects, keyed by namespace so that a lookup costs the
 * size of one namespace, not of the cluster. Mutable through upsert/remove for watches;
 * policies only see it through the ClusterContext interface.
 */
export class ContextIndex implements ClusterContext {
  private readonly pdbs = new NamespacedObjects<PodDisruptionBudget>();
  private readonly pdbLabelIndexes = new Map<string, PdbLabelIndex>();
  private readonly hpas = new NamespacedObjects<HorizontalPodAutoscaler>();
  /** By kind and name: a Deployment and a StatefulSet may share a name. */
  private readonly workloads = new NamespacedObjects<Workload>();
  private readonly namespaces = new Map<string, Record<string, string>>();
  private readonly limitRanges = new LimitRangeIndex();
  private readonly networkPolicies = new NamespacedObjects<NetworkPolicy>();

  constructor(private readonly defaultNamespace = 'default') {}

  static fromObjects(objects: Iterable<KubeObject>, defaultNamespace = 'default'): ContextIndex {
    const index = new ContextIndex(defaultNamespace);
    for (const object of objects) index.upsert(object);
    return index;
  }

  private nsOf(object: KubeObject): string {
    const ns = metaOf(object).namespace;
    return typeof ns === 'string' && ns !== '' ? ns : this.defaultNamespace;
  }

  /** Adds or replaces an object of a kind the context tracks; other kinds are ignored. */
  upsert(object: KubeObject): void {
    if (!isRecord(object)) return;
    const ns = this.nsOf(object);
    const id = key(typeof object.kind === 'string' ? object.kind : '', nameOf(object));
    switch (object.kind) {
      case 'PodDisruptionBudget':
        this.pdbs.set(ns, id, object as PodDisruptionBudget);
        this.pdbLabelIndexes.delete(ns);
        return;
      case 'HorizontalPodAutoscaler':
        this.hpas.set(ns, id, object as HorizontalPodAutoscaler);
        return;
      case 'Namespace':
        this.namespaces.set(nameOf(object), stringMap(metaOf(object).labels));
        return;
      case 'LimitRange':
        this.limitRanges.upsert(object, ns);
        return;
      case 'NetworkPolicy':
        this.networkPolicies.set(ns, nameOf(object), object as NetworkPolicy);
        return;
      default: {
        const workload = toWorkload(object, this.defaultNamespace);
        if (workload) this.workloads.set(ns, id, workload);
      }
    }
  }

  remove(object: KubeObject): void {
    if (!isRecord(object)) return;
    const ns = this.nsOf(object);
    const id = key(typeof object.kind === 'string' ? object.kind : '', nameOf(object));
    switch (object.kind) {
      case 'PodDisruptionBudget':
        this.pdbs.delete(ns, id);
        this.pdbLabelIndexes.delete(ns);
        return;
      case 'HorizontalPodAutoscaler':
        this.hpas.delete(ns, id);
        return;
      case 'Namespace':
        this.namespaces.delete(nameOf(object));
        return;
      case 'LimitRange':
        this.limitRanges.remove(object, ns);
        return;
      case 'NetworkPolicy':
        this.networkPolicies.delete(ns, nameOf(object));
        return;
      default:
        this.workloads.delete(ns, id);
    }
  }

  pdbsIn(namespace: string): readonly PodDisruptionBudget[] {
    return this.pdbs.in(namespace);
  }

  pdbCandidates(namespace: string, labels: Readonly<Record<string, string>>): readonly PodDisruptionBudget[] {
    let index = this.pdbLabelIndexes.get(namespace);
    if (!index) {
      index = indexPdbs(this.pdbsIn(namespace));
      this.pdbLabelIndexes.set(namespace, index);
    }
    if (index.byLabel.size === 0) return index.unindexed;
    const found: number[] = [];
    for (const name in labels) {
      const value = labels[name];
      const hits = value === undefined ? undefined : index.byLabel.get(labelKey(name, value));
      if (hits) for (const at of hits) found.push(at);
    }
    if (found.length === 0 && index.unindexed.length === 0) return [];
    for (const pdb of index.unindexed) {
      const at = index.position.get(pdb);
      if (at !== undefined) found.push(at);
    }
    found.sort((a, b) => a - b);
    const pdbs: PodDisruptionBudget[] = [];
    for (const at of found) {
      const pdb = index.all[at];
      if (pdb) pdbs.push(pdb);
    }
    return pdbs;
  }

  hpasTargeting(namespace: string, kind: string, name: string): readonly HorizontalPodAutoscaler[] {
    const out: HorizontalPodAutoscaler[] = [];
    for (const hpa of this.hpas.in(namespace)) {
      const ref = isRecord(hpa.spec) && isRecord(hpa.spec.scaleTargetRef) ? hpa.spec.scaleTargetRef : undefined;
      if (ref && ref.kind === kind && ref.name === name) out.push(hpa);
    }
    return out;
  }

  /** One namespace's workloads: a review of a PDB costs the size of its namespace, whatever the cluster's. */
  workloadsIn(namespace: string): readonly Workload[] {
    return this.workloads.in(namespace);
  }

  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined {
    return this.namespaces.get(namespace);
  }

  limitRangesIn(namespace: string): readonly LimitRangeDefaults[] {
    return this.limitRanges.in(namespace);
  }

  networkPoliciesIn(namespace: string): readonly NetworkPolicy[] {
    return this.networkPolicies.in(namespace);
  }

  uidOf(namespace: string, kind: string, name: string): string | undefined {
    const uid = metaOf(this.workloads.get(namespace, key(kind, name))?.object ?? {}).uid;
    return typeof uid === 'string' && uid !== '' ? uid : undefined;
  }
}

/**
 * PDBs by one of their matchLabels pairs. A PDB selects a pod only if the pod carries every
 * matchLabels pair, so indexing it under any one pair never hides it from a pod it selects.
 * PDBs without plain string matchLabels (expressions only, no selector, bad input) are
 * candidates for every pod.
 */
interface PdbLabelIndex {
  all: readonly PodDisruptionBudget[];
  position: Map<PodDisruptionBudget, number>;
  byLabel: Map<string, number[]>;
  unindexed: PodDisruptionBudget[];
}

const labelKey = (name: string, value: string) => `${name}\u0000${value}`;

function indexPdbs(all: readonly PodDisruptionBudget[]): PdbLabelIndex {
  const index: PdbLabelIndex = { all, position: new Map(), byLabel: new Map(), unindexed: [] };
  all.forEach((pdb, at) => {
    index.position.set(pdb, at);
    const selector = isRecord(pdb.spec) && isRecord(pdb.spec.selector) ? pdb.spec.selector : undefined;
    const matchLabels = selector && isRecord(selector.matchLabels) ? selector.matchLabels : undefined;
    const first = matchLabels ? Object.keys(matchLabels)[0] : undefined;
    const value = matchLabels && first !== undefined ? matchLabels[first] : undefined;
    if (first === undefined || typeof value !== 'string') {
      index.unindexed.push(pdb);
      return;
    }
    const k = labelKey(first, value);
    const list = index.byLabel.get(k);
    if (list) list.push(at);
    else index.byLabel.set(k, [at]);
  });
  return index;
}
