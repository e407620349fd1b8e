// Which objects the API server sends the webhook: the namespaceSelector and objectSelector of its
// ValidatingWebhookConfiguration. The cluster audit judges the same set, so its reports show what
// enforcement would refuse, and nothing in kube-system, the webhook's own namespace or a namespace
// an admin opted out, which the webhook never sees.
import type { Logger } from 'pino';
import { isRecord, metaOf, stringMap } from '../../engine/k8s.js';
import type { KubeObject, LabelSelector } from '../../engine/k8s.js';
import { selectorMatches } from '../../engine/selector.js';
import { describeError, isNotFound, statusOf } from '../api/errors.js';

export interface AdmissionScope {
  /** Where the selectors came from, for logs. */
  source: string;
  /** Would the webhook be called for objects in a namespace with these labels? */
  namespace(name: string, labels: Readonly<Record<string, string>>): boolean;
  /** Would the webhook be called for this object (its objectSelector)? */
  object(object: KubeObject): boolean;
}

/** The namespaces the chart always keeps away from the webhook, used when its configuration cannot be read. */
export const ALWAYS_EXCLUDED_NAMESPACES = ['kube-system'] as const;

/** The API server's default for an absent selector is "everything". */
function matches(selector: unknown, labels: Readonly<Record<string, string>>): boolean {
  return selector === undefined || selector === null || selectorMatches(selector as LabelSelector, labels);
}

/** The API server labels every namespace with its own name; objects from older clusters may lack it. */
function namespaceLabels(name: string, labels: Readonly<Record<string, string>>): Record<string, string> {
  return { 'kubernetes.io/metadata.name': name, ...labels };
}

/**
 * The scope of a ValidatingWebhookConfiguration: an object is in scope when at least one of its
 * webhooks would be called for it. Undefined when it has no webhooks (nothing to mirror).
 */
export function scopeOfWebhookConfiguration(name: string, config: unknown): AdmissionScope | undefined {
  const webhooks = isRecord(config) && Array.isArray(config.webhooks) ? config.webhooks.filter(isRecord) : [];
  if (webhooks.length === 0) return undefined;
  return {
    source: `ValidatingWebhookConfiguration ${name}`,
    namespace: (ns, labels) => {
      const all = namespaceLabels(ns, labels);
      return webhooks.some((w) => matches(w.namespaceSelector, all));
    },
    object: (object) => {
      const labels = stringMap(metaOf(object).labels);
      return webhooks.some((w) => matches(w.objectSelector, labels));
    },
  };
}

/** Without the configuration: every namespace but kube-system and practice-gate's own. */
export function builtInScope(ownNamespace: string): AdmissionScope {
  const excluded = new Set<string>([...ALWAYS_EXCLUDED_NAMESPACES, ownNamespace]);
  return {
    source: `built-in exclusions (${[...excluded].sort().join(', ')})`,
    namespace: (ns) => !excluded.has(ns),
    object: () => true,
  };
}

/** Reads the ValidatingWebhookConfiguration; undefined when it does not exist. A test fakes this. */
export type WebhookConfigurationReader = () => Promise<unknown>;

/**
 * The scope for each scan: the live configuration's selectors, read once per scan (never in a
 * request path), else the built-in exclusions. Says so in the log whenever the source changes.
 */
export function admissionScopeSource(options: {
  read: WebhookConfigurationReader;
  name: string;
  ownNamespace: string;
  logger: Logger;
}): () => Promise<AdmissionScope> {
  const fallback = builtInScope(options.ownNamespace);
  let lastSource: string | undefined;
  const report = (scope: AdmissionScope, detail: Record<string, unknown>): AdmissionScope => {
    if (scope.source !== lastSource) {
      lastSource = scope.source;
      const level = scope === fallback ? 'warn' : 'info';
      options.logger[level]({ event: 'audit-scope', source: scope.source, ...detail }, 'cluster audit judges what the webhook is sent');
    }
    return scope;
  };
  return async () => {
    let config: unknown;
    try {
      config = await options.read();
    } catch (err) {
      const why = isNotFound(err) ? 'not found' : statusOf(err) === 403 ? 'forbidden' : describeError(err);
      return report(fallback, { webhookConfig: options.name, reason: why });
    }
    if (config === undefined) return report(fallback, { webhookConfig: options.name, reason: 'not found' });
    const scope = scopeOfWebhookConfiguration(options.name, config);
    return scope ? report(scope, {}) : report(fallback, { webhookConfig: options.name, reason: 'it has no webhooks' });
  };
}
