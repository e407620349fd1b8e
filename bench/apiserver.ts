// Admission through the API server, the way Kyverno measures its overhead: create (then
// delete) N Deployments and N Pods through a real kube-apiserver at fixed concurrency, with
// (a) no admission check, (b) practice-gate as a validating webhook, (c) a
// ValidatingAdmissionPolicy in CEL checking the same run-as-non-root and resource-requests
// rules inside the API server, (d) the Polaris webhook (`polaris webhook`, validating, its
// default checks) when ensure-peers.sh could build it, registered by URL through its own
// ValidatingWebhookConfiguration with the same rules, timeout and failurePolicy as (b).
// Reports create latency p50/p99 and what each adds over (a); the cases take turns, in an
// order that rotates each round.
// Run: npm run bench:apiserver   (builds, then node dist/bench/apiserver.js; needs the e2e
// binaries from test/e2e/tools/ensure-tools.sh)
// BENCH_OBJECTS (default 300 of each kind per case), BENCH_CONCURRENCY (default 2), BENCH_ROUNDS (3).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'node:https';
import { loadavg } from 'node:os';
import { startCluster } from '../test/e2e/fixture/cluster.js';
import type { Cluster } from '../test/e2e/fixture/cluster.js';
import { waitFor } from '../test/e2e/fixture/processes.js';
import { makeCerts } from '../test/e2e/fixture/cluster.js';
import { freePort } from '../test/e2e/fixture/processes.js';
import { WEBHOOK_CONFIG_NAME, registerWebhooks, startWebhook } from '../test/e2e/fixture/webhook.js';
import { COMPLIANT, NAMESPACE, NOTHING, deployment, pod } from './lib/manifests.js';
import type { KubeJson } from './lib/manifests.js';
import { ensurePeers } from './lib/peers.js';
import { machine } from './lib/proc.js';
import { startPolaris } from './lib/servers.js';
import type { Server } from './lib/servers.js';
import { fixed, int, table } from './lib/table.js';

const N = Number(process.env.BENCH_OBJECTS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 2);
const WARMUP = 40;

const VAP_NAME = 'practice-gate-bench-cel';

/** The same two rules as run-as-non-root and resource-requests, in CEL, for Pods and Deployments. */
const VAP = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicy',
  metadata: { name: VAP_NAME },
  spec: {
    failurePolicy: 'Fail',
    matchConstraints: {
      resourceRules: [
        { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods'] },
        { apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments'] },
      ],
    },
    variables: [
      { name: 'spec', expression: "object.kind == 'Pod' ? object.spec : object.spec.template.spec" },
      {
        name: 'podNonRoot',
        expression:
          'has(variables.spec.securityContext) && has(variables.spec.securityContext.runAsNonRoot) && variables.spec.securityContext.runAsNonRoot',
      },
      {
        name: 'podUser',
        expression:
          'has(variables.spec.securityContext) && has(variables.spec.securityContext.runAsUser) ? variables.spec.securityContext.runAsUser : -1',
      },
    ],
    validations: [
      {
        expression:
          'variables.spec.containers.all(c, ' +
          '(has(c.securityContext) && has(c.securityContext.runAsUser) ? c.securityContext.runAsUser : variables.podUser) != 0 && (' +
          '(has(c.securityContext) && has(c.securityContext.runAsNonRoot) ? c.securityContext.runAsNonRoot : variables.podNonRoot) || ' +
          '(has(c.securityContext) && has(c.securityContext.runAsUser) ? c.securityContext.runAsUser : variables.podUser) > 0))',
        message: 'every container must run as non-root: set securityContext.runAsNonRoot: true',
      },
      {
        expression:
          'variables.spec.containers.all(c, has(c.resources) && ' +
          "['cpu', 'memory'].all(r, (has(c.resources.requests) && r in c.resources.requests) || (has(c.resources.limits) && r in c.resources.limits)))",
        message: 'every container must request cpu and memory: set resources.requests.cpu and .memory',
      },
    ],
  },
};

const VAP_BINDING = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicyBinding',
  metadata: { name: VAP_NAME },
  spec: { policyName: VAP_NAME, validationActions: ['Deny'] },
};

interface Client {
  send(method: string, path: string, body?: unknown): Promise<{ status: number; ms: number; text: string }>;
  close(): void;
}

/** A keep-alive client with the admin token: one TLS connection per worker, reused. */
function client(cluster: Cluster): Client {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: readFileSync(cluster.caFile) });
  const url = new URL(cluster.apiUrl);
  return {
    send: (method, path, body) =>
      new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const started = process.hrtime.bigint();
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path,
            method,
            agent,
            headers: {
              authorization: `Bearer ${cluster.token}`,
              'content-type': 'application/json',
              accept: 'application/json',
              ...(payload ? { 'content-length': Buffer.byteLength(payload) } : {}),
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (d: string) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - started) / 1e6, text }));
          },
        );
        req.on('error', reject);
        req.end(payload);
      }),
    close: () => agent.destroy(),
  };
}

