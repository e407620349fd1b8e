import { createPrivateKey, X509Certificate } from 'node:crypto';
import { CLOCK_SKEW_MS, generateCA, generateServingCert } from '../../tls/generate.js';
import type { KeyPairSource, PemPair } from '../../tls/generate.js';

/** Keys of the certificate Secret. `ca.crt`/`ca.key` sign `tls.crt`; the others exist only during a CA rotation. */
export const KEY = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  cert: 'tls.crt',
  key: 'tls.key',
  /** A new CA already published in caBundle but not yet signing. */
  nextCaCert: 'ca-next.crt',
  nextCaKey: 'ca-next.key',
  /** The CA before the last rotation, still published until replicas have moved on. */
  prevCaCert: 'ca-prev.crt',
} as const;

export const ANNOTATION_NEXT_SINCE = 'practice-gate.io/ca-next-since';
export const ANNOTATION_PREV_UNTIL = 'practice-gate.io/ca-prev-until';

export interface SecretContent {
  data: Record<string, string>;
  annotations: Record<string, string>;
}

export interface CertPolicy {
  /** Names the serving certificate must cover: the webhook Service's. */
  dnsNames: string[];
  commonName: string;
  certValidityMs: number;
  caValidityMs: number;
  /** Renew when less than this is left. */
  renewBeforeMs: number;
  /** How long a new CA sits in caBundle before it signs anything. */
  caPropagationMs: number;
  /** How long the old CA stays in caBundle after the switch, for replicas still serving its certificate. */
  caOverlapMs: number;
  /** Where new key pairs come from (default: a fresh RSA pair each). */
  keyPairs?: KeyPairSource;
}

export type Plan =
  | { write: false }
  | {
      write: true;
      content: SecretContent;
      reasons: string[];
      /** The previous CA left caBundle because it expired, not because every replica was seen past it. */
      retiredUnconfirmed?: boolean;
    };

/** What planSecret cannot see in the Secret: what the cluster was observed doing. */
export interface Observed {
  /** Every webhook's caBundle contains the staged CA: the switch may go ahead. */
  nextTrusted: boolean;
  /**
   * No replica the API server may call still serves a certificate of the previous CA (or there
   * is no way to tell, and the overlap alone decides): ca-prev may go once the overlap is over.
   */
  prevUnused: boolean;
}

interface Ca {
  pair: PemPair;
  x509: X509Certificate;
}

const EXPIRING = 'serving certificate expiring';

const expiry = (x509: X509Certificate): number => new Date(x509.validTo).getTime();

/** notAfter of a PEM certificate; undefined when it does not parse. */
function notAfter(pem: string | undefined): number | undefined {
  if (!pem) return undefined;
  try {
    return expiry(new X509Certificate(pem));
  } catch {
    return undefined;
  }
}

function time(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A CA pair that parses, belongs together, is a CA, and has not expired. */
function validCa(cert: string | undefined, key: string | undefined, now: number): Ca | undefined {
  if (!cert || !key) return undefined;
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.ca || !x509.checkPrivateKey(createPrivateKey(key)) || expiry(x509) <= now) return undefined;
    return { pair: { cert, key }, x509 };
  } catch {
    return undefined;
  }
}

/** Why the serving pair cannot be served under `ca`, or undefined when it can. */
function servingProblem(content: SecretContent, ca: Ca, policy: CertPolicy, now: number): string | undefined {
  const cert = content.data[KEY.cert];
  const key = content.data[KEY.key];
  if (!cert || !key) return 'no serving certificate';
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) return 'serving key does not match its certificate';
    if (!x509.checkIssued(ca.x509) || !x509.verify(ca.x509.publicKey)) return 'serving certificate not signed by the current CA';
    const missing = policy.dnsNames.filter((name) => x509.checkHost(name, { wildcards: false }) === undefined);
    if (missing.length > 0) return `serving certificate does not cover ${missing.join(', ')}`;
    if (expiry(x509) <= now) return 'serving certificate expired';
    if (expiry(x509) - now <= policy.renewBeforeMs) return EXPIRING;
    return undefined;
  } catch {
    return 'serving certificate or key does not parse';
  }
}

function newCa(policy: CertPolicy, now: number): PemPair {
  // Dated, so that old and new CA tell apart in a bundle and in `openssl x509 -subject`.
  const commonName = `practice-gate CA ${new Date(now).toISOString().slice(0, 19)}Z`;
  return generateCA({
    commonName,
    keyPairs: policy.keyPairs,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + policy.caValidityMs),
  });
}

