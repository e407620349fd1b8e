// Differential proof of `practice-gate vap`: the exported ValidatingAdmissionPolicies, loaded
// into a real kube-apiserver, judge every good and bad example of the example rules and of every
// exported built-in policy exactly as practice-gate does (server-side dry-run creates, object by
// object). A difference is a bug in one of the two translations of the same rule.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { POLICIES } from '../../policies/index.js';
import { CLI, REPO, run, startCluster } from './fixture/cluster.js';
import type { Cluster } from './fixture/cluster.js';
import { waitFor } from './fixture/processes.js';

const CONFIG = join(REPO, 'examples/rules/practice-gate.yaml');
const NS = 'shop';
/** Examples of offline manifests the API server refuses itself (wrong types, fields the API forbids). */
const EXPECTED_INVALID = [
  'policies/run-as-non-root/examples/bad.yaml windows-uid-only',
  'policies/run-as-non-root/examples/bad.yaml host-users-string',
  'policies/read-only-root-filesystem/examples/bad.yaml pod-level-only',
  'policies/image-tag-pinned/examples/bad.yaml missing-and-empty-image',
  'policies/no-privilege-escalation/examples/bad.yaml pod-level-only',
  'policies/cronjob-concurrency/examples/bad.yaml wrong-case',
];
const EXPORTED_POLICIES = POLICIES.filter((p) => p.cel !== undefined && 'validations' in p.cel).map((p) => p.id);
const JUDGED = new Set(['require-team-label', 'allowed-registries', 'memory-limit-cap', ...EXPORTED_POLICIES]);

/** The policies and rules an object breaks. */
type Verdict = string[];

let cluster: Cluster;
const scratch = mkdtempSync(join(tmpdir(), 'pg-vap-'));

t.before(async () => {
  cluster = await startCluster();
  const ns = await cluster.kubectl(['create', 'namespace', NS]);
  if (ns.code !== 0) throw new Error(ns.stderr);
  const canary = join(REPO, 'examples/rules/bad/no-team.yaml');
  const rootPod = 'apiVersion: v1\nkind: Pod\nmetadata: { name: canary }\nspec: { containers: [{ name: app, image: "app:1.0" }] }\n';
  // Both canaries, created in a dry run: one breaks an example rule, one the built-in policies.
  const tryCanaries = async () => ({
    rule: await cluster.kubectl(['create', '--dry-run=server', '-n', NS, '-f', canary]),
    builtin: await cluster.kubectl(['create', '--dry-run=server', '-n', NS, '-f', '-'], rootPod),
  });
  await applyExport(CONFIG);
  // Policies take effect asynchronously: wait until the exported Deny refuses both canaries, then,
  // exported again in audit mode, until every policy of theirs only warns.
  await waitFor(
    'the API server to enforce the exported policies',
    async () => {
      const { rule, builtin } = await tryCanaries();
      // The API server answers with the first policy that denies, whichever it is.
      const refused = (r: { code: number | null; stderr: string }) => r.code !== 0 && /practice-gate-[a-z]/.test(r.stderr);
      return refused(rule) && refused(builtin) ? true : undefined;
    },
    120_000,
    500,
  );
  const auditConfig = join(scratch, 'audit-mode.yaml');
  writeFileSync(auditConfig, stringify({ ...(parse(readFileSync(CONFIG, 'utf8')) as object), mode: 'audit' }));
  await applyExport(auditConfig);
  await waitFor(
    'the API server to warn instead of denying',
    async () => {
      const { rule, builtin } = await tryCanaries();
      const warned = (r: { code: number | null; stderr: string }, ids: string[]) =>
        r.code === 0 && ids.every((id) => new RegExp(`Warning:.*practice-gate-${id}`).test(r.stderr));
      return warned(rule, ['require-team-label']) && warned(builtin, ['run-as-non-root', 'read-only-root-filesystem', 'resource-requests'])
        ? true
        : undefined;
    },
    120_000,
    500,
  );
});

/** Applies what `practice-gate vap --config file` prints. */
async function applyExport(config: string): Promise<void> {
  const exported = await run(process.execPath, [CLI, 'vap', '--config', config]);
  if (exported.code !== 0) throw new Error(exported.stderr);
  const applied = await cluster.kubectl(['apply', '-f', '-'], exported.stdout);
  if (applied.code !== 0) {
    // The server quotes each expression at length; its compiler's errors are what says what is wrong.
    const errors = [...new Set(applied.stderr.match(/(?:"practice-gate-[a-z0-9-]+" is invalid|ERROR: <input>:[0-9:]+ [^|]*)/g) ?? [])];
    throw new Error(`kubectl apply of the exported VAPs failed: ${errors.join('; ') || applied.stderr.slice(0, 4000)}`);
  }
}

