// Differential proof of `practice-gate vap`: the exported ValidatingAdmissionPolicies, loaded
// into a real kube-apiserver, judge every good and bad example of the example rules and of every
// exported built-in policy exactly as practice-gate does (server-side dry-run creates, object by
// object). A difference is a bug in one of the two translations of the same rule.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseAllDocuments, stringify } from 'yaml';
import { POLICIES } from '../../policies/index.js';
import { CLI, REPO, run, startCluster } from './fixture/cluster.js';
import type { Cluster } from './fixture/cluster.js';
import { waitFor } from './fixture/processes.js';

const CONFIG = join(REPO, 'examples/rules/practice-gate.yaml');
const NS = 'shop';
const EXPORTED_POLICIES = POLICIES.filter((p) => p.cel !== undefined && 'validations' in p.cel).map((p) => p.id);
const JUDGED = new Set(['require-team-label', 'allowed-registries', 'memory-limit-cap', ...EXPORTED_POLICIES]);

interface Verdict {
  deny: string[];
  warn: string[];
}

let cluster: Cluster;
const scratch = mkdtempSync(join(tmpdir(), 'pg-vap-'));

t.before(async () => {
  cluster = await startCluster();
  const ns = await cluster.kubectl(['create', 'namespace', NS]);
  if (ns.code !== 0) throw new Error(ns.stderr);
  const exported = await run(process.execPath, [CLI, 'vap', '--config', CONFIG]);
  if (exported.code !== 0) throw new Error(exported.stderr);
  const applied = await cluster.kubectl(['apply', '-f', '-'], exported.stdout);
  if (applied.code !== 0) {
    // The server quotes each expression at length; its compiler's errors are what says what is wrong.
    const errors = [...new Set(applied.stderr.match(/(?:"practice-gate-[a-z0-9-]+" is invalid|ERROR: <input>:[0-9:]+ [^|]*)/g) ?? [])];
    throw new Error(`kubectl apply of the exported VAPs failed: ${errors.join('; ') || applied.stderr.slice(0, 4000)}`);
  }
  // Policies take effect asynchronously: wait until a bad example is refused by a custom rule and
  // by a built-in policy (the last one exported).
  const canary = join(REPO, 'examples/rules/bad/no-team.yaml');
  const rootPod = 'apiVersion: v1\nkind: Pod\nmetadata: { name: canary }\nspec: { containers: [{ name: app, image: "app:1.0" }] }\n';
  await waitFor(
    'the API server to enforce the exported policies',
    async () => {
      const rule = await cluster.kubectl(['create', '--dry-run=server', '-n', NS, '-f', canary]);
      const builtin = await cluster.kubectl(['create', '--dry-run=server', '-n', NS, '-f', '-'], rootPod);
      return /practice-gate-require-team-label/.test(rule.stderr) && /practice-gate-run-as-non-root/.test(builtin.stderr)
        ? true
        : undefined;
    },
    120_000,
    500,
  );
});

t.teardown(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await cluster?.stop();
});

const ids = (text: string) => [...text.matchAll(/practice-gate-([a-z0-9-]+)/g)].map((m) => m[1] ?? '').filter((id) => JUDGED.has(id));

/** What the API server says about one manifest: the policies that refused it and that warned, or why it refused it otherwise. */
async function apiServerVerdict(file: string): Promise<Verdict | { invalid: string }> {
  const res = await cluster.kubectl(['create', '--dry-run=server', '-n', NS, '-f', file]);
  const lines = res.stderr.split('\n');
  const warnings = lines.filter((l) => l.startsWith('Warning:')).join('\n');
  const errors = lines.filter((l) => !l.startsWith('Warning:')).join('\n');
  if (res.code !== 0 && ids(errors).length === 0) return { invalid: errors.trim() };
  return { deny: [...new Set(ids(errors))].sort(), warn: [...new Set(ids(warnings))].sort() };
}

/** What practice-gate says about the same manifest with the same config. */
async function practiceGateVerdict(file: string): Promise<Verdict> {
  const res = await run(process.execPath, [CLI, 'audit', '--config', CONFIG, '--format', 'json', file]);
  const report = JSON.parse(res.stdout) as { results: { findings: { policy: string; action: string }[] }[] };
  const findings = report.results.flatMap((r) => r.findings).filter((f) => JUDGED.has(f.policy));
  const of = (action: string) => [...new Set(findings.filter((f) => f.action === action).map((f) => f.policy))].sort();
  return { deny: of('deny'), warn: of('warn') };
}

/** One file per document, in the test namespace (a dry-run create takes one namespace). */
function documents(file: string): { name: string; path: string }[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).flatMap((doc, i) => {
    const object = doc.toJS() as { metadata?: { name?: string; namespace?: string } } | null;
    if (object === null) return [];
    if (object.metadata) delete object.metadata.namespace;
    const path = join(scratch, `${file.replaceAll('/', '_')}-${i}.yaml`);
    writeFileSync(path, stringify(object));
    return [{ name: object.metadata?.name ?? String(i), path }];
  });
}

const corpus: { label: string; dir: 'good' | 'bad'; path: string; owner?: string }[] = [];
for (const dir of ['good', 'bad'] as const) {
  const root = join(REPO, 'examples/rules', dir);
  for (const name of readdirSync(root)) corpus.push({ label: `examples/rules/${dir}/${name}`, dir, path: join(root, name) });
}
for (const id of EXPORTED_POLICIES) {
  for (const dir of ['good', 'bad'] as const) {
    for (const doc of documents(join(REPO, 'policies', id, 'examples', `${dir}.yaml`))) {
      corpus.push({ label: `policies/${id}/examples/${dir}.yaml ${doc.name}`, dir, path: doc.path, owner: id });
    }
  }
}

const compared = { count: 0 };
for (const item of corpus) {
  t.test(`${item.label}: the API server and practice-gate agree`, async (t) => {
    const [server, gate] = [await apiServerVerdict(item.path), await practiceGateVerdict(item.path)];
    if ('invalid' in server) {
      // Refused by the API server's own validation, before any admission policy: an offline
      // manifest practice-gate judges (wrong types, fields the API forbids) that no cluster holds.
      t.not(server.invalid, '', `the API server refuses it as invalid: ${server.invalid.split('\n')[0]}`);
      t.ok(gate.deny.length + gate.warn.length > 0 || item.dir === 'good', 'practice-gate does not pass a bad example the API refuses');
      return;
    }
    compared.count++;
    t.same(server, gate);
    if (item.owner === undefined) {
      if (item.dir === 'bad') t.ok(gate.deny.length + gate.warn.length > 0, 'a bad example breaks a rule');
      else t.same(gate, { deny: [], warn: [] }, 'a good example breaks none');
      return;
    }
    const broken = [...gate.deny, ...gate.warn].includes(item.owner);
    t.equal(broken, item.dir === 'bad', item.dir === 'bad' ? `breaks ${item.owner}` : `passes ${item.owner}`);
  });
}

t.test('the corpus was compared, not refused', async (t) => {
  t.ok(compared.count >= corpus.length - 5, `${compared.count} of ${corpus.length} objects judged by both`);
});
