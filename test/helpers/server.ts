// Shared by the webhook tests (test/server, test/cli/serve.test.ts): a fixed policy registry,
// AdmissionReview builders and an HTTPS client that keeps its connection.
import { once } from 'node:events';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { Test } from 'tap';
import runAsNonRoot from '../../policies/run-as-non-root/policy.js';
import { DEFAULT_CONFIG, WORKLOAD_KINDS, compileConfig, nameOf, namespaceOf } from '../../src/engine/index.js';
import type { Action, Config, EngineConfig, KubeObject, Policy, WorkloadPolicy } from '../../src/engine/index.js';
import { startServer } from '../../src/server/run.js';
import type { ServeOptions, ServerHandle } from '../../src/server/run.js';
import { devCertificates } from '../../src/tls/dev.js';

/** A second policy owned by the tests, so responses do not change as the real registry grows. */
export const imageTagPolicy: WorkloadPolicy = {
  id: 'test-image-tag',
  title: 'Images name a tag (test policy)',
  why: 'Used by the webhook tests only.',
  fix: 'image: registry.example/app:1.2.3',
  defaultAction: 'warn',
  kinds: WORKLOAD_KINDS,
  target: 'workload',
  check(workload) {
    return workload.containers
      .filter((c) => typeof c.container.image !== 'string' || !/:[^/]+$/.test(c.container.image))
      .map((c) => ({
        container: c.name,
        path: `${c.path}.image`,
        message: `container "${c.name}" image has no tag: pin a version`,
      }));
  },
};

/** A policy that throws, standing for a bug in a policy. */
export const explodingPolicy: WorkloadPolicy = {
  ...imageTagPolicy,
  id: 'test-explodes',
  defaultAction: 'deny',
  check(workload) {
    if (workload.name === 'boom') throw new Error('policy bug: cannot read properties of undefined');
    return [];
  },
};

export const TEST_REGISTRY: readonly Policy[] = [runAsNonRoot, imageTagPolicy, explodingPolicy];

/** Only the named policies are active, with the given actions. */
export function engineConfig(actions: Record<string, Exclude<Action, 'off'>>, config: Partial<Config> = {}): EngineConfig {
  const registry = TEST_REGISTRY.filter((p) => p.id in actions);
  return compileConfig({ ...DEFAULT_CONFIG, ...config, policies: { ...actions } }, registry);
}

export interface ContainerSpec {
  name: string;
  image?: string;
  nonRoot?: boolean;
}

function containers(specs: readonly ContainerSpec[]): object[] {
  return specs.map((c) => ({
    name: c.name,
    image: c.image ?? 'registry.example/app:1.0.0',
    ...(c.nonRoot ? { securityContext: { runAsNonRoot: true } } : {}),
  }));
}

export function deployment(name: string, namespace: string, specs: readonly ContainerSpec[], meta: object = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, ...meta },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: containers(specs) } },
    },
  };
}

export function pod(name: string, namespace: string, specs: readonly ContainerSpec[], meta: object = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, ...meta }, spec: { containers: containers(specs) } };
}

export interface ReviewOptions {
  uid?: string;
  operation?: string;
  namespace?: string;
  dryRun?: boolean;
  /** userInfo.username: who writes the object (default a developer). */
  username?: string;
}

const GROUPS: Record<string, string> = { Pod: '', Deployment: 'apps', ReplicaSet: 'apps', Job: 'batch', ConfigMap: '' };

/** The AdmissionReview the API server would send for `object`. */
export function admissionReview(object: KubeObject | undefined, options: ReviewOptions = {}): Record<string, unknown> {
  const kind = typeof object?.kind === 'string' ? object.kind : 'Pod';
  const request: Record<string, unknown> = {
    uid: options.uid ?? '705ab4f5-6393-11e8-b7cc-42010a800002',
    kind: { group: GROUPS[kind] ?? '', version: 'v1', kind },
    resource: { group: GROUPS[kind] ?? '', version: 'v1', resource: `${kind.toLowerCase()}s` },
    name: object ? nameOf(object) : '',
    namespace: options.namespace ?? (object && namespaceOf(object)) ?? 'default',
    operation: options.operation ?? 'CREATE',
    userInfo: { username: options.username ?? 'dev@example.com', groups: ['system:authenticated'] },
    object: object ?? null,
    oldObject: null,
    dryRun: options.dryRun ?? false,
  };
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
}

