import type { Logger } from 'pino';
import { POLICIES } from '../../../policies/index.js';
import { ContextIndex } from '../../engine/context.js';
import type { EngineConfig } from '../../engine/config.js';
import { evaluate } from '../../engine/evaluate.js';
import { controllerRef, isRecord, kindOf, metaOf, namespaceOf, stringMap } from '../../engine/k8s.js';
import type { KubeObject } from '../../engine/k8s.js';
import { isTemplateOwner } from '../../engine/owners.js';
import { judgedKinds } from '../../engine/policy.js';
import { WORKLOAD_KINDS } from '../../engine/workload.js';
import { scanKinds } from '../../registry/derive.js';
import { systemClock } from '../clock.js';
import type { Clock } from '../clock.js';
import { describeError, isNotFound, statusOf } from '../api/errors.js';
import type { AuditMetrics } from './metrics.js';
import type { ReportPublisher } from './reports.js';
import type { AdmissionScope } from './webhook-scope.js';
import type { JudgedObject, ScanResult } from './scan-result.js';

export interface ScanKind {
  kind: string;
  apiVersion: string;
  plural: string;
  namespaced: boolean;
}

/** What a scan of the registered policies lists: the context kinds, then every kind a policy judges. */
export const SCAN_KINDS: readonly ScanKind[] = scanKinds(judgedKinds(POLICIES));

/** Lists for a scan; a test fakes this. */
export interface ClusterReader {
  /** Every object of the kind (all pages), in one namespace or in all. Items as the API returns them. */
  list(kind: ScanKind, namespace?: string): Promise<readonly unknown[]>;
}

export interface ScanOptions {
  /** Only this namespace; its Namespace object is not listed (a namespaced user may not be allowed to). */
  namespace?: string;
  signal?: AbortSignal;
  /**
   * Kinds the caller may not list (403): skipped and named in the result instead of failing the
   * scan. For a person's one-off audit only: the background audit must fail, since a kind left
   * out would make its objects' findings look fixed.
   */
  skipForbidden?: boolean;
  /** The time deadlines and exemption expiry are judged at (ms since the epoch); default now. */
  now?: number;
  /**
   * Only what the webhook is sent (its namespaceSelector and objectSelector). Without it, every
   * namespace that is not wholly exempt is judged.
   */
  scope?: AdmissionScope;
}

export function uidOf(object: KubeObject): string | undefined {
  const uid = (metaOf(object) as Record<string, unknown>).uid;
  return typeof uid === 'string' && uid !== '' ? uid : undefined;
}

/** An exemption that names namespaces and nothing else covers everything in them: no need to judge or report there. */
export function wholeNamespaceExempt(config: EngineConfig, namespace: string): boolean {
  // One with an expiry is judged all the same, so that its expiry is reported and its end noticed.
  return config.exemptions.some((e) => e.namespaces?.(namespace) && !e.names && !e.kinds && !e.policies && !e.expires);
}

const WORKLOADS = new Set(WORKLOAD_KINDS);

/**
 * Lists everything and judges it with the webhook's engine and config. The context is built from
 * the listed objects themselves, so pdb-allows-disruption sees the workloads a PDB selects, which
 * the webhook's informers do not hold. An object whose controller is among the listed workloads
 * is not judged on its own: its owner's finding is the one to fix (a Pod of a Deployment's
 * ReplicaSet would otherwise repeat the Deployment's findings once per replica).
 */
