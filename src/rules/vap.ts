// Custom rules, and the built-in policies that CEL can express from the object alone (their `cel`
// field), as ValidatingAdmissionPolicy + Binding (admissionregistration.k8s.io/v1), so the same
// rule runs inside the API server. Rules are written in VAP's own variables; practice-gate's
// additions are translated: `podSpec` becomes a VAP variable, `forEach: containers` a loop.
import type { ASTNode } from '@marcbachmann/cel-js';
import type { EngineConfig } from '../engine/index.js';
import { rewriteIdentifier } from './ast.js';
import { builtinRuleSpec } from './builtin-spec.js';
import { parseRule, ruleSpecOf } from './compile.js';
import type { RuleSpec } from './compile.js';

/** Where each kind is served: group, version, resource. */
const RESOURCES: ReadonlyMap<string, readonly [string, string, string]> = new Map([
  ['Pod', ['', 'v1', 'pods']],
  ['Deployment', ['apps', 'v1', 'deployments']],
  ['StatefulSet', ['apps', 'v1', 'statefulsets']],
  ['DaemonSet', ['apps', 'v1', 'daemonsets']],
  ['ReplicaSet', ['apps', 'v1', 'replicasets']],
  ['ReplicationController', ['', 'v1', 'replicationcontrollers']],
  ['Job', ['batch', 'v1', 'jobs']],
  ['CronJob', ['batch', 'v1', 'cronjobs']],
  ['PodTemplate', ['', 'v1', 'podtemplates']],
  ['PodDisruptionBudget', ['policy', 'v1', 'poddisruptionbudgets']],
]);

const POD_SPEC: Readonly<Record<string, string>> = {
  Pod: 'object.spec',
  CronJob: 'object.spec.jobTemplate.spec.template.spec',
  PodTemplate: 'object.template.spec',
};

const ACTIONS = { deny: 'Deny', warn: 'Warn', audit: 'Audit' } as const;

export interface VapOptions {
  /** Namespaces the webhook never judges: its own and kube-system, plus the chart's excludedNamespaces. */
  excludedNamespaces: readonly string[];
}

/** `podSpec` for the kinds a rule judges, as one CEL expression over `object`. */
function podSpecExpression(kinds: readonly string[]): string {
  const paths = [...new Set(kinds.map((k) => POD_SPEC[k] ?? 'object.spec.template.spec'))];
  let out = paths.at(-1) ?? 'object.spec';
  for (const path of paths.slice(0, -1).reverse()) {
    const which = kinds.filter((k) => (POD_SPEC[k] ?? 'object.spec.template.spec') === path).map((k) => `'${k}'`);
    out = `object.kind in [${which.join(', ')}] ? ${path} : ${out}`;
  }
  return out;
}

function resourceRules(kinds: readonly string[]) {
  const byGroup = new Map<string, { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[] }>();
  for (const kind of kinds) {
    const [group, version, resource] = RESOURCES.get(kind) ?? ['', 'v1', kind.toLowerCase()];
    const rule = byGroup.get(group) ?? { apiGroups: [group], apiVersions: [version], operations: ['CREATE', 'UPDATE'], resources: [] };
    rule.resources.push(resource);
    byGroup.set(group, rule);
  }
  return [...byGroup.values()];
}

/** An expression of the rule in VAP's variables: `podSpec` is `variables.podSpec`. */
function inVap(expression: string): string {
  return rewriteIdentifier(parseRule(expression) as ASTNode, 'podSpec', 'variables', 'podSpec');
}

function validations(spec: RuleSpec) {
  return spec.validations.map((v) => {
    if (spec.forEach !== 'containers') {
      return {
        expression: inVap(v.expression),
        ...(v.messageExpression !== undefined ? { messageExpression: inVap(v.messageExpression) } : {}),
        message: v.message ?? `failed expression: ${v.expression}`,
      };
    }
    // Each container: the loop variable is the rule's `container`. The rule's messageExpression
    // reads one container and cannot run outside the loop: the message names the failing
    // containers instead, and the static message (or the title) stands when that fails.
    const body = inVap(v.expression);
    const loop = (list: string) => `(!has(variables.podSpec.${list}) || variables.podSpec.${list}.all(container, ${body}))`;
    const failing = (list: string) => `variables.podSpec.?${list}.orValue([]).filter(container, !(${body})).map(container, container.name)`;
    const message = v.message ?? spec.title;
    return {
      expression: `${loop('containers')} && ${loop('initContainers')}`,
      messageExpression: `'containers ' + (${failing('containers')} + ${failing('initContainers')}).join(', ') + ': ' + ${JSON.stringify(message)}`,
      message,
    };
  });
}

/** The VAP and Binding objects for every active custom rule and exportable built-in policy of the config. */
export function vapObjects(config: EngineConfig, options: VapOptions): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const active of config.active) {
    const custom = ruleSpecOf(active.policy);
    const spec = custom ?? builtinRuleSpec(active.policy);
    if (spec === undefined) continue;
    const name = `practice-gate-${spec.id}`;
    const workloadKinds = spec.kinds.filter((k) => k !== 'PodDisruptionBudget');
    out.push({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: {
        name,
        labels: { 'app.kubernetes.io/managed-by': 'practice-gate' },
        annotations: { [custom ? 'practice-gate.io/rule' : 'practice-gate.io/policy']: spec.id, 'practice-gate.io/title': spec.title },
      },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: resourceRules(spec.kinds) },
        // dyn, as every variable of a rule is in practice-gate: the API server would otherwise type the
        // pod spec from its schema and refuse `.?field.orValue(null)` on an int field.
        ...(workloadKinds.length > 0 ? { variables: [{ name: 'podSpec', expression: `dyn(${podSpecExpression(workloadKinds)})` }] } : {}),
        validations: validations(spec),
      },
    });
    // Audit mode answers denials as warnings, as the webhook does.
    const action = config.mode === 'audit' && active.action === 'deny' ? 'warn' : active.action;
    out.push({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'practice-gate' } },
      spec: {
        policyName: name,
        validationActions: [ACTIONS[action]],
        matchResources: {
          namespaceSelector: {
            matchExpressions: [
              { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [...options.excludedNamespaces] },
              { key: 'practice-gate.io/ignore', operator: 'NotIn', values: ['true'] },
            ],
          },
        },
      },
    });
  }
  return out;
}
