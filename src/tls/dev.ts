import { caBundle, generateCA, generateServingCert, type PemPair } from './generate.js';

/** Dev certificates only live as long as the process, so a short default does no harm. */
export const DEFAULT_DEV_VALIDITY_DAYS = 30;

/** In-memory CA + serving cert for 127.0.0.1, ::1 and localhost, for `serve --dev` and tests. */
export function devCertificates(options: { validityDays?: number } = {}): {
  ca: PemPair;
  serving: PemPair;
  caBundle: string;
} {
  const validityDays = options.validityDays ?? DEFAULT_DEV_VALIDITY_DAYS;
  const ca = generateCA({ commonName: 'practice-gate dev CA', validityDays });
  const serving = generateServingCert(ca, {
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
    validityDays,
  });
  return { ca, serving, caBundle: caBundle(ca.cert) };
}
