// Leaf fields of the wrong type, as an offline manifest can carry them (the API server would
// refuse them): a quoted value never passes for the setting it spells, and the finding names it.
import t from 'tap';
import { parse } from 'yaml';
import { POLICIES } from '../../policies/index.js';
import type { KubeObject, Policy } from '../../src/engine/index.js';
import { deploymentYaml, judge } from '../helpers/manifests.js';

function policy(id: string): Policy {
  const found = POLICIES.find((p) => p.id === id);
  if (!found) throw new Error(`no policy ${id}`);
  return found;
}

const deployment = (container: readonly string[], podSecurityContext?: string): KubeObject => {
  const text = deploymentYaml('web', { container });
  return parse(
    podSecurityContext === undefined
      ? text
      : text.replace('      containers:', `      securityContext: ${podSecurityContext}\n      containers:`),
  ) as KubeObject;
};

t.test('run-as-non-root: a quoted uid or boolean is no proof of non-root', async (t) => {
  const runAsNonRoot = policy('run-as-non-root');
  const quotedZero = judge(runAsNonRoot, deployment(['securityContext: { runAsUser: "0" }']));
  t.match(quotedZero, [
    {
      action: 'deny',
      path: 'spec.template.spec.containers[0].securityContext.runAsUser',
      message: /runAsUser is "0" \(a string\), not an integer/,
    },
  ]);
  const quotedUid = judge(runAsNonRoot, deployment(['securityContext: { runAsUser: "10001" }']));
  t.match(quotedUid, [{ action: 'deny', message: /runAsUser is "10001" \(a string\)/ }], 'a quoted non-zero uid does not count either');
  const withNonRoot = judge(runAsNonRoot, deployment(['securityContext: { runAsNonRoot: true, runAsUser: "0" }']));
  t.equal(withNonRoot.length, 1, 'runAsNonRoot: true next to a quoted uid is still reported');
  const fraction = judge(runAsNonRoot, deployment(['securityContext: { runAsUser: 1.5 }']));
  t.match(fraction, [{ message: /runAsUser is 1.5 \(a number\), not an integer/ }]);
  const quotedTrue = judge(runAsNonRoot, deployment(['securityContext: { runAsNonRoot: "true" }']));
  t.match(quotedTrue, [
    {
      path: 'spec.template.spec.containers[0].securityContext.runAsNonRoot',
      message: /runAsNonRoot is "true" \(a string\), not a boolean/,
    },
  ]);
  const podLevel = judge(runAsNonRoot, deployment([], '{ runAsUser: "0" }'));
  t.match(
    podLevel,
    [{ path: 'spec.template.spec.securityContext.runAsUser', message: /runAsUser is "0"/ }],
    'the pod-level field is the one named',
  );
  const listUser = judge(runAsNonRoot, deployment(['securityContext: { runAsNonRoot: true, runAsUser: [1000] }']));
  t.match(listUser, [{ message: /runAsUser is a list, not an integer/ }]);
});

t.test('run-as-non-root: null is unset, as Kubernetes reads it, and well-typed settings are judged as before', async (t) => {
  const runAsNonRoot = policy('run-as-non-root');
  t.same(judge(runAsNonRoot, deployment(['securityContext: { runAsUser: null }'], '{ runAsUser: 10001 }')), [], 'the pod uid applies');
  const podRoot = judge(runAsNonRoot, deployment(['securityContext: { runAsUser: null }'], '{ runAsUser: 0 }'));
  t.match(podRoot, [{ path: 'spec.template.spec.securityContext.runAsUser', message: /uid 0/ }], 'the pod-level field is the one to fix');
  t.same(judge(runAsNonRoot, deployment(['securityContext: { runAsUser: 10001 }'])), []);
  t.same(judge(runAsNonRoot, deployment(['securityContext: { runAsNonRoot: true }'])), []);
});

t.test('no-privilege-escalation: privileged that is not false counts as privileged', async (t) => {
  const noEscalation = policy('no-privilege-escalation');
  const quoted = judge(noEscalation, deployment(['securityContext: { privileged: "true", allowPrivilegeEscalation: false }']));
  t.match(quoted, [
    {
      path: 'spec.template.spec.containers[0].securityContext.privileged',
      message: /privileged is "true" \(a string\), not a boolean, so it may run privileged/,
    },
  ]);
  const numeric = judge(noEscalation, deployment(['securityContext: { privileged: 1, allowPrivilegeEscalation: false }']));
  t.equal(numeric.length, 1);
  const escalation = judge(noEscalation, deployment(['securityContext: { allowPrivilegeEscalation: "false" }']));
  t.match(escalation, [
    {
      path: 'spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation',
      message: /allowPrivilegeEscalation is "false" \(a string\), not a boolean, so it may gain privileges/,
    },
  ]);
  t.same(judge(noEscalation, deployment(['securityContext: { privileged: false, allowPrivilegeEscalation: false }'])), []);
  t.same(judge(noEscalation, deployment(['securityContext: { privileged: null, allowPrivilegeEscalation: false }'])), [], 'null is unset');
});

t.test('read-only-root-filesystem: a quoted "true" is not read-only', async (t) => {
  const readOnly = policy('read-only-root-filesystem');
  const quoted = judge(readOnly, deployment(['securityContext: { readOnlyRootFilesystem: "true" }']));
  t.match(quoted, [
    { action: 'deny', message: /readOnlyRootFilesystem is "true" \(a string\), not a boolean, so it can write its root filesystem/ },
  ]);
  t.same(judge(readOnly, deployment(['securityContext: { readOnlyRootFilesystem: true }'])), []);
});

t.test('resource-requests: a null request is unset, so the limit stands in for it as Kubernetes copies it', async (t) => {
  const requests = policy('resource-requests');
  const withLimits = ['resources: { requests: { cpu: null, memory: null }, limits: { cpu: 500m, memory: 256Mi } }'];
  t.same(judge(requests, deployment(withLimits)), []);
  const wrong = judge(requests, deployment(['resources: { requests: { cpu: true, memory: [1] } }']));
  t.match(wrong, [{ action: 'deny', message: /has no requests/ }], 'values that are no quantity are no request');
});