t.teardown(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await cluster?.stop();
});

const ids = (text: string) => [...text.matchAll(/practice-gate-([a-z0-9-]+)/g)].map((m) => m[1] ?? '').filter((id) => JUDGED.has(id));

/** The policies that warned about one manifest (all of them: exported in audit mode), or why the API server refused it. */
async function apiServerVerdict(file: string): Promise<Verdict | { invalid: string }> {
  const res = await cluster.kubectl(['create', '--dry-run=server', '-n', NS, '-f', file]);
  if (res.code !== 0) return { invalid: res.stderr.trim() };
  const warnings = res.stderr.split('\n').filter((l) => l.startsWith('Warning:'));
  return [...new Set(ids(warnings.join('\n')))].sort();
}

/** What practice-gate says about the same manifest with the example config: the policies it denies or warns about. */
async function practiceGateVerdict(file: string): Promise<Verdict> {
  const res = await run(process.execPath, [CLI, 'audit', '--config', CONFIG, '--format', 'json', file]);
  const report = JSON.parse(res.stdout) as { results: { findings: { policy: string; action: string }[] }[] };
  const findings = report.results.flatMap((r) => r.findings).filter((f) => JUDGED.has(f.policy));
  return [...new Set(findings.filter((f) => f.action === 'deny' || f.action === 'warn').map((f) => f.policy))].sort();
}

/** The pod spec of a workload kind, wherever the kind keeps it. */
function podSpecOf(object: Record<string, unknown>): Record<string, unknown> | undefined {
  const at = (value: unknown, ...keys: string[]): unknown =>
    keys.reduce<unknown>(
      (cur, key) => (typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[key] : undefined),
      value,
    );
  const spec =
    object.kind === 'Pod'
      ? at(object, 'spec')
      : object.kind === 'CronJob'
        ? at(object, 'spec', 'jobTemplate', 'spec', 'template', 'spec')
        : object.kind === 'PodTemplate'
          ? at(object, 'template', 'spec')
          : at(object, 'spec', 'template', 'spec');
  return typeof spec === 'object' && spec !== null ? (spec as Record<string, unknown>) : undefined;
}

/**
 * One file per document, in the test namespace (a dry-run create takes one namespace), without
 * ephemeral containers: the API server refuses them on create and in templates (they are added
 * later, through a subresource the export does not match), and both sides judge the same file.
 */
function documents(file: string): { name: string; path: string; trimmed: boolean }[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).flatMap((doc, i) => {
    const object = doc.toJS() as (Record<string, unknown> & { metadata?: { name?: string; namespace?: string } }) | null;
    if (object === null) return [];
    if (object.metadata) delete object.metadata.namespace;
    const spec = podSpecOf(object);
    const trimmed = spec !== undefined && 'ephemeralContainers' in spec;
    if (spec) delete spec.ephemeralContainers;
    const path = join(scratch, `${file.replaceAll('/', '_')}-${i}.yaml`);
    writeFileSync(path, stringify(object));
    return [{ name: object.metadata?.name ?? String(i), path, trimmed }];
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
      const label = `policies/${id}/examples/${dir}.yaml ${doc.name}${doc.trimmed ? ' (without its ephemeral containers)' : ''}`;
      corpus.push({ label, dir, path: doc.path, owner: id });
    }
  }
}

const RULES = new Set(['require-team-label', 'allowed-registries', 'memory-limit-cap']);
const invalid: string[] = [];
for (const item of corpus) {
  t.test(`${item.label}: the API server and practice-gate agree`, async (t) => {
    const [server, gate] = [await apiServerVerdict(item.path), await practiceGateVerdict(item.path)];
    if (!Array.isArray(server)) {
      // Refused by the API server's own validation, before any admission policy: an offline
      // manifest (a wrong type, a field the API forbids) that no cluster can hold.
      invalid.push(item.label);
      t.notMatch(server.invalid, /practice-gate-/, `invalid for the API server, not refused by a policy: ${server.invalid.split('\n')[0]}`);
      return;
    }
    t.same(server, gate, 'the same policies fail');
    const owned = item.owner === undefined ? gate.filter((id) => RULES.has(id)) : gate.filter((id) => id === item.owner);
    t.equal(owned.length > 0, item.dir === 'bad', item.dir === 'bad' ? 'the bad example breaks its rule' : 'the good example passes');
  });
}

t.test('every example but those the API server refuses as invalid was judged by both', async (t) => {
  t.same(invalid, EXPECTED_INVALID);
});
