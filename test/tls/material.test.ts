import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { FixtureDirContent } from '@tapjs/fixture';
import { generateCA, generateServingCert } from '../../src/tls/generate.js';
import { loadTlsMaterial, TlsError, validateTlsMaterial } from '../../src/tls/material.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const ca = generateCA();
const names = { commonName: 'webhook', dnsNames: ['webhook.gate.svc'], ipAddresses: [] };
const good = generateServingCert(ca, names);
const other = generateServingCert(ca, names);
const expired = generateServingCert(ca, {
  ...names,
  notBefore: new Date(Date.now() - 30 * DAY_MS),
  notAfter: new Date(Date.now() - DAY_MS),
});

/** Writes the given files into a fresh directory and returns a function giving their paths. */
function files(t: Test, contents: FixtureDirContent) {
  const dir = t.testdir(contents);
  return (name: string) => join(dir, name);
}

t.test('a good pair loads, with expiry and fingerprint', async (t) => {
  const at = files(t, { 'tls.crt': good.cert, 'tls.key': good.key, 'ca.crt': ca.cert });
  const m = loadTlsMaterial({ certFile: at('tls.crt'), keyFile: at('tls.key'), clientCaFile: at('ca.crt') });
  const leaf = new X509Certificate(good.cert);
  t.equal(m.cert, good.cert);
  t.equal(m.key, good.key);
  t.equal(m.clientCa, ca.cert);
  t.equal(m.fingerprint, leaf.fingerprint256);
  t.equal(m.notAfter.getTime(), new Date(leaf.validTo).getTime());
});

t.test('a certificate file holding the chain loads, judged by its first certificate', async (t) => {
  const at = files(t, { 'tls.crt': `${good.cert}${ca.cert}`, 'tls.key': good.key });
  const m = loadTlsMaterial({ certFile: at('tls.crt'), keyFile: at('tls.key') });
  t.equal(m.fingerprint, new X509Certificate(good.cert).fingerprint256);
});

t.test('a missing file is named', async (t) => {
  const at = files(t, { 'tls.key': good.key });
  t.throws(() => loadTlsMaterial({ certFile: at('tls.crt'), keyFile: at('tls.key') }), {
    name: 'TlsError',
    message: `TLS certificate file ${at('tls.crt')} does not exist`,
  });
  const withCert = files(t, { 'tls.crt': good.cert, 'tls.key': good.key });
  const clientCaFile = withCert('ca.crt');
  t.throws(() => loadTlsMaterial({ certFile: withCert('tls.crt'), keyFile: withCert('tls.key'), clientCaFile }), {
    message: `client CA file ${clientCaFile} does not exist`,
  });
});

t.test('garbage, empty and swapped files are told apart', async (t) => {
  const at = files(t, { 'tls.crt': good.cert, 'tls.key': good.key, garbage: 'hello\n', empty: '  \n' });
  t.throws(() => loadTlsMaterial({ certFile: at('garbage'), keyFile: at('tls.key') }), {
    message: `TLS certificate file ${at('garbage')}: expected a PEM certificate (-----BEGIN CERTIFICATE-----) but it holds no PEM block at all`,
  });
  t.throws(() => loadTlsMaterial({ certFile: at('tls.crt'), keyFile: at('garbage') }), {
    message: new RegExp(`^TLS key file ${at('garbage')}: not a PEM private key`),
  });
  t.throws(() => loadTlsMaterial({ certFile: at('empty'), keyFile: at('tls.key') }), {
    message: `TLS certificate file ${at('empty')} is empty`,
  });
  t.throws(() => loadTlsMaterial({ certFile: at('tls.key'), keyFile: at('tls.crt') }), {
    message: /holds RSA PRIVATE KEY instead; it looks like the certificate and key files are swapped$/,
  });
  t.throws(() => loadTlsMaterial({ certFile: at('tls.crt'), keyFile: at('tls.crt') }), {
    message: /it looks like the certificate and key files are swapped$/,
  });
  t.throws(() => loadTlsMaterial({ certFile: at('tls.crt'), keyFile: at('tls.key'), clientCaFile: at('garbage') }), {
    message: `client CA file ${at('garbage')}: expected a PEM certificate (-----BEGIN CERTIFICATE-----) but it holds no PEM block at all`,
  });
});

t.test('a corrupted certificate body is reported, not crashed on', async (t) => {
  // A certificate cut short, as a failed copy leaves it: the armour is intact, the DER is not.
  const lines = good.cert.trim().split('\n');
  const truncated = [...lines.slice(0, 4), lines[lines.length - 1]].join('\n');
  const at = files(t, { 'tls.crt': truncated, 'tls.key': good.key });
  t.throws(() => loadTlsMaterial({ certFile: at('tls.crt'), keyFile: at('tls.key') }), {
    name: 'TlsError',
    message: new RegExp(`^TLS certificate file ${at('tls.crt')}: certificate #1 does not parse`),
  });
});

t.test('a key from another pair is refused', async (t) => {
  const at = files(t, { 'tls.crt': good.cert, 'tls.key': other.key });
  t.throws(() => loadTlsMaterial({ certFile: at('tls.crt'), keyFile: at('tls.key') }), {
    name: 'TlsError',
    message:
      `TLS key file ${at('tls.key')} does not match TLS certificate file ${at('tls.crt')} (subject CN=webhook): ` +
      'the key and certificate come from different pairs, or one was replaced without the other',
  });
});

t.test('an expired certificate is refused with its expiry date', async (t) => {
  const at = files(t, { 'tls.crt': expired.cert, 'tls.key': expired.key });
  const notAfter = new Date(new X509Certificate(expired.cert).validTo).toISOString();
  t.throws(() => loadTlsMaterial({ certFile: at('tls.crt'), keyFile: at('tls.key') }), {
    message: `TLS certificate file ${at('tls.crt')}: the certificate expired on ${notAfter}; issue a new one`,
  });
});

t.test('an encrypted key gets a message saying so', async (t) => {
  const encrypted =
    '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n';
  t.throws(() => validateTlsMaterial({ cert: good.cert, key: encrypted }, 'a test'), {
    message: /^TLS key from a test is encrypted/,
  });
});

t.test('validateTlsMaterial checks in-memory material and names the source', async (t) => {
  const m = validateTlsMaterial({ cert: good.cert, key: good.key, clientCa: ca.cert }, 'serve --dev');
  t.equal(m.fingerprint, new X509Certificate(good.cert).fingerprint256);
  t.throws(() => validateTlsMaterial({ cert: good.cert, key: other.key }, 'serve --dev'), {
    message: /^TLS key from serve --dev does not match TLS certificate from serve --dev/,
  });
  t.throws(() => validateTlsMaterial({ cert: 'x', key: good.key }, 'serve --dev'), TlsError);
});

t.test('a directory where a file should be is named', async (t) => {
  const at = files(t, { 'tls.crt': {}, 'tls.key': good.key });
  t.throws(() => loadTlsMaterial({ certFile: at('tls.crt'), keyFile: at('tls.key') }), {
    message: `TLS certificate file ${at('tls.crt')} is a directory, not a file`,
  });
});
