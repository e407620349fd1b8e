import { isIP } from 'node:net';

/** A bad name, address or validity given to the certificate generator; the message says which and why. */
export class CertificateInputError extends Error {
  override name = 'CertificateInputError';
}

// RFC 1123 hostname labels; a leading "*." wildcard is allowed because serving certs may cover one.
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
// A Service name is an RFC 1035 label, a namespace an RFC 1123 label (the API server enforces both).
const SERVICE_NAME = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const NAMESPACE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function checkDnsName(name: string): string {
  const labels = name.startsWith('*.') ? name.slice(2).split('.') : name.split('.');
  if (name.length === 0 || name.length > 253 || !labels.every((l) => DNS_LABEL.test(l))) {
    throw new CertificateInputError(
      `"${name}" is not a DNS name: use dot-separated labels of letters, digits and "-" (e.g. webhook.example.com)`,
    );
  }
  return name.toLowerCase();
}

export function checkIpAddress(address: string): string {
  // A zone index (fe80::1%eth0) is local to one host and cannot go in a certificate.
  if (isIP(address) === 0 || address.includes('%')) {
    throw new CertificateInputError(`"${address}" is not an IPv4 or IPv6 address (e.g. 10.0.0.12 or fd00::12)`);
  }
  return address;
}

export function checkServiceName(service: string): string {
  if (!SERVICE_NAME.test(service)) {
    throw new CertificateInputError(
      `service name "${service}" is not a Kubernetes Service name: lowercase letters, digits and "-", starting with a letter, at most 63 characters`,
    );
  }
  return service;
}

export function checkNamespaceName(namespace: string): string {
  if (!NAMESPACE_NAME.test(namespace)) {
    throw new CertificateInputError(
      `namespace "${namespace}" is not a Kubernetes namespace name: lowercase letters, digits and "-", at most 63 characters`,
    );
  }
  return namespace;
}

/**
 * Network-order bytes of an IP address as a binary string (what forge puts in an iPAddress SAN).
 * forge's own parser mishandles IPv4-mapped IPv6 addresses, so the conversion is done here.
 */
export function ipAddressBytes(address: string): string {
  const family = isIP(checkIpAddress(address));
  if (family === 4) return String.fromCharCode(...address.split('.').map(Number));
  // An embedded IPv4 tail (::ffff:10.0.0.1) is rewritten as two hex groups first.
  const text = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) =>
    [(Number(a) << 8) | Number(b), (Number(c) << 8) | Number(d)].map((g) => g.toString(16)).join(':'),
  );
  const [head = '', rest] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return String.fromCharCode(...groups.flatMap((g) => [g >> 8, g & 0xff]));
}
