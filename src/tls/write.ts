import { randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caBundle, generateCA, generateServingCert, serviceDnsNames } from './generate.js';

/** A file or directory `practice-gate certs` cannot write, or would overwrite without --force. */
export class CertificateOutputError extends Error {
  override name = 'CertificateOutputError';
}

export interface WebhookCertificateOptions {
  service: string;
  namespace: string;
  /** Extra DNS names beyond the Service's own. */
  dnsNames?: string[];
  ipAddresses?: string[];
  outDir: string;
  /** Serving certificate validity. */
  validityDays?: number;
  caValidityDays?: number;
  /** Replace existing files; without it nothing already in outDir is touched. */
  force?: boolean;
}

export interface WrittenWebhookCertificates {
  files: { caCert: string; caKey: string; cert: string; key: string };
  caBundle: string;
  dnsNames: string[];
  ipAddresses: string[];
  notAfter: Date;
}

// Names a kubernetes.io/tls Secret and cert-manager use, so the directory can go straight into one.
const FILE_NAMES = { caCert: 'ca.crt', caKey: 'ca.key', cert: 'tls.crt', key: 'tls.key' } as const;
const PUBLIC = 0o644;
const SECRET = 0o600;

/**
 * Generates a CA and a serving certificate for the webhook's Service and writes them to outDir.
 * Everything is generated before anything is written, and each file lands by rename, so a failure
 * leaves no half-written key behind.
 */
export function writeWebhookCertificates(options: WebhookCertificateOptions): WrittenWebhookCertificates {
  const dnsNames = [...new Set([...serviceDnsNames(options.service, options.namespace), ...(options.dnsNames ?? [])])];
  const ipAddresses = options.ipAddresses ?? [];
  const files = {
    caCert: join(options.outDir, FILE_NAMES.caCert),
    caKey: join(options.outDir, FILE_NAMES.caKey),
    cert: join(options.outDir, FILE_NAMES.cert),
    key: join(options.outDir, FILE_NAMES.key),
  };
  if (!options.force) {
    const existing = Object.values(files).filter((f) => existsSync(f));
    if (existing.length > 0) {
      throw new CertificateOutputError(
        `${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}; pass --force to replace them ` +
          '(a new CA means updating caBundle in the ValidatingWebhookConfiguration too)',
      );
    }
  }

  const ca = generateCA({
    commonName: `practice-gate CA for ${options.service}.${options.namespace}`.slice(0, 64),
    validityDays: options.caValidityDays,
  });
  const serving = generateServingCert(ca, {
    // The name the API server dials (service.namespace.svc); clients match the SANs anyway.
    commonName: `${options.service}.${options.namespace}.svc`.slice(0, 64),
    dnsNames,
    ipAddresses,
    validityDays: options.validityDays,
  });
  const bundle = caBundle(ca.cert);

  try {
    mkdirSync(options.outDir, { recursive: true });
  } catch (err) {
    throw new CertificateOutputError(`cannot create output directory ${options.outDir}: ${(err as Error).message}`);
  }
  writeAll(options.outDir, [
    [files.caCert, ca.cert, PUBLIC],
    [files.caKey, ca.key, SECRET],
    [files.cert, serving.cert, PUBLIC],
    [files.key, serving.key, SECRET],
  ]);
  return { files, caBundle: bundle, dnsNames, ipAddresses, notAfter: notAfterOf(serving.cert) };
}

function writeAll(outDir: string, entries: [path: string, data: string, mode: number][]): void {
  const suffix = `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const staged: [tmp: string, path: string][] = [];
  try {
    for (const [path, data, mode] of entries) {
      const tmp = `${path}${suffix}`;
      staged.push([tmp, path]);
      // Created with its final mode, so a key is never readable by others, not even for a moment.
      writeFileSync(tmp, data, { mode, flag: 'wx' });
      chmodSync(tmp, mode); // the umask may have taken bits the caller asked for
    }
    for (const [tmp, path] of staged) renameSync(tmp, path);
  } catch (err) {
    for (const [tmp] of staged) rmSync(tmp, { force: true });
    throw new CertificateOutputError(`cannot write the certificate files to ${outDir}: ${(err as Error).message}`);
  }
}

function notAfterOf(certPem: string): Date {
  return new Date(new X509Certificate(certPem).validTo);
}
