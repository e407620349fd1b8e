import { randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { CertificateInputError, checkDnsName, checkIpAddress, checkNamespaceName, checkServiceName, ipAddressBytes } from './names.js';
import { parseCertificates, pemBlocks } from './pem.js';
import { DEFAULT_CA_VALIDITY_DAYS, DEFAULT_SERVING_VALIDITY_DAYS, MAX_VALIDITY_DAYS } from './validity.js';

export { CertificateInputError } from './names.js';

export interface PemPair {
  cert: string;
  key: string;
}

export { DEFAULT_CA_VALIDITY_DAYS, DEFAULT_SERVING_VALIDITY_DAYS, MAX_VALIDITY_DAYS };
/** notBefore is backdated so a client whose clock runs a little behind still accepts a fresh certificate. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;
const RSA_BITS = 2048;

/**
 * Validity of a certificate. notBefore/notAfter override the computed window: tests use them to make
 * expired certificates.
 */
export interface ValidityOptions {
  validityDays?: number;
  notBefore?: Date;
  notAfter?: Date;
}

/** Where a certificate's new key pair comes from. */
export type KeyPairSource = () => forge.pki.rsa.KeyPair;

/** A fresh 2048-bit RSA pair (Node's native generator, through forge), for every certificate. */
export const newRsaKeyPair: KeyPairSource = () => forge.pki.rsa.generateKeyPair({ bits: RSA_BITS });

export interface KeyOptions {
  /** Default: newRsaKeyPair. Tests of what issues many certificates hand out pre-generated pairs. */
  keyPairs?: KeyPairSource;
}

export interface CAOptions extends ValidityOptions, KeyOptions {
  commonName?: string;
}

export interface ServingCertOptions extends ValidityOptions, KeyOptions {
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
}

export function generateCA(options: CAOptions = {}): PemPair {
  const commonName = checkCommonName(options.commonName ?? 'practice-gate webhook CA');
  const { notBefore, notAfter } = validityWindow(options, DEFAULT_CA_VALIDITY_DAYS);
  const keys = (options.keyPairs ?? newRsaKeyPair)();
  const cert = newCertificate(keys.publicKey, notBefore, notAfter);
  const subject = [{ shortName: 'CN', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return toPemPair(cert, keys.privateKey);
}

/**
 * A server certificate signed by `ca`. Every DNS name and IP goes in subjectAltName, because the API
 * server ignores the common name. notAfter never passes the CA's: a chain is only as valid as its CA.
 */
export function generateServingCert(ca: PemPair, options: ServingCertOptions): PemPair {
  const commonName = checkCommonName(options.commonName);
  const dnsNames = unique(options.dnsNames.map(checkDnsName));
  const ipAddresses = unique(options.ipAddresses.map(checkIpAddress));
  if (dnsNames.length + ipAddresses.length === 0) {
    throw new CertificateInputError(
      'a serving certificate needs at least one DNS name or IP address: clients match subjectAltName, not the common name',
    );
  }
  const { caCert, caKey } = parseCA(ca);
  if (caCert.validity.notAfter.getTime() <= Date.now()) {
    const expired = caCert.validity.notAfter.toISOString();
    throw new CertificateInputError(`the CA certificate expired ${expired}: generate a new CA`);
  }
  const window = validityWindow(options, DEFAULT_SERVING_VALIDITY_DAYS);
  const notAfter = new Date(Math.min(window.notAfter.getTime(), caCert.validity.notAfter.getTime()));
  if (notAfter <= window.notBefore) {
    throw new CertificateInputError(
      `the CA certificate expires ${caCert.validity.notAfter.toISOString()}, ` +
        'before the serving certificate could start: generate a new CA',
    );
  }

  const keys = (options.keyPairs ?? newRsaKeyPair)();
  const cert = newCertificate(keys.publicKey, window.notBefore, notAfter);
  cert.setSubject([{ shortName: 'CN', value: commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [...dnsNames.map((value) => ({ type: 2, value })), ...ipAddresses.map((ip) => ({ type: 7, value: ipAddressBytes(ip) }))],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caKeyIdentifier(caCert) },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return toPemPair(cert, keys.privateKey);
}

/** NAME, NAME.NS, NAME.NS.svc, NAME.NS.svc.cluster.local */
export function serviceDnsNames(service: string, namespace: string): string[] {
  const name = checkServiceName(service);
  const ns = checkNamespaceName(namespace);
  return [name, `${name}.${ns}`, `${name}.${ns}.svc`, `${name}.${ns}.svc.cluster.local`];
}

/** base64 of the PEM CA certificate(s), as a ValidatingWebhookConfiguration's caBundle wants it */
export function caBundle(...caCertPems: string[]): string {
  if (caCertPems.length === 0) throw new CertificateInputError('caBundle needs at least one CA certificate');
  const blocks = caCertPems.flatMap((pem, i) => {
    try {
      // Parsing guards against putting a key or garbage into the webhook configuration.
      parseCertificates(pem);
    } catch (err) {
      throw new CertificateInputError(`CA bundle entry #${i + 1}: ${(err as Error).message}`);
    }
    // Only certificates: a key that shares the file must never reach the webhook configuration.
    return pemBlocks(pem)
      .filter((b) => b.type === 'CERTIFICATE')
      .map((b) => `${b.pem}\n`);
  });
  return Buffer.from(blocks.join(''), 'utf8').toString('base64');
}

function newCertificate(publicKey: forge.pki.PublicKey, notBefore: Date, notAfter: Date): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.version = 2; // X.509 v3 (the field is zero-based)
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  return cert;
}

/** 16 random bytes with the top bit clear (a positive INTEGER) and the next set (minimal DER, never zero). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function validityWindow(options: ValidityOptions, defaultDays: number): { notBefore: Date; notAfter: Date } {
  const days = options.validityDays ?? defaultDays;
  if (!Number.isInteger(days) || days < 1 || days > MAX_VALIDITY_DAYS) {
    throw new CertificateInputError(`validity must be a whole number of days from 1 to ${MAX_VALIDITY_DAYS}, got ${days}`);
  }
  const now = Date.now();
  const notBefore = options.notBefore ?? new Date(now - CLOCK_SKEW_MS);
  const notAfter = options.notAfter ?? new Date(now + days * DAY_MS);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime()) || notAfter <= notBefore) {
    throw new CertificateInputError(`notAfter (${String(notAfter)}) must be a valid date after notBefore (${String(notBefore)})`);
  }
  // Whole seconds: that is all X.509 time encodes, and it keeps the caller's view equal to the certificate's.
  return { notBefore: wholeSeconds(notBefore), notAfter: wholeSeconds(notAfter) };
}

function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function checkCommonName(commonName: string): string {
  // X.520 caps a common name at 64 characters.
  if (commonName.trim() === '' || commonName.length > 64) {
    throw new CertificateInputError(`common name must be 1 to 64 characters, got "${commonName}"`);
  }
  return commonName;
}

function parseCA(ca: PemPair): { caCert: forge.pki.Certificate; caKey: forge.pki.rsa.PrivateKey } {
  let caCert: forge.pki.Certificate;
  let caKey: forge.pki.rsa.PrivateKey;
  try {
    caCert = forge.pki.certificateFromPem(ca.cert);
  } catch (err) {
    throw new CertificateInputError(`the CA certificate is not an RSA PEM certificate: ${(err as Error).message}`);
  }
  try {
    caKey = forge.pki.privateKeyFromPem(ca.key);
  } catch (err) {
    throw new CertificateInputError(`the CA key is not an unencrypted RSA PEM private key: ${(err as Error).message}`);
  }
  const caPublic = caCert.publicKey as forge.pki.rsa.PublicKey;
  if (caPublic.n.compareTo(caKey.n) !== 0 || caPublic.e.compareTo(caKey.e) !== 0) {
    throw new CertificateInputError('the CA key does not belong to the CA certificate');
  }
  const basic = caCert.getExtension('basicConstraints') as { cA?: boolean } | undefined;
  if (basic?.cA !== true) {
    throw new CertificateInputError('the CA certificate is not a CA (basicConstraints cA is not true)');
  }
  return { caCert, caKey };
}

/** The CA's own subjectKeyIdentifier when it has one, so the chain links even for a CA made by another tool. */
function caKeyIdentifier(caCert: forge.pki.Certificate): string {
  const ski = caCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  return ski?.subjectKeyIdentifier ? forge.util.hexToBytes(ski.subjectKeyIdentifier) : caCert.generateSubjectKeyIdentifier().getBytes();
}

function toPemPair(cert: forge.pki.Certificate, key: forge.pki.PrivateKey): PemPair {
  return { cert: normalizePem(forge.pki.certificateToPem(cert)), key: normalizePem(forge.pki.privateKeyToPem(key)) };
}

/** forge writes CRLF; files and bundles read more cleanly with LF. */
function normalizePem(pem: string): string {
  return pem.replace(/\r\n/g, '\n');
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