function newServing(ca: PemPair, policy: CertPolicy, now: number): PemPair {
  return generateServingCert(ca, {
    commonName: policy.commonName,
    keyPairs: policy.keyPairs,
    dnsNames: policy.dnsNames,
    ipAddresses: [],
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + policy.certValidityMs),
  });
}

/**
 * What the Secret should hold now, given what it holds. A CA is replaced in three steps, each a
 * write of its own, so that the API server always trusts the CA of every certificate served:
 *   1. stage: a new CA joins caBundle next to the current one (serving certificate unchanged);
 *   2. switch, once the new CA has been published for caPropagationMs (and the webhook
 *      configuration is seen to trust it, and no earlier ca-prev is still kept): it signs a new
 *      serving certificate; the old CA stays in caBundle as ca-prev;
 *   3. retire: drop ca-prev once caOverlapMs has passed and no replica is seen serving a
 *      certificate of it (observed.prevUnused); or when it expires, since it then helps nobody.
 * A serving certificate alone is renewed under the same CA, which needs no caBundle change.
 */
export function planSecret(current: SecretContent | undefined, policy: CertPolicy, now: number, observed: Observed): Plan {
  const data = { ...(current?.data ?? {}) };
  const annotations = { ...(current?.annotations ?? {}) };
  const reasons: string[] = [];

  let ca = validCa(data[KEY.caCert], data[KEY.caKey], now);
  if (!ca) {
    reasons.push(current ? 'no valid CA in the Secret: new CA and serving certificate' : 'Secret absent: new CA and serving certificate');
    const pair = newCa(policy, now);
    const serving = newServing(pair, policy, now);
    return {
      write: true,
      reasons,
      content: {
        data: { [KEY.caCert]: pair.cert, [KEY.caKey]: pair.key, [KEY.cert]: serving.cert, [KEY.key]: serving.key },
        annotations: withoutRotation(annotations),
      },
    };
  }

  // Step 3: the previous CA has been kept long enough and nobody serves under it any more.
  let retiredUnconfirmed = false;
  if (data[KEY.prevCaCert] !== undefined) {
    const prevUntil = time(annotations[ANNOTATION_PREV_UNTIL]);
    const overlapOver = prevUntil === undefined || now >= prevUntil;
    const prevExpiry = notAfter(data[KEY.prevCaCert]);
    // Past its notAfter the old CA validates nothing, so keeping it would not help a lagging replica.
    const useless = prevExpiry === undefined || now >= prevExpiry;
    if ((overlapOver && observed.prevUnused) || useless) {
      delete data[KEY.prevCaCert];
      delete annotations[ANNOTATION_PREV_UNTIL];
      retiredUnconfirmed = !(overlapOver && observed.prevUnused);
      reasons.push(retiredUnconfirmed ? 'previous CA expired: retired from caBundle' : 'previous CA retired from caBundle');
    }
  }
  const written = (content: SecretContent): Plan =>
    retiredUnconfirmed ? { write: true, reasons, content, retiredUnconfirmed } : { write: true, reasons, content };

  const next = validCa(data[KEY.nextCaCert], data[KEY.nextCaKey], now);
  const nextSince = time(annotations[ANNOTATION_NEXT_SINCE]);
  if (!next && (data[KEY.nextCaCert] !== undefined || data[KEY.nextCaKey] !== undefined)) {
    delete data[KEY.nextCaCert];
    delete data[KEY.nextCaKey];
    delete annotations[ANNOTATION_NEXT_SINCE];
    reasons.push('dropped an unusable staged CA');
  }

  const caExpiring = expiry(ca.x509) - now <= policy.renewBeforeMs;
  // A switch now would overwrite ca-prev, which some replica may still be serving under. Only a
  // CA lifetime below about twice the renewal window gets here; ca-prev expires first, so this
  // waits at most until then.
  const prevKept = data[KEY.prevCaCert] !== undefined;
  if (next && nextSince !== undefined && now >= nextSince + policy.caPropagationMs && observed.nextTrusted && !prevKept) {
    // Step 2: switch signing to the staged CA.
    data[KEY.prevCaCert] = ca.pair.cert;
    annotations[ANNOTATION_PREV_UNTIL] = new Date(now + policy.caOverlapMs).toISOString();
    data[KEY.caCert] = next.pair.cert;
    data[KEY.caKey] = next.pair.key;
    delete data[KEY.nextCaCert];
    delete data[KEY.nextCaKey];
    delete annotations[ANNOTATION_NEXT_SINCE];
    ca = next;
    const serving = newServing(ca.pair, policy, now);
    data[KEY.cert] = serving.cert;
    data[KEY.key] = serving.key;
    reasons.push('switched to the new CA (old CA kept in caBundle for the overlap)');
    return written({ data, annotations });
  }
  if (next && nextSince === undefined) {
    annotations[ANNOTATION_NEXT_SINCE] = new Date(now).toISOString();
    reasons.push('staged CA had no timestamp');
  }
  if (!next && caExpiring) {
    // Step 1: publish a successor before anything depends on it.
    const pair = newCa(policy, now);
    data[KEY.nextCaCert] = pair.cert;
    data[KEY.nextCaKey] = pair.key;
    annotations[ANNOTATION_NEXT_SINCE] = new Date(now).toISOString();
    reasons.push('CA expiring: staged a new CA in caBundle');
  }

  const problem = servingProblem({ data, annotations }, ca, policy, now);
  // While the CA rotates, an expiring serving certificate waits for the switch, which reissues it
  // anyway: renewed now it would be clamped to the old CA's expiry and be "expiring" again at once.
  // Not while the switch itself waits for ca-prev to go, if renewing gains time: the certificate
  // could expire meanwhile. Once clamped to the CA's expiry it gains none, and is left alone
  // (renewing it at every check would make every replica write and reload without end).
  const servingEnd = notAfter(data[KEY.cert]);
  const gains = servingEnd === undefined || servingEnd < Math.min(now + policy.certValidityMs, expiry(ca.x509));
  const waitForSwitch = problem === EXPIRING && caExpiring && (!prevKept || !gains);
  if (problem && !waitForSwitch) {
    const serving = newServing(ca.pair, policy, now);
    data[KEY.cert] = serving.cert;
    data[KEY.key] = serving.key;
    reasons.push(`${problem}: new serving certificate`);
  }
  return reasons.length > 0 ? written({ data, annotations }) : { write: false };
}

