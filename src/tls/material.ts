import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseCertificates } from './pem.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  clientCaFile?: string;
}

export interface TlsMaterial {
  /** The certificate file as read: the serving certificate first, then any intermediates. */
  cert: string;
  key: string;
  clientCa?: string;
  /** When the serving certificate expires. */
  notAfter: Date;
  /** SHA-256 fingerprint of the serving certificate, as `openssl x509 -noout -fingerprint -sha256` prints it. */
  fingerprint: string;
}

/** Unreadable or invalid TLS material; the message names the file (or source) and what is wrong with it. */
export class TlsError extends Error {
  override name = 'TlsError';
}

/** Raw contents of the TLS files, as read from disk. */
export interface TlsContents {
  cert: string;
  key: string;
  clientCa?: string;
}

/** How each part is named in messages: a file path, or a phrase such as "certificate (dev)". */
interface Labels {
  cert: string;
  key: string;
  clientCa: string;
}

/**
 * Reads and validates: PEM parses, key matches cert (crypto.X509Certificate#checkPrivateKey), cert not
 * expired; the client CA parses. Clear messages naming the file.
 */
export function loadTlsMaterial(files: TlsFiles): TlsMaterial {
  return validateContents(readTlsFiles(files), fileLabels(files));
}

export function validateTlsMaterial(m: { cert: string; key: string; clientCa?: string }, source: string): TlsMaterial {
  return validateContents(m, {
    cert: `TLS certificate from ${source}`,
    key: `TLS key from ${source}`,
    clientCa: `client CA from ${source}`,
  });
}

/** Reads the files without judging them; throws TlsError naming the file that cannot be read. */
export function readTlsFiles(files: TlsFiles): TlsContents {
  const labels = fileLabels(files);
  const contents: TlsContents = {
    cert: readPart(files.certFile, labels.cert),
    key: readPart(files.keyFile, labels.key),
  };
  if (files.clientCaFile !== undefined) contents.clientCa = readPart(files.clientCaFile, labels.clientCa);
  return contents;
}

/** Validates contents read by readTlsFiles, naming the files in messages. */
export function validateTlsFiles(contents: TlsContents, files: TlsFiles): TlsMaterial {
  return validateContents(contents, fileLabels(files));
}

function fileLabels(files: TlsFiles): Labels {
  return {
    cert: `TLS certificate file ${files.certFile}`,
    key: `TLS key file ${files.keyFile}`,
    clientCa: `client CA file ${files.clientCaFile ?? '(none)'}`,
  };
}

function readPart(path: string, label: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'cannot be read: permission denied'
          : code === 'EISDIR'
            ? 'is a directory, not a file'
            : `cannot be read: ${(err as Error).message}`;
    throw new TlsError(`${label} ${why}`);
  }
  if (text.trim() === '') throw new TlsError(`${label} is empty`);
  return text;
}

function validateContents(m: TlsContents, labels: Labels): TlsMaterial {
  let leaf: ReturnType<typeof parseCertificates>[number] | undefined;
  try {
    [leaf] = parseCertificates(m.cert);
  } catch (err) {
    throw new TlsError(`${labels.cert}: ${(err as Error).message}${swapHint(m.cert, 'PRIVATE KEY')}`);
  }
  if (!leaf) throw new TlsError(`${labels.cert}: holds no certificate`);

  const key = parseKey(m.key, labels.key);
  if (!leaf.checkPrivateKey(key)) {
    throw new TlsError(
      `${labels.key} does not match ${labels.cert} (subject ${leaf.subject.replace(/\n/g, ', ')}): ` +
        'the key and certificate come from different pairs, or one was replaced without the other',
    );
  }

  const notAfter = new Date(leaf.validTo);
  if (!(notAfter.getTime() > Date.now())) {
    throw new TlsError(`${labels.cert}: the certificate expired on ${notAfter.toISOString()}; issue a new one`);
  }

  const material: TlsMaterial = { cert: m.cert, key: m.key, notAfter, fingerprint: leaf.fingerprint256 };
  if (m.clientCa !== undefined) {
    try {
      parseCertificates(m.clientCa);
    } catch (err) {
      throw new TlsError(`${labels.clientCa}: ${(err as Error).message}`);
    }
    material.clientCa = m.clientCa;
  }
  return material;
}

function parseKey(pem: string, label: string): KeyObject {
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
    throw new TlsError(`${label} is encrypted; practice-gate needs the key unencrypted (as in a kubernetes.io/tls Secret)`);
  }
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new TlsError(`${label}: not a PEM private key (${(err as Error).message})${swapHint(pem, 'CERTIFICATE')}`);
  }
}

/** The commonest mix-up is passing the key as the certificate or the other way round. */
function swapHint(text: string, otherType: string): string {
  return new RegExp(`-----BEGIN [A-Z ]*${otherType}-----`).test(text) ? '; it looks like the certificate and key files are swapped' : '';
}
