// network-policy-coverage offline: `practice-gate audit` judges a workload against the
// NetworkPolicies of its input (the workload passes every other policy), and an input without any is "no coverage" (as pdb-coverage reads
// an input without PDBs), recorded as audit, which fails no run by default.
import t from 'tap';
import { runCli } from '../helpers/cli.js';

const workload = `apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      securityContext: { runAsNonRoot: true, runAsUser: 10001 }
      containers:
        - name: api
          image: example/api:1.4.2
          securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false }
          resources: { requests: { cpu: 250m, memory: 256Mi }, limits: { memory: 512Mi } }
          livenessProbe: { httpGet: { path: /live, port: 8080 } }
`;
const networkPolicy = (namespace: string) => `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api, namespace: ${namespace} }
spec:
  podSelector: { matchLabels: { app: api } }
`;

interface Report {
  results: Array<{ kind: string; name: string; findings: Array<{ policy: string; action: string; message: string }> }>;
}
const coverage = (stdout: string) =>
  (JSON.parse(stdout) as Report).results.flatMap((r) =>
    r.findings.filter((f) => f.policy === 'network-policy-coverage').map((f) => ({ ...f, on: `${r.kind}/${r.name}` })),
  );

t.test('a NetworkPolicy in the input covers the workload; none, or one of another namespace, is recorded as audit', async (t) => {
  const covered = await runCli(['audit', '--format', 'json', '-'], { input: workload + networkPolicy('shop') });
  t.equal(covered.code, 0, covered.stderr);
  t.same(coverage(covered.stdout), []);
  t.notOk(
    (JSON.parse(covered.stdout) as Report).results.some((r) => r.kind === 'NetworkPolicy'),
    'the NetworkPolicy is context, not a judged object',
  );

  const alone = await runCli(['audit', '--format', 'json', '-'], { input: workload });
  t.equal(alone.code, 0, 'audit fails no run');
  t.match(coverage(alone.stdout), [{ on: 'Deployment/api', action: 'audit', message: /^no NetworkPolicy selects its pods/ }]);

  const elsewhere = await runCli(['audit', '--format', 'json', '-'], { input: workload + networkPolicy('other') });
  t.equal(coverage(elsewhere.stdout).length, 1, "another namespace's NetworkPolicy does not count");

  const failing = await runCli(['audit', '--fail-on', 'warn', '-'], { input: workload });
  t.equal(failing.code, 0, '--fail-on warn: an audit finding is still no failure');
});
