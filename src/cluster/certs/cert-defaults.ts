// Certificate lifetimes the `serve` flags default to. Kept apart from certs.ts, which loads the
// TLS and Kubernetes machinery, so that registering the flags costs nothing.
export const DAY_MS = 86_400_000;
export const DEFAULT_CERT_VALIDITY_MS = 365 * DAY_MS;
export const DEFAULT_RENEW_BEFORE_MS = 30 * DAY_MS;
/** How long a new CA sits in caBundle before it signs anything. */
export const DEFAULT_CA_PROPAGATION_MS = 60_000;
/** The least time the old CA stays in caBundle after the switch (then until every replica serves the new CA). */
export const DEFAULT_CA_OVERLAP_MS = 10 * 60_000;
/** The chart's name of the webhook port, on the Service and hence on its EndpointSlices. */
export const DEFAULT_WEBHOOK_PORT_NAME = 'https-webhook';