function pathOf(object: KubeJson, named = false): string {
  const name = (object.metadata as { name: string }).name;
  const base = object.kind === 'Pod' ? `/api/v1/namespaces/${NAMESPACE}/pods` : `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`;
  return named ? `${base}/${name}` : base;
}

/** Runs `work` over `items` with CONCURRENCY workers. */
async function pool<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

interface CaseResult {
  name: string;
  deployments: number[];
  pods: number[];
  failures: number;
}

async function runCase(name: string, c: Client, tag: string): Promise<CaseResult> {
  const objects = (count: number, prefix: string) =>
    Array.from({ length: count }, (_, i) => [deployment(`${prefix}-d${i}`, [COMPLIANT]), pod(`${prefix}-p${i}`, COMPLIANT)]).flat();
  let failures = 0;
  const createAll = async (list: KubeJson[], into?: { deployments: number[]; pods: number[] }) => {
    await pool(list, async (o) => {
      const r = await c.send('POST', pathOf(o), o);
      if (r.status !== 201) {
        failures++;
        if (failures <= 3) process.stderr.write(`bench: ${name}: create ${o.kind} answered ${r.status}: ${r.text.slice(0, 300)}\n`);
      } else if (into) (o.kind === 'Pod' ? into.pods : into.deployments).push(r.ms);
    });
  };
  const deleteAll = (list: KubeJson[]) => pool(list, async (o) => void (await c.send('DELETE', pathOf(o, true))));
  const warm = objects(WARMUP / 2, `warm-${tag}`);
  await createAll(warm);
  await deleteAll(warm);
  const result: CaseResult = { name, deployments: [], pods: [], failures: 0 };
  const measured = objects(N, tag);
  await createAll(measured, result);
  await deleteAll(measured);
  result.failures = failures;
  return result;
}

