// The small interfaces of the cluster modules, implemented with @kubernetes/client-node. Nothing
// here decides anything; it translates calls and shapes so the rest can be tested with fakes.
import {
  AdmissionregistrationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  Watch,
} from '@kubernetes/client-node';
import type { KubeConfig, KubernetesObject, V1Lease, V1Secret } from '@kubernetes/client-node';
import { isRecord, stringMap } from '../../engine/k8s.js';
import type { SecretContent } from '../certs/cert-plan.js';
import type { SecretStore, StoredSecret, WebhookStore } from '../certs/certs.js';
import { isNotFound } from './errors.js';
import type { LeaseRecord, LeaseStore, StoredLease } from '../leader/leader.js';
import type { ListerWatcher, ListPage } from './reflector.js';
import { LIMIT_RANGE_RESOURCE, limitRangeFromClientModel } from './limit-range-source.js';
import { MANAGED_BY, MANAGED_BY_LABEL, REPORT_GROUP, REPORT_PLURAL, REPORT_VERSION } from '../scan/reports.js';
import type { PolicyReport, PolicyReportStore } from '../scan/reports.js';
import { SERVICE_NAME_LABEL } from '../certs/rollout.js';
import type { EndpointSliceSource } from '../certs/rollout.js';
import type { ClusterReader, ScanKind } from '../scan/scanner.js';

export interface ResourceRef {
  apiVersion: string;
  kind: string;
  plural: string;
}

export interface ListOptions {
  namespace?: string;
  fieldSelector?: string;
  labelSelector?: string;
  /**
   * Applied to each item as its page arrives; undefined drops the item. A big list then never
   * holds more than one page of whole objects (the informers keep projections of workloads).
   */
  project?: (item: unknown) => unknown;
}

/** Page size for lists: big clusters are listed in chunks instead of one huge response. */
const PAGE_SIZE = 500;
/**
 * Page size for PolicyReports, which are far bigger than most objects (up to MAX_REPORT_BYTES
 * each): a page stays in the tens of megabytes even when every report is full.
 */
export const REPORT_PAGE_SIZE = 50;