let certificates: ReturnType<typeof devCertificates> | undefined;
/** One dev CA and serving pair per test process: RSA key generation takes a second or two. */
export function testCertificates(): ReturnType<typeof devCertificates> {
  certificates ??= devCertificates({ validityDays: 2 });
  return certificates;
}

export interface HttpsResult {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** SHA-256 fingerprint of the certificate the server presented. */
  fingerprint: string;
  json(): any;
}

export interface RequestOptions {
  method?: string;
  path?: string;
  body?: string | Buffer;
  headers?: Record<string, string | number>;
  /** false: a new connection for this request alone (the default). */
  agent?: https.Agent | false;
  ca: string;
  /** A client certificate and key, for servers that require one. */
  cert?: string;
  key?: string;
}

/** One HTTPS request to 127.0.0.1:port; resolves with the whole answer. */
export function httpsRequest(port: number, options: RequestOptions): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    };
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: options.path ?? '/validate',
        method: options.method ?? (options.body !== undefined ? 'POST' : 'GET'),
        headers,
        ca: options.ca,
        ...(options.cert !== undefined ? { cert: options.cert, key: options.key } : {}),
        agent: options.agent ?? false,
      },
      (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate?.()?.fingerprint256 ?? '';
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, fingerprint, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** POSTs an AdmissionReview and returns its response part. */
export async function postReview(port: number, review: unknown, ca: string, agent?: https.Agent): Promise<any> {
  const res = await httpsRequest(port, { body: JSON.stringify(review), ca, agent });
  if (res.status !== 200) throw new Error(`expected 200, got ${res.status}: ${res.text}`);
  return res.json().response;
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

// The server tests import it from here, with the rest of their helpers.
export { eventually } from './poll.js';

/**
 * Bodies parsed on the event loop, whatever their size, and so no worker warmed at start (which
 * readiness would wait for): under tap a large-body worker loads tsx and compiles what it imports,
 * which on a loaded machine takes longer than the 10 s request timeout, and than the pool's 3 s
 * for the warm-up. The worker path has its own tests (test/server/large-body.test.ts, warm-up.test.ts).
 */
export const EVENT_LOOP_BODIES = { threshold: Number.POSITIVE_INFINITY };

/** startServer on loopback with the test certificates and registry, run-as-non-root denying. */
export async function startTestServer(options: Partial<ServeOptions> = {}): Promise<ServerHandle> {
  const largeBodies = EVENT_LOOP_BODIES;
  const server = await startServer({
    tls: { pems: testCertificates().serving },
    port: 0,
    host: '127.0.0.1',
    registry: TEST_REGISTRY,
    processMetrics: false,
    largeBodies,
    ...options,
  });
  server.state.engineConfig = engineConfig({ 'run-as-non-root': 'deny' });
  return server;
}

export { once };

/**
 * A gate on a free port of 127.0.0.1 judging with only the given policies, closed when `t`
 * ends, and `send`, which POSTs a body to /validate over one kept-alive connection.
 */
export async function startTestGate(t: Test, actions: Record<string, Exclude<Action, 'off'>>, logger?: Logger) {
  const certs = testCertificates();
  const server = await startTestServer(logger ? { logger } : {});
  server.state.engineConfig = engineConfig(actions);
  t.teardown(() => server.close());
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const ca = certs.ca.cert;
  const send = (body: string | Buffer, headers: Record<string, string | number> = {}) =>
    httpsRequest(server.port, { body, headers, ca, agent });
  return { server, ca, send };
}