/** True once the API server refuses a non-compliant Pod (dry run): the check is in force. */
async function refuses(c: Client): Promise<boolean> {
  const bad = pod('bench-probe', NOTHING);
  const r = await c.send('POST', `${pathOf(bad)}?dryRun=All`, bad);
  return r.status >= 400;
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const peers = ensurePeers();
console.log('# Through the API server: create latency with and without admission checks');
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {
  // not in a checkout
}
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
console.log(`machine: ${machine()}; commit ${commit}; load average at the start ${load()}`);
console.log(
  `kube-apiserver + etcd from test/e2e (loopback, audit log on as in the e2e suite); per case ${N} Deployments (3 containers) and ${N} Pods, ` +
    `all compliant, created then deleted by ${CONCURRENCY} workers over keep-alive HTTPS with the admin token; the cases take turns in ${ROUNDS} rounds ` +
    `so that drift on the shared machine spreads evenly; ${WARMUP} warm-up objects before each turn\n`,
);

const cluster = await startCluster();
const c = client(cluster);
const CASES: string[] = ['(a) no admission check', '(b) practice-gate webhook', '(c) ValidatingAdmissionPolicy (CEL)'];
if (peers.polaris) CASES.push('(d) Polaris webhook');
const POLARIS_CONFIG_NAME = 'polaris-bench';
const loads: string[] = [];
const results = new Map<string, CaseResult>(CASES.map((name) => [name, { name, deployments: [], pods: [], failures: 0 }]));
const notes: string[] = [];
const api = async (method: string, path: string, body?: unknown) => {
  const r = await cluster.api(method, path, body);
  if (r.status >= 300 && !(method === 'DELETE' && r.status === 404))
    throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
};
const VAPS = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';
const BINDINGS = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings';
try {
  await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  // practice-gate keeps running throughout; the cases switch its registration on and off.
  const webhook = await startWebhook(cluster, { config: 'mode: enforce\n' });
  const unregister = async () => {
    await api('DELETE', `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${WEBHOOK_CONFIG_NAME}`);
    await waitFor('the webhook to be unregistered', async () => (!(await refuses(c)) ? true : undefined), 30_000);
  };
  await unregister();
  let polaris: Server | undefined;
  let polarisEntry: Record<string, unknown> | undefined;
  if (peers.polaris) {
    // Its own certificate for 127.0.0.1 in a --cert-dir (tls.crt/tls.key, as controller-runtime wants).
    const pki = join(cluster.dir, 'polaris-pki');
    const certs = makeCerts(pki, 'polaris', 'polaris');
    const port = await freePort();
    polaris = await startPolaris(peers.polaris, { ...certs, dir: pki }, port, cluster.kubeconfig, false);
    // The same rules, timeout, failurePolicy and namespaceSelector as practice-gate's entry.
    polarisEntry = {
      ...webhook.entry('Fail', 'validate.polaris.bench'),
      clientConfig: { url: `https://127.0.0.1:${port}/validate`, caBundle: certs.caBundle },
    };
  }
  try {
    for (let round = 0; round < ROUNDS; round++) {
      loads.push(load());
      // Rotate who goes first, so drift on the shared machine spreads over every case.
      for (const name of CASES.map((_, i) => CASES[(i + round) % CASES.length]!)) {
        if (name.startsWith('(b)')) {
          await webhook.register('Fail');
          await waitFor('practice-gate to refuse', async () => ((await refuses(c)) ? true : undefined), 30_000);
        }
        if (name.startsWith('(c)')) {
          await api('POST', VAPS, VAP);
          await api('POST', BINDINGS, VAP_BINDING);
          await waitFor('the ValidatingAdmissionPolicy to refuse', async () => ((await refuses(c)) ? true : undefined), 30_000);
        }
        if (name.startsWith('(d)')) {
          await registerWebhooks(cluster, POLARIS_CONFIG_NAME, [polarisEntry!]);
          await waitFor('Polaris to refuse', async () => ((await refuses(c)) ? true : undefined), 30_000);
        }
        const r = await runCase(name, c, `r${round}-${name.slice(1, 2)}`);
        const into = results.get(name)!;
        into.deployments.push(...r.deployments);
        into.pods.push(...r.pods);
        into.failures += r.failures;
        if (name.startsWith('(b)')) await unregister();
        if (name.startsWith('(c)')) {
          await api('DELETE', `${BINDINGS}/${VAP_NAME}`);
          await api('DELETE', `${VAPS}/${VAP_NAME}`);
          await waitFor('the policy to be removed', async () => (!(await refuses(c)) ? true : undefined), 30_000);
        }
        if (name.startsWith('(d)')) {
          await api('DELETE', `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${POLARIS_CONFIG_NAME}`);
          await waitFor('Polaris to be unregistered', async () => (!(await refuses(c)) ? true : undefined), 30_000);
        }
      }
    }
  } finally {
    await polaris?.stop();
  }
  await webhook.stop();
  if (!peers.polaris) notes.push('(d) Polaris webhook: not measured, ensure-peers.sh could not build it (see above)');
} finally {
  c.close();
  await cluster.stop();
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99) };
};
const all = [...results.values()];
const base = { d: stats(all[0]!.deployments), p: stats(all[0]!.pods) };
const rows = [
  ['case', 'Deployment p50 ms', 'p99 ms', 'added p50', 'added p99', 'Pod p50 ms', 'p99 ms', 'added p50', 'added p99', 'failed'],
];
for (const r of all) {
  const d = stats(r.deployments);
  const p = stats(r.pods);
  rows.push([
    r.name,
    fixed(d.p50),
    fixed(d.p99),
    fixed(d.p50 - base.d.p50),
    fixed(d.p99 - base.d.p99),
    fixed(p.p50),
    fixed(p.p99),
    fixed(p.p50 - base.p.p50),
    fixed(p.p99 - base.p.p99),
    int(r.failures),
  ]);
}
console.log(table(rows));
for (const n of notes) console.log(`\n${n}`);
console.log(`\nload average at the start of each round: ${loads.join('; ')}; at the end ${load()}`);
const added = (r: CaseResult) => {
  const d = stats(r.deployments);
  const p = stats(r.pods);
  return { p50: Math.max(d.p50 - base.d.p50, p.p50 - base.p.p50), p99: Math.max(d.p99 - base.d.p99, p.p99 - base.p.p99) };
};
const g = added(results.get(CASES[1]!)!);
const vap = added(results.get(CASES[2]!)!);
const po = CASES[3] ? added(results.get(CASES[3])!) : undefined;
const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
console.log('\nTargets (what each check adds over (a), the worse of Deployments and Pods):');
if (po) {
  console.log(
    `  below Polaris': p50 +${fixed(g.p50)} vs +${fixed(po.p50)} ms (${verdict(g.p50 < po.p50)}), p99 +${fixed(g.p99)} vs +${fixed(po.p99)} ms (${verdict(g.p99 < po.p99)})`,
  );
} else console.log("  below Polaris': not measured");
console.log(
  `  within 1.5× of the ValidatingAdmissionPolicy's: p50 ${fixed(g.p50 / vap.p50)}× (+${fixed(g.p50)} vs +${fixed(vap.p50)} ms: ${verdict(g.p50 <= 1.5 * vap.p50)}), ` +
    `p99 ${fixed(g.p99 / vap.p99)}× (+${fixed(g.p99)} vs +${fixed(vap.p99)} ms: ${verdict(g.p99 <= 1.5 * vap.p99)})`,
);
