// Certificate lifetimes, apart from generate.ts so that the `certs` command can state them in
// its help without loading node-forge.

/**
 * The CA is what the ValidatingWebhookConfiguration's caBundle pins: replacing it means re-applying
 * the webhook configuration, so it lives long enough to outlast several serving certificates, but
 * not a decade, because its key sits in a Secret.
 */
export const DEFAULT_CA_VALIDITY_DAYS = 1826;
/**
 * The serving certificate is replaced without touching the webhook configuration (the server
 * reloads it from disk), so a year keeps renewal a routine, annual chore.
 */
export const DEFAULT_SERVING_VALIDITY_DAYS = 365;
/** Beyond a century a typo is more likely than an intent. */
export const MAX_VALIDITY_DAYS = 36500;
