/**
 * The webhook's name, in the chart's configuration and in the one `serve --dev` prints alike (the
 * chart reads it from files/registry.yaml). Webhook names need three dot-separated segments; the
 * API server also prefixes the webhook's audit annotation keys with it, so one name means one key
 * however practice-gate was installed.
 */
export const WEBHOOK_NAME = 'validate.practice-gate.io';
