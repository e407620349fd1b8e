import { X509Certificate } from 'node:crypto';

export interface PemBlock {
  /** The label between BEGIN and END, e.g. CERTIFICATE or RSA PRIVATE KEY. */
  type: string;
  /** The block itself, BEGIN and END lines included, LF line endings. */
  pem: string;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

export function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(BLOCK)].map((m) => ({ type: m[1] ?? '', pem: m[0].replace(/\r\n/g, '\n') }));
}

/**
 * Every CERTIFICATE block of `text`, parsed. Throws an Error whose message says what was found
 * instead when there is none, or which block does not parse.
 */
export function parseCertificates(text: string): X509Certificate[] {
  const blocks = pemBlocks(text);
  const certs = blocks.filter((b) => b.type === 'CERTIFICATE');
  if (certs.length === 0) {
    const found = blocks.length > 0 ? `it holds ${blocks.map((b) => b.type).join(', ')} instead` : 'it holds no PEM block at all';
    throw new Error(`expected a PEM certificate (-----BEGIN CERTIFICATE-----) but ${found}`);
  }
  return certs.map((block, i) => {
    try {
      return new X509Certificate(block.pem);
    } catch (err) {
      throw new Error(`certificate #${i + 1} does not parse: ${(err as Error).message}`);
    }
  });
}
