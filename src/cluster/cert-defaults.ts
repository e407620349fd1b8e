// Certificate lifetimes the `serve` flags default to. Kept apart from certs.ts, which loads the
// TLS and Kubernetes machinery, so that registering the flags costs nothing.
export const DAY_MS = 86_400_000;
export const DEFAULT_CERT_VALIDITY_MS = 365 * DAY_MS;
export const DEFAULT_RENEW_BEFORE_MS = 30 * DAY_MS;
