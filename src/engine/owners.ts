// Who may write an object on behalf of its owner. An ownerReference is written by whoever
// writes the object, so it proves nothing by itself: an object is judged through its owner
// only when the write comes from a controller that makes objects of that kind for owners of
// that kind (the request's userInfo says who wrote it), and, when the cluster cache knows the
// owner, the reference names the owner's real uid.
import type { ClusterContext } from './context.js';
import type { ControllerRef } from './k8s.js';

/** A third-party controller the admin trusts, as written in the config file. */
export interface TrustedController {
  /** The request's userInfo.username, e.g. `system:serviceaccount:argo-rollouts:argo-rollouts`. */
  username: string;
  /** Kinds it writes, e.g. `ReplicaSet`. */
  kinds: string[];
  /** Owner kinds it writes them for, e.g. `Rollout`. */
  ownerKinds: string[];
}

/** kube-controller-manager when it runs without per-controller credentials (`--use-service-account-credentials=false`). */
export const KUBE_CONTROLLER_MANAGER = 'system:kube-controller-manager';

const controllerAccount = (name: string): string => `system:serviceaccount:kube-system:${name}`;

/**
 * The objects kube-controller-manager makes from a template its owner carries: object kind,
 * owner kind, and the service account of the controller that writes them. The owner is
 * judged when it is written, so these objects are only recorded.
 */
export const BUILTIN_TEMPLATE_WRITERS: readonly TrustedController[] = [
  { username: controllerAccount('replicaset-controller'), kinds: ['Pod'], ownerKinds: ['ReplicaSet'] },
  { username: controllerAccount('replication-controller'), kinds: ['Pod'], ownerKinds: ['ReplicationController'] },
  { username: controllerAccount('job-controller'), kinds: ['Pod'], ownerKinds: ['Job'] },
  { username: controllerAccount('statefulset-controller'), kinds: ['Pod'], ownerKinds: ['StatefulSet'] },
  { username: controllerAccount('daemon-set-controller'), kinds: ['Pod'], ownerKinds: ['DaemonSet'] },
  { username: controllerAccount('deployment-controller'), kinds: ['ReplicaSet'], ownerKinds: ['Deployment'] },
  { username: controllerAccount('cronjob-controller'), kinds: ['Job'], ownerKinds: ['CronJob'] },
];

/** username → object kind → owner kinds. Maps, so no name from a request meets Object.prototype. */
export type WriterTable = ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<string>>>;

function add(table: Map<string, Map<string, Set<string>>>, username: string, kind: string, ownerKind: string): void {
  let kinds = table.get(username);
  if (!kinds) {
    kinds = new Map();
    table.set(username, kinds);
  }
  let owners = kinds.get(kind);
  if (!owners) {
    owners = new Set();
    kinds.set(kind, owners);
  }
  owners.add(ownerKind);
}

/** The built-in controllers, kube-controller-manager's shared identity, and the admin's `controllers`. */
export function compileWriters(configured: readonly TrustedController[] = []): WriterTable {
  const table = new Map<string, Map<string, Set<string>>>();
  for (const c of [...BUILTIN_TEMPLATE_WRITERS, ...configured]) {
    for (const kind of c.kinds) for (const ownerKind of c.ownerKinds) add(table, c.username, kind, ownerKind);
  }
  for (const c of BUILTIN_TEMPLATE_WRITERS) {
    for (const kind of c.kinds) for (const ownerKind of c.ownerKinds) add(table, KUBE_CONTROLLER_MANAGER, kind, ownerKind);
  }
  return table;
}

const BUILTIN = compileWriters();

/** True when kube-controller-manager makes objects of `kind` from a template an owner of `ownerKind` carries. */
export function isTemplateOwner(kind: string, ownerKind: string): boolean {
  return BUILTIN.get(KUBE_CONTROLLER_MANAGER)?.get(kind)?.has(ownerKind) ?? false;
}

/**
 * True when this write of an object of `kind` owned by `owner` comes from a controller acting
 * for that owner: `writer` is trusted for the pair, and the owner the cache knows under that
 * name (if any) has the uid the reference claims. Without a writer (manifests, cluster scans)
 * nothing is written on anyone's behalf.
 */
export function writtenForOwner(
  writers: WriterTable,
  context: ClusterContext,
  writer: string | undefined,
  kind: string,
  namespace: string,
  owner: ControllerRef | undefined,
): boolean {
  if (writer === undefined || owner === undefined) return false;
  if (!(writers.get(writer)?.get(kind)?.has(owner.kind) ?? false)) return false;
  const known = context.uidOf?.(namespace, owner.kind, owner.name);
  return known === undefined || known === owner.uid;
}
