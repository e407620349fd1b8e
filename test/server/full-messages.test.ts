// Only kubectl's warning lines have a length budget: the webhook's denial and the offline
// audit (table and JSON) carry a finding's whole message, with its fix, however long the
// container's name. Issue 19, point 1: they used to be cut at 120 characters.
import t from 'tap';
import { POLICIES } from '../../policies/index.js';
import { DEFAULT_CONFIG, EMPTY_CONTEXT, compileConfig } from '../../src/engine/index.js';
import type { KubeObject } from '../../src/engine/index.js';
import { reviewAdmission } from '../../src/server/review.js';
import type { AdmissionRequest } from '../../src/server/admission.js';
import { runCli } from '../helpers/cli.js';

const NAME = 'argocd-applicationset-controller';
const WHOLE = `container "${NAME}" can write its root filesystem: set securityContext.readOnlyRootFilesystem: true`;

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'argocd-applicationset-controller', namespace: 'argocd' },
  spec: {
    selector: { matchLabels: { app: 'a' } },
    template: {
      metadata: { labels: { app: 'a' } },
      spec: {
        securityContext: { runAsNonRoot: true },
        containers: [{ name: NAME, image: 'quay.io/argoproj/argocd:v2.14.2', resources: { requests: { cpu: '100m', memory: '128Mi' } } }],
      },
    },
  },
};

t.test('the message really is longer than 120 characters', async (t) => {
  t.ok(WHOLE.length > 120, `${WHOLE.length}`);
});

t.test('the webhook denial carries the whole message and the field', async (t) => {
  const request: AdmissionRequest = {
    uid: 'u',
    kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    namespace: 'argocd',
    operation: 'CREATE',
    object: deployment,
  };
  const { response } = reviewAdmission(request, { engineConfig: compileConfig(DEFAULT_CONFIG, POLICIES), context: EMPTY_CONTEXT });
  t.equal(response.allowed, false);
  t.ok(
    response.status?.message?.includes(
      `[read-only-root-filesystem] ${WHOLE} (spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem)`,
    ),
    response.status?.message ?? 'no message',
  );
  t.notMatch(response.status?.message ?? '', /…/);
});

t.test('audit: the JSON report and the table carry the whole message', async (t) => {
  const dir = t.testdir({ 'deploy.json': JSON.stringify(deployment) });
  const json = await runCli(['audit', '--format', 'json', 'deploy.json'], { cwd: dir });
  const report = JSON.parse(json.stdout) as { results: Array<{ findings: Array<{ policy: string; message: string }> }> };
  const finding = report.results[0]?.findings.find((f) => f.policy === 'read-only-root-filesystem');
  t.equal(finding?.message, WHOLE);
  const table = await runCli(['audit', 'deploy.json'], { cwd: dir });
  t.ok(table.stdout.includes(WHOLE), 'the table shows it whole');
  t.notMatch(table.stdout, /…/);
});