export async function scanCluster(reader: ClusterReader, config: EngineConfig, options: ScanOptions = {}): Promise<ScanResult> {
  const objects: KubeObject[] = [];
  const forbidden: string[] = [];
  // The kinds of the config's registry: a policy on a new kind is listed with no other change.
  for (const kind of scanKinds(config.judgedKinds)) {
    if (options.signal?.aborted) throw new Error('scan aborted');
    if (!kind.namespaced && options.namespace !== undefined) continue;
    let items: readonly unknown[];
    try {
      items = await reader.list(kind, kind.namespaced ? options.namespace : undefined);
    } catch (err) {
      // A kind the API server does not serve holds nothing to judge; anything else leaves the scan incomplete.
      if (isNotFound(err)) continue;
      if (options.skipForbidden && statusOf(err) === 403) {
        forbidden.push(kind.plural);
        continue;
      }
      throw new ScanError(`cannot list ${kind.plural}: ${describeError(err)}`, err);
    }
    for (const item of items) {
      if (!isRecord(item)) continue;
      const object = item as KubeObject;
      // List responses leave kind and apiVersion off their items.
      object.kind = kind.kind;
      object.apiVersion = kind.apiVersion;
      objects.push(object);
    }
  }

  const { scope } = options;
  const namespaces = new Set<string>();
  if (options.namespace !== undefined) {
    if (!wholeNamespaceExempt(config, options.namespace)) namespaces.add(options.namespace);
  } else {
    for (const o of objects) {
      const name = metaOf(o).name;
      if (o.kind !== 'Namespace' || typeof name !== 'string' || wholeNamespaceExempt(config, name)) continue;
      if (scope && !scope.namespace(name, stringMap(metaOf(o).labels))) continue;
      namespaces.add(name);
    }
  }

  // Each workload's kind by uid: an object is left to its owner only when the owner really is of a kind that makes it.
  const workloadKinds = new Map<string, string>();
  for (const o of objects) {
    const uid = uidOf(o);
    if (uid !== undefined && WORKLOADS.has(kindOf(o))) workloadKinds.set(uid, kindOf(o));
  }
  const context = ContextIndex.fromObjects(objects);
  const judged: JudgedObject[] = [];
  let ownedSkipped = 0;
  for (const object of objects) {
    // Namespaces are context only; an HPA is judged like any object when a policy names its kind.
    if (object.kind === 'Namespace') continue;
    const namespace = namespaceOf(object) ?? '';
    if (!namespaces.has(namespace)) {
      // Objects can appear in a namespace listed a moment later; exempt namespaces stay out.
      // With a scope, a namespace whose labels were not listed cannot be placed: the next scan will.
      if (options.namespace !== undefined || scope || wholeNamespaceExempt(config, namespace) || namespace === '') continue;
      namespaces.add(namespace);
    }
    if (scope && !scope.object(object)) continue;
    const owner = controllerRef(object)?.uid;
    const ownerKind = owner === undefined ? undefined : workloadKinds.get(owner);
    if (ownerKind !== undefined && isTemplateOwner(kindOf(object), ownerKind)) {
      ownedSkipped++;
      continue;
    }
    const evaluation = evaluate(object, context, config, { namespace, now: options.now ?? Date.now() });
    if (evaluation) judged.push({ object, uid: uidOf(object), evaluation });
  }
  return { judged, namespaces, listed: objects.length, ownedSkipped, context, forbidden };
}

/** A scan that could not list everything: nothing is published from it, since missing objects would look fixed. */
export class ScanError extends Error {
  override name = 'ScanError';
  constructor(message: string, cause: unknown) {
    super(message, { cause });
  }
}

export interface ClusterAuditorOptions {
  reader: ClusterReader;
  /** The current engine config (the webhook's, swapped on reload). */
  config: () => EngineConfig;
  logger: Logger;
  metrics?: AuditMetrics;
  /** PolicyReports; without it the scan only feeds metrics and logs. */
  reports?: ReportPublisher;
  intervalMs: number;
  /** What the webhook is sent, read before each scan; without it every namespace not wholly exempt is judged. */
  scope?: () => Promise<AdmissionScope>;
  clock?: Clock;
}

/**
 * The background cluster audit: while this replica leads, scan every interval, publish
 * PolicyReports, and set the violation gauges. Leadership loss aborts a scan before it publishes.
 */
export class ClusterAuditor {
  readonly #o: ClusterAuditorOptions;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(options: ClusterAuditorOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger.child({ component: 'cluster-audit' });
  }

  /** One scan and publication; false when it failed (logged). */
  async scanOnce(signal?: AbortSignal): Promise<boolean> {
    const started = this.#clock.now();
    const config = this.#o.config();
    try {
      const scope = await this.#o.scope?.();
      const scan = await scanCluster(this.#o.reader, config, { now: started, ...(signal ? { signal } : {}), ...(scope ? { scope } : {}) });
      if (signal?.aborted) return false;
      this.#o.metrics?.recordViolations(scan.judged);
      const published = this.#o.reports ? await this.#o.reports.publish(scan, config, this.#clock.now(), signal) : undefined;
      const seconds = (this.#clock.now() - started) / 1000;
      this.#o.metrics?.recordScan('success', seconds, this.#clock.now());
      this.#log.info(
        {
          event: 'scan-done',
          listed: scan.listed,
          judged: scan.judged.length,
          ownedSkipped: scan.ownedSkipped,
          namespaces: scan.namespaces.size,
          scope: scope?.source ?? 'all namespaces',
          findings: scan.judged.reduce((n, j) => n + j.evaluation.findings.filter((f) => !f.exempt).length, 0),
          reports: published,
          seconds,
        },
        'cluster audit done',
      );
      return true;
    } catch (err) {
      this.#o.metrics?.recordScan('failure', (this.#clock.now() - started) / 1000);
      if (signal?.aborted) {
        this.#log.info({ event: 'scan-aborted' }, 'cluster audit stopped: no longer leader');
        return false;
      }
      this.#log.error(
        { event: 'scan-failed', err: describeError(err) },
        'cluster audit failed: nothing published; retrying at the next interval',
      );
      return false;
    }
  }

  /** Scans now and every interval until `signal` aborts (leadership lost or shutdown). */
  async runWhileLeading(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.scanOnce(signal);
      await this.#clock.sleep(this.#o.intervalMs, signal);
    }
  }
}