export function apiPath(ref: Pick<ResourceRef, 'apiVersion' | 'plural'>, namespace?: string): string {
  const base = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  return namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${ref.plural}` : `${base}/${ref.plural}`;
}

/** The clients the cluster features need, made once from one KubeConfig. */
export class KubeClients {
  readonly objects: KubernetesObjectApi;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  readonly admission: AdmissionregistrationV1Api;
  readonly custom: CustomObjectsApi;
  readonly discovery: DiscoveryV1Api;
  readonly watch: Watch;

  constructor(readonly kubeConfig: KubeConfig) {
    this.objects = KubernetesObjectApi.makeApiClient(kubeConfig);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.coordination = kubeConfig.makeApiClient(CoordinationV1Api);
    this.admission = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
    this.watch = new Watch(kubeConfig);
  }

  /** Every object of a kind, all pages; the resourceVersion is the collection's, for a watch to resume from. */
  async listAll(ref: ResourceRef, options: ListOptions = {}): Promise<ListPage> {
    const items: unknown[] = [];
    let resourceVersion = '';
    let token: string | undefined;
    do {
      const page = await this.objects.list<KubernetesObject>(
        ref.apiVersion,
        ref.kind,
        options.namespace,
        undefined,
        undefined,
        undefined,
        options.fieldSelector,
        options.labelSelector,
        PAGE_SIZE,
        token,
      );
      const project = options.project;
      const listed = ref.kind === LIMIT_RANGE_RESOURCE.kind ? (page.items ?? []).map(limitRangeFromClientModel) : (page.items ?? []);
      if (project) {
        for (const item of listed) {
          const kept = project(item);
          if (kept !== undefined) items.push(kept);
        }
      } else items.push(...listed);
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      token = page.metadata?._continue || undefined;
    } while (token);
    return { items, resourceVersion };
  }

  listerWatcher(ref: ResourceRef, options: ListOptions = {}): ListerWatcher {
    const path = apiPath(ref, options.namespace);
    return {
      list: () => this.listAll(ref, options),
      watch: async (resourceVersion, onEvent, onDone, { timeoutSeconds }) => {
        // The API server ends the stream after timeoutSeconds. That does not bound a half-open
        // connection: client-node's request timeout covers the response headers, not the streamed
        // body, so nothing here ever fails on a dead peer. The reflector's watchdog does that,
        // counting on timeoutSeconds and on the bookmarks asked for here.
        const controller = await this.watch.watch(
          path,
          {
            resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds,
            fieldSelector: options.fieldSelector,
            labelSelector: options.labelSelector,
          },
          (type: string, object: unknown) => onEvent({ type, object }),
          (err: unknown) => onDone(err ?? undefined),
        );
        return { abort: () => controller.abort() };
      },
    };
  }

  clusterReader(): ClusterReader {
    return {
      list: async (kind: ScanKind, namespace?: string) => (await this.listAll(kind, namespace !== undefined ? { namespace } : {})).items,
    };
  }

  secretStore(namespace: string, name: string): SecretStore {
    const core = this.core;
    const decode = (secret: V1Secret): StoredSecret => {
      const data: Record<string, string> = {};
      for (const [key, value] of Object.entries(secret.data ?? {})) data[key] = Buffer.from(value, 'base64').toString('utf8');
      return { resourceVersion: secret.metadata?.resourceVersion ?? '', data, annotations: stringMap(secret.metadata?.annotations) };
    };
    const encode = (data: Record<string, string>): Record<string, string> =>
      Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]));
    const read = async (): Promise<V1Secret | undefined> => {
      try {
        return await core.readNamespacedSecret({ name, namespace });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    };
    return {
      get: async () => {
        const secret = await read();
        return secret && decode(secret);
      },
      create: async (content: SecretContent) =>
        decode(
          await core.createNamespacedSecret({
            namespace,
            body: {
              apiVersion: 'v1',
              kind: 'Secret',
              type: 'kubernetes.io/tls',
              metadata: { name, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY }, annotations: content.annotations },
              data: encode(content.data),
            },
          }),
        ),
      update: async (resourceVersion: string, content: SecretContent) => {
        // A replace must repeat the Secret's type (immutable) and keep others' labels: start from what is stored.
        const current = await read();
        if (!current) throw Object.assign(new Error(`Secret ${namespace}/${name} was deleted`), { code: 409 });
        if (current.metadata?.resourceVersion !== resourceVersion)
          throw Object.assign(new Error(`Secret ${namespace}/${name} changed`), { code: 409 });
        return decode(
          await core.replaceNamespacedSecret({
            name,
            namespace,
            body: {
              ...current,
              metadata: {
                ...current.metadata,
                resourceVersion,
                labels: { ...current.metadata?.labels, [MANAGED_BY_LABEL]: MANAGED_BY },
                annotations: content.annotations,
              },
              data: encode(content.data),
            },
          }),
        );
      },
    };
  }

  webhookStore(configName: string): WebhookStore {
    const admission = this.admission;
    return {
      caBundles: async () => {
        try {
          const config = await admission.readValidatingWebhookConfiguration({ name: configName });
          return new Map((config.webhooks ?? []).map((w) => [w.name, w.clientConfig?.caBundle ?? '']));
        } catch (err) {
          if (isNotFound(err)) return undefined;
          throw err;
        }
      },
      setCaBundle: async (names, caBundle) => {
        // Strategic merge by webhook name: only caBundle changes, and webhooks added meanwhile are not overwritten.
        await admission.patchValidatingWebhookConfiguration(
          { name: configName, body: { webhooks: names.map((name) => ({ name, clientConfig: { caBundle } })) } },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
        );
      },
    };
  }

  /** The EndpointSlices of a Service: one list, unpaged (a Service has a slice per 100 endpoints). */
  endpointSliceSource(namespace: string, service: string): EndpointSliceSource {
    const discovery = this.discovery;
    return {
      list: async () =>
        (await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `${SERVICE_NAME_LABEL}=${service}` })).items,
    };
  }

  leaseStore(namespace: string, name: string): LeaseStore {
    const api = this.coordination;
    const toStored = (lease: V1Lease): StoredLease => {
      // Deserialized MicroTimes arrive as strings, whatever the type says: read the spec as untrusted.
      const spec: Record<string, unknown> = isRecord(lease.spec) ? lease.spec : {};
      const record: Partial<LeaseRecord> = {};
      if (typeof spec.holderIdentity === 'string') record.holderIdentity = spec.holderIdentity;
      if (typeof spec.leaseDurationSeconds === 'number') record.leaseDurationSeconds = spec.leaseDurationSeconds;
      if (typeof spec.leaseTransitions === 'number') record.leaseTransitions = spec.leaseTransitions;
      const acquire = toMs(spec.acquireTime);
      const renew = toMs(spec.renewTime);
      if (acquire !== undefined) record.acquireTime = acquire;
      if (renew !== undefined) record.renewTime = renew;
      return { resourceVersion: lease.metadata?.resourceVersion ?? '', record };
    };
    // MicroTime must be sent with microseconds; V1MicroTime serializes that way.
    const spec = (r: LeaseRecord) => ({
      holderIdentity: r.holderIdentity,
      leaseDurationSeconds: r.leaseDurationSeconds,
      acquireTime: new V1MicroTime(r.acquireTime),
      renewTime: new V1MicroTime(r.renewTime),
      leaseTransitions: r.leaseTransitions,
    });
    return {
      get: async () => {
        try {
          return toStored(await api.readNamespacedLease({ name, namespace }));
        } catch (err) {
          if (isNotFound(err)) return undefined;
          throw err;
        }
      },
      create: async (record) =>
        toStored(
          await api.createNamespacedLease({
            namespace,
            body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: spec(record) },
          }),
        ),
      update: async (resourceVersion, record) =>
        toStored(
          await api.replaceNamespacedLease({
            name,
            namespace,
            body: {
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              metadata: { name, namespace, resourceVersion },
              spec: spec(record),
            },
          }),
        ),
    };
  }

  policyReportStore(): PolicyReportStore {
    const custom = this.custom;
    const where = { group: REPORT_GROUP, version: REPORT_VERSION, plural: REPORT_PLURAL };
    return {
      list: async () => {
        // Paged: one unpaged list of every namespace's report could be hundreds of megabytes.
        const reports: PolicyReport[] = [];
        let token: string | undefined;
        do {
          const page: unknown = await custom.listClusterCustomObject({
            ...where,
            labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}`,
            limit: REPORT_PAGE_SIZE,
            ...(token !== undefined ? { _continue: token } : {}),
          });
          if (isRecord(page) && Array.isArray(page.items)) reports.push(...(page.items as PolicyReport[]));
          const meta = isRecord(page) && isRecord(page.metadata) ? page.metadata : {};
          token = typeof meta.continue === 'string' && meta.continue !== '' ? meta.continue : undefined;
        } while (token !== undefined);
        return reports;
      },
      create: async (report) => {
        await custom.createNamespacedCustomObject({ ...where, namespace: report.metadata.namespace, body: report });
      },
      replace: async (report) => {
        await custom.replaceNamespacedCustomObject({
          ...where,
          namespace: report.metadata.namespace,
          name: report.metadata.name,
          body: report,
        });
      },
      delete: async (namespace, name) => {
        await custom.deleteNamespacedCustomObject({ ...where, namespace, name });
      },
    };
  }
}

function toMs(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}
