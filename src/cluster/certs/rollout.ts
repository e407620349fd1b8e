// Whether every replica the API server may call already serves a certificate of the new CA,
// observed the way the API server sees it: the webhook Service's EndpointSlices, then a TLS
// handshake with each endpoint. The old CA may leave caBundle only then; before, a replica that
// missed the reload would fail every call routed to it.
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { isRecord } from '../../engine/k8s.js';
import { DEFAULT_WEBHOOK_PORT_NAME } from './cert-defaults.js';
import { describeError, isNotFound, statusOf } from '../api/errors.js';

export { DEFAULT_WEBHOOK_PORT_NAME };
/** A replica that does not complete a handshake in this time counts as not caught up. */
export const DEFAULT_PROBE_TIMEOUT_MS = 3_000;
/** The label the EndpointSlice controller sets to the owning Service's name. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** The EndpointSlices of the webhook Service (label kubernetes.io/service-name), as the API returns them. */
export interface EndpointSliceSource {
  list(): Promise<unknown[]>;
}

/** The certificate a TLS server presents to a new connection, unverified. */
export interface CertificateProbe {
  peerCertificate(address: string, port: number): Promise<X509Certificate>;
}

export interface Endpoint {
  address: string;
  port: number;
  /** From targetRef, for the log: which pod lags. */
  pod: string | undefined;
}

export interface Lagging extends Endpoint {
  why: string;
}

export type RolloutVerdict =
  /** Nothing to observe (no EndpointSlices, not allowed to list them): retire after the overlap, as before. */
  | { mode: 'time'; why: string }
  | { mode: 'endpoints'; caughtUp: true; checked: number }
  | { mode: 'endpoints'; caughtUp: false; lagging: Lagging[]; checked: number }
  /** The API server did not answer: keep the old CA and look again at the next check. */
  | { mode: 'unknown'; why: string };

type Found = { endpoints: Endpoint[] } | { none: string };

/**
 * The endpoints the API server may be routed to: ready ones, and terminating ones still serving
 * (kube-proxy falls back to those when nothing is ready, and their open connections drain). Not
 * ready and not serving ones receive no calls, and load the Secret as it is when they start.
 * Conditions left unset mean ready, as the EndpointSlice API says.
 */
export function servingEndpoints(slices: readonly unknown[], portName: string): Found {
  if (slices.length === 0) return { none: 'no EndpointSlices for the Service' };
  const endpoints: Endpoint[] = [];
  let portFound = false;
  for (const slice of slices) {
    if (!isRecord(slice)) continue;
    const ports = Array.isArray(slice.ports) ? slice.ports.filter(isRecord) : [];
    const port = ports.find((p) => (p.name ?? '') === portName)?.port;
    if (typeof port !== 'number') continue;
    portFound = true;
    for (const endpoint of Array.isArray(slice.endpoints) ? slice.endpoints.filter(isRecord) : []) {
      const conditions = isRecord(endpoint.conditions) ? endpoint.conditions : {};
      const ready = conditions.ready !== false;
      const serving = typeof conditions.serving === 'boolean' ? conditions.serving : ready;
      if (!serving) continue;
      const pod = isRecord(endpoint.targetRef) && typeof endpoint.targetRef.name === 'string' ? endpoint.targetRef.name : undefined;
      const addresses = Array.isArray(endpoint.addresses) ? endpoint.addresses.filter((a): a is string => typeof a === 'string') : [];
      for (const address of addresses) endpoints.push({ address, port, pod });
    }
  }
  // Slices without the port: a Service not shaped like the chart's. Nothing to observe.
  if (!portFound) return { none: `no EndpointSlice port named "${portName}"` };
  return { endpoints };
}

export interface RolloutCheck {
  slices: EndpointSliceSource;
  probe: CertificateProbe;
  /** The CA that signs now (ca.crt after the switch). */
  caPem: string;
  portName?: string;
}

/** Lists the Service's endpoints and asks each which certificate it serves. */
export async function checkRollout(check: RolloutCheck): Promise<RolloutVerdict> {
  let slices: unknown[];
  try {
    slices = await check.slices.list();
  } catch (err) {
    // 403: the chart grants the list, a hand-made Role may not; 404: no discovery.k8s.io/v1.
    const status = statusOf(err);
    if (status === 403) return { mode: 'time', why: 'not allowed to list EndpointSlices' };
    if (isNotFound(err)) return { mode: 'time', why: 'EndpointSlices not served by this API server' };
    return { mode: 'unknown', why: `cannot list EndpointSlices: ${describeError(err)}` };
  }
  const found = servingEndpoints(slices, check.portName ?? DEFAULT_WEBHOOK_PORT_NAME);
  if ('none' in found) return { mode: 'time', why: found.none };
  const ca = new X509Certificate(check.caPem);
  const results = await Promise.all(
    found.endpoints.map(async (endpoint): Promise<Lagging | undefined> => {
      let served: X509Certificate;
      try {
        served = await check.probe.peerCertificate(endpoint.address, endpoint.port);
      } catch (err) {
        return { ...endpoint, why: `unreachable: ${describeError(err)}` };
      }
      if (served.checkIssued(ca) && served.verify(ca.publicKey)) return undefined;
      return { ...endpoint, why: `serves a certificate issued by "${served.issuer.replace(/\n/g, ', ')}", not by the current CA` };
    }),
  );
  const lagging = results.filter((r): r is Lagging => r !== undefined);
  const checked = found.endpoints.length;
  return lagging.length === 0 ? { mode: 'endpoints', caughtUp: true, checked } : { mode: 'endpoints', caughtUp: false, lagging, checked };
}

/**
 * Handshakes without verifying (what is served is the question, not whether this process trusts
 * it), sending the Service name as SNI as the API server does, and ending the connection at once.
 */
export function tlsProbe(servername: string, timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): CertificateProbe {
  return {
    peerCertificate: (address, port) =>
      new Promise((resolve, reject) => {
        const socket = connect({ host: address, port, servername, rejectUnauthorized: false, timeout: timeoutMs });
        const fail = (err: Error): void => {
          socket.destroy();
          reject(err);
        };
        socket.once('secureConnect', () => {
          const cert = socket.getPeerX509Certificate();
          socket.destroy();
          if (cert) resolve(cert);
          else reject(new Error('no certificate presented'));
        });
        socket.once('timeout', () => fail(new Error(`no TLS handshake within ${timeoutMs} ms`)));
        socket.once('error', fail);
      }),
  };
}
