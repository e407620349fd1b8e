// The ValidatingWebhookConfiguration that points an API server at a practice-gate.
import { stringify } from 'yaml';

/** Webhook names need three dot-separated segments; it also prefixes audit annotation keys. */
export const WEBHOOK_NAME = 'validate.practice-gate.io';

export interface WebhookConfigOptions {
  name: string;
  url: string;
  caBundle: string;
  failurePolicy: 'Ignore' | 'Fail';
  timeoutSeconds?: number;
}

/** The kinds practice-gate judges, grouped as the API server's rules want them. */
export const WEBHOOK_RULES = [
  { apiGroups: [''], apiVersions: ['v1'], resources: ['pods', 'replicationcontrollers'] },
  { apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'] },
  { apiGroups: ['batch'], apiVersions: ['v1'], resources: ['jobs', 'cronjobs'] },
  { apiGroups: ['policy'], apiVersions: ['v1'], resources: ['poddisruptionbudgets'] },
].map((rule) => ({ ...rule, operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' }));

export function webhookConfiguration(options: WebhookConfigOptions): Record<string, unknown> {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: options.name, labels: { 'app.kubernetes.io/name': 'practice-gate' } },
    webhooks: [
      {
        name: WEBHOOK_NAME,
        clientConfig: { url: options.url, caBundle: options.caBundle },
        rules: WEBHOOK_RULES,
        // practice-gate only reads: a dry run is judged like a real request.
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        failurePolicy: options.failurePolicy,
        timeoutSeconds: options.timeoutSeconds ?? 5,
        matchPolicy: 'Equivalent',
        // The control plane's own namespace must never depend on the webhook being up.
        namespaceSelector: {
          matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }],
        },
      },
    ],
  };
}

export function webhookConfigurationYaml(options: WebhookConfigOptions): string {
  return stringify(webhookConfiguration(options), { lineWidth: 0 });
}
