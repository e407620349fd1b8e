// The config file is written by admins and read by the webhook and the offline audit alike: every
// mistake must be refused with the file, the key and what is allowed, never half-applied.
import t from 'tap';
import { ConfigError, parseConfigText } from '../../src/config/load.js';

const refused = (text: string): string => {
  try {
    parseConfigText(text, 'gate.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error(`accepted: ${text}`);
};

t.test('defaults: enforce, every policy at its default, no exemptions', async (t) => {
  t.same(parseConfigText('{}', 'gate.yaml'), { mode: 'enforce', policies: {}, exemptions: [], objectExemptions: false });
  t.same(parseConfigText('mode: audit\npolicies:\n  memory-limit: { action: deny }\n', 'gate.yaml').policies, { 'memory-limit': 'deny' });
});

t.test('an empty file is refused, never read as the defaults', async (t) => {
  // A truncated ConfigMap must not drop exemptions or flip audit to enforce.
  for (const text of ['', '\n  \n', '# exemptions moved to another file\n', '---\n', 'null\n', '~\n']) {
    t.match(
      refused(text),
      /^invalid config gate\.yaml: the file is empty \(nothing but whitespace, comments or null\); write \{\} /,
      JSON.stringify(text),
    );
  }
});

t.test('each mistake names the file and the key', async (t) => {
  t.match(refused('mode: dry-run\n'), /^invalid config gate\.yaml:\n {2}mode: must be one of enforce, audit$/);
  t.match(refused('policies:\n  run-as-rooot: deny\n'), /policies: unknown policy "run-as-rooot"; known policies: run-as-non-root,/);
  t.match(
    refused('policies:\n  run-as-non-root: block\n'),
    /policies\.run-as-non-root: must be one of deny, warn, audit, off, or \{ action: <one of those> \}/,
  );
  t.match(refused('mdoe: audit\n'), /\(top level\): unknown key "mdoe"/);
  t.match(refused('objectExemptions: "yes"\n'), /objectExemptions: /);
  t.match(refused('mode: [\n'), /^invalid config gate\.yaml: not valid YAML: /);
});

t.test('an exemption needs a reason: missing, empty or blank', async (t) => {
  for (const reason of ['', 'reason: ""\n    ', 'reason: "   "\n    ']) {
    t.match(
      refused(`exemptions:\n  - ${reason}namespaces: [legacy]\n`),
      /exemptions\[0\]\.reason: every exemption needs a reason, so reviewers know why it exists/,
      JSON.stringify(reason),
    );
  }
});

t.test('an exemption must name what it exempts, with policies that exist', async (t) => {
  t.match(refused('exemptions:\n  - reason: x\n'), /an exemption must name namespaces, names or kinds/);
  t.match(
    refused('exemptions:\n  - namespaces: [a]\n    policies: [no-such]\n    reason: x\n'),
    /exemptions\[0\]\.policies\[0\]: unknown policy; known policies:/,
  );
});

t.test('a kind glob that matches no judged kind is refused: kinds are case-sensitive', async (t) => {
  const message = refused('exemptions:\n  - namespaces: [a]\n    kinds: [Deployment, deployment]\n    reason: x\n');
  t.match(
    message,
    /exemptions\[0\]\.kinds\[1\]: "deployment" matches no kind practice-gate judges \(kinds are case-sensitive\): Pod, Deployment,/,
  );
  t.notMatch(message, /kinds\[0\]/, 'Deployment is fine');
  const ok = parseConfigText(
    'exemptions:\n  - kinds: ["Cron*", "PodDisruptionBudget", "*Set"]\n    reason: batch and budgets\n',
    'gate.yaml',
  );
  t.same(ok.exemptions[0]?.kinds, ['Cron*', 'PodDisruptionBudget', '*Set']);
});

t.test('controllers: a third-party controller names its exact identity, the kinds it writes and its owner kinds', async (t) => {
  const text =
    'controllers:\n  - username: system:serviceaccount:argo-rollouts:argo-rollouts\n    kinds: [ReplicaSet]\n    ownerKinds: [Rollout]\n';
  t.same(parseConfigText(text, 'gate.yaml').controllers, [
    { username: 'system:serviceaccount:argo-rollouts:argo-rollouts', kinds: ['ReplicaSet'], ownerKinds: ['Rollout'] },
  ]);
  t.match(refused('controllers:\n  - kinds: [Pod]\n    ownerKinds: [Workflow]\n'), /controllers\[0\]\.username: /);
  t.match(refused('controllers:\n  - username: "  "\n    kinds: [Pod]\n    ownerKinds: [Workflow]\n'), /controllers\[0\]\.username: /);
  t.match(
    refused('controllers:\n  - username: a\n    kinds: [pod]\n    ownerKinds: [Workflow]\n'),
    /controllers\[0\]\.kinds\[0\]: must be one of Pod, Deployment/,
  );
  t.match(refused('controllers:\n  - username: a\n    kinds: [Pod]\n'), /controllers\[0\]\.ownerKinds: /);
  t.match(refused('controllers:\n  - username: a\n    kinds: [Pod]\n    ownerKinds: []\n'), /controllers\[0\]\.ownerKinds: /);
  t.match(
    refused('controllers:\n  - username: a\n    groups: [x]\n    kinds: [Pod]\n    ownerKinds: [W]\n'),
    /controllers\[0\]: unknown key "groups"/,
  );
});
