import { ConfigError, parseConfig } from '../../src/config/load.js';
import { EMPTY_CONTEXT, compileConfig, evaluate } from '../../src/engine/index.js';
import type { ClusterContext, EvaluateOptions, Finding, KubeObject } from '../../src/engine/index.js';
import { POLICIES } from '../../policies/index.js';

/** A config with only the given rules active: every built-in policy off. */
export function rulesConfig(rules: unknown[], extra: Record<string, unknown> = {}) {
  const off = Object.fromEntries(POLICIES.map((p) => [p.id, 'off']));
  return compileConfig(parseConfig({ policies: off, rules, ...extra }, 'test.yaml'), POLICIES);
}

export function rule(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    id: 'my-rule',
    title: 'T',
    why: 'W',
    fix: 'metadata: {}',
    kinds: ['Deployment', 'Pod'],
    validations: [{ expression: 'true', message: 'm' }],
    ...overrides,
  };
}

/** The config error for these rules, or '' when they load. */
export function loadError(rules: unknown[]): string {
  try {
    rulesConfig(rules);
    return '';
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}

export function findings(
  rules: unknown[],
  object: unknown,
  options: EvaluateOptions = {},
  context: ClusterContext = EMPTY_CONTEXT,
): Finding[] {
  return evaluate(object as KubeObject, context, rulesConfig(rules), options)?.findings ?? [];
}

export function deployment(containers: unknown[], labels: Record<string, string> = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'shop', labels },
    spec: { replicas: 3, template: { spec: { containers } } },
  };
}
