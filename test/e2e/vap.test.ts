// Differential proof of `practice-gate vap`: the exported ValidatingAdmissionPolicies, loaded
// into a real kube-apiserver, judge every good and bad example of the example rules exactly as
// practice-gate does (server-side dry-run creates, object by object). A difference is a bug in
// one of the two translations of the same rule.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CLI, REPO, run, startCluster } from './fixture/cluster.js';
import type { Cluster } from './fixture/cluster.js';
import { waitFor } from './fixture/processes.js';

const CONFIG = join(REPO, 'examples/rules/practice-gate.yaml');
const NS = 'shop';
const RULES = new Set(['require-team-label', 'allowed-registries', 'memory-limit-cap']);

interface Verdict {
  deny: string[];
  warn: string[];
}

let cluster: Cluster;

t.before(async () => {
  cluster = await startCluster();
  const ns = await cluster.kubectl(['create', 'namespace', NS]);
  if (ns.code !== 0) throw new Error(ns.stderr);
  const exported = await run(process.execPath, [CLI, 'vap', '--config', CONFIG]);
  if (exported.code !== 0) throw new Error(exported.stderr);
  const applied = await cluster.kubectl(['apply', '-f', '-'], exported.stdout);
  if (applied.code !== 0) throw new Error(`kubectl apply of the exported VAPs failed: ${applied.stderr}`);
  // Policies take effect asynchronously: wait until a bad example is refused by its policy.
  const canary = join(REPO, 'examples/rules/bad/no-team.yaml');
  await waitFor(
    'the API server to enforce the exported policies',
    async () => {
      const res = await cluster.kubectl(['create', '--dry-run=server', '-n', NS, '-f', canary]);
      return /practice-gate-require-team-label/.test(res.stderr) ? true : undefined;
    },
    120_000,
    500,
  );
});

t.teardown(async () => cluster?.stop());

/** What the API server says about one manifest: the policies that refused it and that warned. */
async function apiServerVerdict(file: string): Promise<Verdict> {
  const res = await cluster.kubectl(['create', '--dry-run=server', '-n', NS, '-f', file]);
  const names = (text: string) => [...text.matchAll(/practice-gate-([a-z0-9-]+)/g)].map((m) => m[1] ?? '').filter((id) => RULES.has(id));
  const warnings = res.stderr
    .split('\n')
    .filter((l) => l.startsWith('Warning:'))
    .join('\n');
  const errors = res.stderr
    .split('\n')
    .filter((l) => !l.startsWith('Warning:'))
    .join('\n');
  if (res.code !== 0 && names(errors).length === 0) throw new Error(`${file}: refused for another reason: ${res.stderr}`);
  return { deny: [...new Set(names(errors))].sort(), warn: [...new Set(names(warnings))].sort() };
}

/** What practice-gate says about the same manifest with the same config. */
async function practiceGateVerdict(file: string): Promise<Verdict> {
  const res = await run(process.execPath, [CLI, 'audit', '--config', CONFIG, '--format', 'json', file]);
  const report = JSON.parse(res.stdout) as { results: { findings: { policy: string; action: string }[] }[] };
  const findings = report.results.flatMap((r) => r.findings).filter((f) => RULES.has(f.policy));
  const ids = (action: string) => [...new Set(findings.filter((f) => f.action === action).map((f) => f.policy))].sort();
  return { deny: ids('deny'), warn: ids('warn') };
}

for (const dir of ['good', 'bad']) {
  const root = join(REPO, 'examples/rules', dir);
  for (const name of readdirSync(root)) {
    t.test(`examples/rules/${dir}/${name}: the API server and practice-gate agree`, async (t) => {
      const file = join(root, name);
      const [server, gate] = [await apiServerVerdict(file), await practiceGateVerdict(file)];
      t.same(server, gate);
      if (dir === 'bad') t.ok(gate.deny.length + gate.warn.length > 0, 'a bad example breaks a rule');
      else t.same(gate, { deny: [], warn: [] }, 'a good example breaks none');
    });
  }
}
