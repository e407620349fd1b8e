// The ValidatingWebhookConfiguration that points an API server at a practice-gate.
import { stringify } from 'yaml';
import { POLICIES } from '../../policies/index.js';
import type { Policy } from '../engine/index.js';
import { webhookRules } from '../registry/derive.js';
import { WEBHOOK_NAME } from './webhook-name.js';

export interface WebhookConfigOptions {
  name: string;
  url: string;
  caBundle: string;
  failurePolicy: 'Ignore' | 'Fail';
  timeoutSeconds?: number;
  /** Whose kinds the rules cover; the registered policies by default. */
  registry?: readonly Policy[];
}

export function webhookConfiguration(options: WebhookConfigOptions): Record<string, unknown> {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: options.name, labels: { 'app.kubernetes.io/name': 'practice-gate' } },
    webhooks: [
      {
        name: WEBHOOK_NAME,
        clientConfig: { url: options.url, caBundle: options.caBundle },
        // The kinds the policies judge, grouped as the API server's rules want them (the chart renders the same).
        rules: webhookRules(options.registry ?? POLICIES),
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
