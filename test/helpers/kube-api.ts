// A small fake Kubernetes API server over plain HTTP, for testing the client-node adapters of
// src/cluster: discovery, paged lists, watches, get/create/replace/patch/delete with
// resourceVersion checks. It stores raw JSON by URL path; it validates nothing else.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  body: unknown;
}

interface Resource {
  groupVersion: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

const RESOURCES: Resource[] = [
  { groupVersion: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { groupVersion: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  { groupVersion: 'v1', plural: 'podtemplates', kind: 'PodTemplate', namespaced: true },
  { groupVersion: 'v1', plural: 'replicationcontrollers', kind: 'ReplicationController', namespaced: true },
  { groupVersion: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { groupVersion: 'v1', plural: 'limitranges', kind: 'LimitRange', namespaced: true },
  { groupVersion: 'apps/v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  { groupVersion: 'apps/v1', plural: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  { groupVersion: 'apps/v1', plural: 'daemonsets', kind: 'DaemonSet', namespaced: true },
  { groupVersion: 'apps/v1', plural: 'replicasets', kind: 'ReplicaSet', namespaced: true },
  { groupVersion: 'batch/v1', plural: 'jobs', kind: 'Job', namespaced: true },
  { groupVersion: 'batch/v1', plural: 'cronjobs', kind: 'CronJob', namespaced: true },
  { groupVersion: 'policy/v1', plural: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true },
  { groupVersion: 'autoscaling/v2', plural: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', namespaced: true },
  { groupVersion: 'networking.k8s.io/v1', plural: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true },
  { groupVersion: 'coordination.k8s.io/v1', plural: 'leases', kind: 'Lease', namespaced: true },
  {
    groupVersion: 'admissionregistration.k8s.io/v1',
    plural: 'validatingwebhookconfigurations',
    kind: 'ValidatingWebhookConfiguration',
    namespaced: false,
  },
  { groupVersion: 'wgpolicyk8s.io/v1alpha2', plural: 'policyreports', kind: 'PolicyReport', namespaced: true },
];

type Json = Record<string, unknown>;

interface ParsedPath {
  resource: Resource;
  namespace: string | undefined;
  name: string | undefined;
}

function parsePath(path: string): ParsedPath | undefined {
  const parts = path.split('/').filter(Boolean);
  let groupVersion: string;
  let rest: string[];
  if (parts[0] === 'api') {
    groupVersion = parts[1] ?? '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    groupVersion = `${parts[1]}/${parts[2]}`;
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = RESOURCES.find((r) => r.groupVersion === groupVersion && r.plural === rest[0]);
  if (!resource) return undefined;
  return { resource, namespace, name: rest[1] };
}

const keyOf = (r: Resource, namespace: string | undefined, name: string) => `${r.groupVersion}/${r.plural}/${namespace ?? ''}/${name}`;

export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  readonly objects = new Map<string, Json>();
  #rv = 1000;
  #server: Server;
  #watches = new Set<{ resource: Resource; namespace: string | undefined; fieldName: string | undefined; res: ServerResponse }>();
  /** Statuses to answer for "METHOD path" (once each), before anything else. */
  readonly failures = new Map<string, number[]>();
  /** Groups/versions that answer 404, as when a CRD is not installed. */
  readonly missing = new Set<string>();
  pageSize: number | undefined;
  port = 0;
  #held = new Map<string, { released: Promise<void>; release(): void }>();

  constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  /** Lists of a resource ("policy/v1/poddisruptionbudgets") wait until the returned function is called: a cache that cannot sync yet. */
  holdLists(groupVersionPlural: string): () => void {
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#held.set(groupVersionPlural, { released, release });
    return () => {
      this.#held.delete(groupVersionPlural);
      release();
    };
  }

  async stop(): Promise<void> {
    for (const held of this.#held.values()) held.release();
    for (const w of this.#watches) w.res.end();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${this.port}`, skipTLSVerify: true }],
      users: [{ name: 'tester', token: 'test-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'tester' }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** Stores an object (as if created by someone else) and tells open watches. */
  put(groupVersionPlural: string, object: Json, type: 'ADDED' | 'MODIFIED' = 'ADDED'): Json {
    const resource = RESOURCES.find((r) => `${r.groupVersion}/${r.plural}` === groupVersionPlural);
    if (!resource) throw new Error(`unknown resource ${groupVersionPlural}`);
    const meta = object.metadata as Json;
    const stored = this.#store(resource, meta.namespace as string | undefined, meta.name as string, object);
    this.#notify(resource, type, stored);
    return stored;
  }

  get(groupVersionPlural: string, namespace: string | undefined, name: string): Json | undefined {
    const resource = RESOURCES.find((r) => `${r.groupVersion}/${r.plural}` === groupVersionPlural);
    return resource && this.objects.get(keyOf(resource, namespace, name));
  }

  /** Sends a raw watch line to every open watch of the resource. */
  sendToWatches(groupVersionPlural: string, event: Json): void {
    for (const w of this.#watches) {
      if (`${w.resource.groupVersion}/${w.resource.plural}` === groupVersionPlural) w.res.write(`${JSON.stringify(event)}\n`);
    }
  }

  get openWatches(): number {
    return this.#watches.size;
  }

  #store(resource: Resource, namespace: string | undefined, name: string, object: Json): Json {
    const meta: Json = {
      ...(object.metadata as Json),
      name,
      resourceVersion: String(++this.#rv),
      uid: (object.metadata as Json).uid ?? `uid-${name}`,
    };
    if (resource.namespaced) meta.namespace = namespace;
    const stored = { ...object, apiVersion: resource.groupVersion, kind: resource.kind, metadata: meta };
    this.objects.set(keyOf(resource, namespace, name), stored);
    return stored;
  }

  #notify(resource: Resource, type: string, object: Json): void {
    const meta = object.metadata as Json;
    for (const w of this.#watches) {
      if (w.resource !== resource) continue;
      if (w.namespace !== undefined && w.namespace !== meta.namespace) continue;
      if (w.fieldName !== undefined && w.fieldName !== meta.name) continue;
      w.res.write(`${JSON.stringify({ type, object })}\n`);
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body: unknown = text === '' ? undefined : JSON.parse(text);
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, query: url.searchParams, contentType: req.headers['content-type'], body });

    const reply = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const status = (code: number, reason: string) =>
      reply(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message: `${reason}: ${method} ${url.pathname}` });

    const failure = this.failures.get(`${method} ${url.pathname}`)?.shift();
    if (failure !== undefined) return status(failure, 'Injected');

    // Discovery: /api/v1, /apis/group/version
    const discovery = RESOURCES.filter(
      (r) => url.pathname === (r.groupVersion.includes('/') ? `/apis/${r.groupVersion}` : `/api/${r.groupVersion}`),
    );
    if (discovery.length > 0) {
      const gv = discovery[0]?.groupVersion ?? '';
      if (this.missing.has(gv)) return status(404, 'NotFound');
      return reply(200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: gv,
        resources: discovery.map((r) => ({
          name: r.plural,
          kind: r.kind,
          namespaced: r.namespaced,
          singularName: '',
          verbs: ['get', 'list', 'watch'],
        })),
      });
    }

    const parsed = parsePath(url.pathname);
    if (!parsed || this.missing.has(parsed.resource.groupVersion)) return status(404, 'NotFound');
    const { resource, namespace, name } = parsed;

    if (name === undefined && method === 'GET') {
      const fieldName = url.searchParams.get('fieldSelector')?.replace(/^metadata\.name=/, '');
      const labelSelector = url.searchParams.get('labelSelector');
      if (url.searchParams.get('watch') === 'true') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        const watch = { resource, namespace, fieldName, res };
        this.#watches.add(watch);
        res.on('close', () => this.#watches.delete(watch));
        return;
      }
      await this.#held.get(`${resource.groupVersion}/${resource.plural}`)?.released;
      let items = [...this.objects.entries()]
        .filter(([key]) => key.startsWith(`${resource.groupVersion}/${resource.plural}/${namespace ?? ''}`))
        .map(([, o]) => o)
        .filter((o) => fieldName === undefined || (o.metadata as Json).name === fieldName)
        .filter((o) => {
          if (!labelSelector) return true;
          const [k, v] = labelSelector.split('=');
          return ((o.metadata as Json).labels as Json | undefined)?.[k ?? ''] === v;
        });
      // Paging: the continue token is the offset; each page has the snapshot's resourceVersion.
      const offset = Number(url.searchParams.get('continue') ?? '0');
      const limit = Number(url.searchParams.get('limit') ?? '0') || Infinity;
      const page = Math.min(limit, this.pageSize ?? Infinity);
      const next = offset + page < items.length ? String(offset + page) : undefined;
      items = items.slice(offset, offset + page).map((o) => {
        // The API server leaves kind and apiVersion off list items.
        const { kind: _k, apiVersion: _a, ...rest } = o;
        return rest;
      });
      return reply(200, {
        kind: `${resource.kind}List`,
        apiVersion: resource.groupVersion,
        metadata: { resourceVersion: String(this.#rv), ...(next ? { continue: next } : {}) },
        items,
      });
    }

    if (name === undefined && method === 'POST') {
      const object = body as Json;
      const objName = (object.metadata as Json).name as string;
      if (this.objects.has(keyOf(resource, namespace, objName))) return status(409, 'AlreadyExists');
      const stored = this.#store(resource, namespace, objName, object);
      this.#notify(resource, 'ADDED', stored);
      return reply(201, stored);
    }
    if (name === undefined) return status(405, 'MethodNotAllowed');

    const key = keyOf(resource, namespace, name);
    const current = this.objects.get(key);
    switch (method) {
      case 'GET':
        return current ? reply(200, current) : status(404, 'NotFound');
      case 'PUT': {
        if (!current) return status(404, 'NotFound');
        const sent = (body as Json).metadata as Json;
        if (sent.resourceVersion !== (current.metadata as Json).resourceVersion) return status(409, 'Conflict');
        const stored = this.#store(resource, namespace, name, body as Json);
        this.#notify(resource, 'MODIFIED', stored);
        return reply(200, stored);
      }
      case 'PATCH': {
        if (!current) return status(404, 'NotFound');
        // Only what practice-gate sends: a strategic merge of webhooks by name.
        const patch = body as { webhooks?: Array<{ name: string; clientConfig?: Json }> };
        const webhooks = ((current.webhooks as Array<Json & { name: string; clientConfig?: Json }>) ?? []).map((w) => {
          const change = patch.webhooks?.find((p) => p.name === w.name);
          return change ? { ...w, clientConfig: { ...w.clientConfig, ...change.clientConfig } } : w;
        });
        const stored = this.#store(resource, namespace, name, { ...current, webhooks });
        return reply(200, stored);
      }
      case 'DELETE':
        if (!current) return status(404, 'NotFound');
        this.objects.delete(key);
        this.#notify(resource, 'DELETED', current);
        return reply(200, { kind: 'Status', status: 'Success' });
      default:
        return status(405, 'MethodNotAllowed');
    }
  }
}
