import { existsSync, readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
export const FALLBACK_NAMESPACE = 'practice-gate';

/** A kubeconfig that cannot be used; the message says which file and why. */
export class KubeConfigError extends Error {
  override name = 'KubeConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

/** Inside a pod the kubelet sets this; it is how client libraries tell in-cluster from outside. */
export function inCluster(env: Env = process.env): boolean {
  return typeof env.KUBERNETES_SERVICE_HOST === 'string' && env.KUBERNETES_SERVICE_HOST !== '';
}

/**
 * `--kubeconfig` when given; else the pod's service account inside a cluster; else the usual
 * defaults (KUBECONFIG, ~/.kube/config). Explicit in-cluster loading matters: the defaults would
 * prefer a stray kubeconfig baked into an image over the pod's own identity.
 */
export function loadKubeConfig(file?: string, env: Env = process.env): KubeConfig {
  if (file === undefined && !inCluster(env)) checkDefaultKubeConfig(env);
  const kc = new KubeConfig();
  const source = file ?? (inCluster(env) ? 'the in-cluster service account' : 'the default kubeconfig (KUBECONFIG or ~/.kube/config)');
  try {
    if (file !== undefined) kc.loadFromFile(file);
    else if (inCluster(env)) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (err) {
    throw new KubeConfigError(`cannot load ${source}: ${(err as Error).message}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new KubeConfigError(`${source} names no current cluster: set current-context, or pass --kubeconfig`);
  }
  return kc;
}

/**
 * Without KUBECONFIG or ~/.kube/config the client library quietly falls back to
 * http://localhost:8080 and fails later with an error about TLS; say instead that there is
 * no kubeconfig and everywhere that was looked.
 */
function checkDefaultKubeConfig(env: Env): void {
  if (env.KUBECONFIG !== undefined && env.KUBECONFIG !== '') return;
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir();
  const file = join(home, '.kube', 'config');
  if (existsSync(file)) return;
  throw new KubeConfigError(
    `no kubeconfig found: KUBECONFIG is not set, ${file} does not exist, and this is not a pod ` +
      '(KUBERNETES_SERVICE_HOST is not set); pass --kubeconfig FILE or set KUBECONFIG',
  );
}

/** The namespace practice-gate keeps its own objects in (Secret, Lease): flag, POD_NAMESPACE, service account, fallback. */
export function ownNamespace(
  flag: string | undefined,
  env: Env = process.env,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): string {
  if (flag !== undefined && flag !== '') return flag;
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    const fromFile = readFile(SERVICE_ACCOUNT_NAMESPACE_FILE).trim();
    if (fromFile !== '') return fromFile;
  } catch {
    // outside a pod there is no service account: fall through
  }
  return FALLBACK_NAMESPACE;
}

/** Who holds the lease: the pod name (unique among replicas), or host and pid outside a pod. */
export function holderIdentity(env: Env = process.env): string {
  if (env.POD_NAME) return env.POD_NAME;
  return `${hostname()}-${process.pid}`;
}