function withoutRotation(annotations: Record<string, string>): Record<string, string> {
  const out = { ...annotations };
  delete out[ANNOTATION_NEXT_SINCE];
  delete out[ANNOTATION_PREV_UNTIL];
  return out;
}

/**
 * When planSecret will next want to write for a Secret holding `content`: the serving certificate
 * or the CA entering its renewal window, a staged CA due to switch, a previous CA due to retire
 * (at the end of the overlap, or at its expiry if replicas have not caught up by then).
 * Only times after `now` count: one already past waits on something else (caBundle to trust the
 * staged CA, or the switch that reissues the serving certificate anyway).
 */
export function nextChangeAt(content: SecretContent, policy: CertPolicy, now: number): number | undefined {
  const serving = notAfter(content.data[KEY.cert]);
  const ca = notAfter(content.data[KEY.caCert]);
  const nextSince = time(content.annotations[ANNOTATION_NEXT_SINCE]);
  const candidates = [
    serving === undefined ? undefined : serving - policy.renewBeforeMs,
    ca === undefined ? undefined : ca - policy.renewBeforeMs,
    nextSince === undefined || !content.data[KEY.nextCaCert] ? undefined : nextSince + policy.caPropagationMs,
    content.data[KEY.prevCaCert] ? time(content.annotations[ANNOTATION_PREV_UNTIL]) : undefined,
    notAfter(content.data[KEY.prevCaCert]),
  ].filter((at): at is number => at !== undefined && at > now);
  return candidates.length > 0 ? Math.min(...candidates) : undefined;
}

/** The CA certificates to publish as caBundle: signing, staged, previous. */
export function trustedCaPems(content: SecretContent): string[] {
  return [content.data[KEY.caCert], content.data[KEY.nextCaCert], content.data[KEY.prevCaCert]].filter(
    (pem): pem is string => typeof pem === 'string' && pem !== '',
  );
}

/**
 * When the previous CA may retire as far as time goes (end of the overlap), if one is kept:
 * from then on its retirement waits only on the replicas.
 */
export function prevRetireAt(content: SecretContent): number | undefined {
  if (!content.data[KEY.prevCaCert]) return undefined;
  return time(content.annotations[ANNOTATION_PREV_UNTIL]) ?? Number.NEGATIVE_INFINITY;
}

/** The staged CA certificate, if a rotation is under way. */
export function stagedCaPem(content: SecretContent): string | undefined {
  return content.data[KEY.nextCaCert] || undefined;
}
