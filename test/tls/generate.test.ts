import { createPrivateKey, X509Certificate } from 'node:crypto';
import t from 'tap';
import {
  caBundle,
  CertificateInputError,
  CLOCK_SKEW_MS,
  DEFAULT_CA_VALIDITY_DAYS,
  DEFAULT_SERVING_VALIDITY_DAYS,
  generateCA,
  generateServingCert,
  serviceDnsNames,
} from '../../src/tls/generate.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const before = Date.now();
const ca = generateCA();
const serving = generateServingCert(ca, {
  commonName: 'practice-gate.gate.svc',
  dnsNames: serviceDnsNames('practice-gate', 'gate'),
  ipAddresses: ['10.96.0.12', 'fd00::12', '::ffff:192.0.2.7'],
});
const after = Date.now();
const caCert = new X509Certificate(ca.cert);
const leaf = new X509Certificate(serving.cert);

/** X509Certificate dates have whole seconds; the window allows for that. */
function within(actual: string, from: number, to: number): boolean {
  const at = new Date(actual).getTime();
  return at >= from - 1000 && at <= to;
}

t.test('the CA is a CA, self-signed, valid five years', async (t) => {
  t.equal(caCert.ca, true);
  t.equal(caCert.subject, 'CN=practice-gate webhook CA');
  t.equal(caCert.issuer, caCert.subject);
  t.ok(caCert.verify(caCert.publicKey), 'self-signed');
  t.ok(caCert.checkPrivateKey(createPrivateKey(ca.key)), 'key belongs to the certificate');
  t.ok(within(caCert.validFrom, before - CLOCK_SKEW_MS, after - CLOCK_SKEW_MS), 'notBefore backdated for clock skew');
  const fiveYears = DEFAULT_CA_VALIDITY_DAYS * DAY_MS;
  t.ok(within(caCert.validTo, before + fiveYears, after + fiveYears), 'notAfter five years out');
  const ext = caCert.toLegacyObject() as unknown as { bits: number };
  t.equal(ext.bits, 2048, 'RSA 2048');
});

t.test('the serving certificate chains to the CA and names every SAN', async (t) => {
  t.equal(leaf.ca, false);
  t.ok(leaf.verify(caCert.publicKey), 'signed by the CA');
  t.notOk(leaf.verify(leaf.publicKey), 'not self-signed');
  t.ok(leaf.checkIssued(caCert), 'issuer name and key identifiers link to the CA');
  t.equal(leaf.issuer, caCert.subject);
  t.ok(leaf.checkPrivateKey(createPrivateKey(serving.key)), 'key belongs to the certificate');
  t.notOk(leaf.checkPrivateKey(createPrivateKey(ca.key)), 'and is not the CA key');
  t.equal(
    leaf.subjectAltName,
    'DNS:practice-gate, DNS:practice-gate.gate, DNS:practice-gate.gate.svc, DNS:practice-gate.gate.svc.cluster.local, ' +
      'IP Address:10.96.0.12, IP Address:FD00:0:0:0:0:0:0:12, IP Address:0:0:0:0:0:FFFF:C000:207',
  );
  t.ok(leaf.checkHost('practice-gate.gate.svc'), 'matches the name the API server dials');
  t.equal(leaf.checkIP('10.96.0.12'), '10.96.0.12');
  t.equal(leaf.checkHost('other.gate.svc'), undefined, 'and nothing else');
  t.same(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extKeyUsage serverAuth');
  t.ok(within(leaf.validFrom, before - CLOCK_SKEW_MS, after - CLOCK_SKEW_MS), 'notBefore backdated for clock skew');
  const year = DEFAULT_SERVING_VALIDITY_DAYS * DAY_MS;
  t.ok(within(leaf.validTo, before + year, after + year), 'notAfter one year out');
  t.match(leaf.fingerprint256, /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/);
});

t.test('serials are random and positive', async (t) => {
  t.not(leaf.serialNumber, caCert.serialNumber);
  for (const serial of [leaf.serialNumber, caCert.serialNumber]) {
    t.equal(serial.length, 32, '16 bytes, no leading zero byte');
    t.ok(parseInt(serial.slice(0, 2), 16) < 0x80, `${serial} is positive`);
  }
});

t.test('validityDays and notAfter shape the window', async (t) => {
  const short = generateServingCert(ca, { commonName: 'x', dnsNames: ['x.example'], ipAddresses: [], validityDays: 2 });
  t.ok(within(new X509Certificate(short.cert).validTo, before + 2 * DAY_MS, Date.now() + 2 * DAY_MS), 'two days');

  const notAfter = new Date(Date.now() - DAY_MS);
  const expired = generateServingCert(ca, {
    commonName: 'x',
    dnsNames: ['x.example'],
    ipAddresses: [],
    notBefore: new Date(Date.now() - 2 * DAY_MS),
    notAfter,
  });
  t.equal(new Date(new X509Certificate(expired.cert).validTo).getTime(), Math.floor(notAfter.getTime() / 1000) * 1000);
});

t.test('a serving certificate never outlives its CA', async (t) => {
  const shortCa = generateCA({ validityDays: 3 });
  const cert = generateServingCert(shortCa, {
    commonName: 'x',
    dnsNames: ['x.example'],
    ipAddresses: [],
    validityDays: 30,
  });
  t.equal(new X509Certificate(cert.cert).validTo, new X509Certificate(shortCa.cert).validTo);
});

t.test('bad input is refused with a message naming it', async (t) => {
  const base = { commonName: 'x', dnsNames: ['x.example'], ipAddresses: [] as string[] };
  t.throws(() => generateServingCert(ca, { ...base, ipAddresses: ['10.0.0.300'] }), {
    name: 'CertificateInputError',
    message: /"10\.0\.0\.300" is not an IPv4 or IPv6 address/,
  });
  t.throws(() => generateServingCert(ca, { ...base, ipAddresses: ['fe80::1%eth0'] }), CertificateInputError);
  t.throws(() => generateServingCert(ca, { ...base, dnsNames: ['bad_name.example'] }), {
    message: /"bad_name\.example" is not a DNS name/,
  });
  t.throws(() => generateServingCert(ca, { ...base, dnsNames: [] }), {
    message: /needs at least one DNS name or IP address/,
  });
  t.throws(() => generateServingCert(ca, { ...base, validityDays: 0 }), { message: /whole number of days/ });
  t.throws(() => generateCA({ validityDays: 1.5 }), { message: /whole number of days/ });
  t.throws(() => generateCA({ commonName: '' }), { message: /common name must be 1 to 64 characters/ });
  t.throws(() => generateServingCert(serving, base), { message: /not a CA/ }, 'a leaf cannot sign');
  t.throws(() => generateServingCert({ cert: ca.cert, key: serving.key }, base), {
    message: /CA key does not belong to the CA certificate/,
  });
  t.throws(() => generateServingCert({ cert: 'garbage', key: ca.key }, base), { message: /CA certificate is not/ });
});

t.test('serviceDnsNames lists every name a Service answers to', async (t) => {
  t.same(serviceDnsNames('webhook', 'ops'), ['webhook', 'webhook.ops', 'webhook.ops.svc', 'webhook.ops.svc.cluster.local']);
  t.throws(() => serviceDnsNames('', 'ops'), { message: /service name "" is not a Kubernetes Service name/ });
  t.throws(() => serviceDnsNames('Webhook', 'ops'), CertificateInputError);
  t.throws(() => serviceDnsNames('webhook', 'ops.x'), { message: /namespace "ops\.x"/ });
});

t.test('caBundle is base64 of the PEM certificates, and only certificates', async (t) => {
  const other = generateCA({ commonName: 'next CA' });
  const decoded = Buffer.from(caBundle(ca.cert, other.cert), 'base64').toString('utf8');
  t.equal(decoded, `${ca.cert.trim()}\n${other.cert.trim()}\n`);
  t.equal(new X509Certificate(decoded).subject, caCert.subject, 'the first certificate parses from the bundle');

  const withKey = Buffer.from(caBundle(`${ca.cert}${ca.key}`), 'base64').toString('utf8');
  t.notMatch(withKey, /PRIVATE KEY/, 'a key in the same file is left out');
  t.throws(() => caBundle(ca.key), { message: /holds RSA PRIVATE KEY instead/ });
  t.throws(() => caBundle('not a pem'), { message: /no PEM block at all/ });
  t.throws(() => caBundle(), { message: /at least one CA certificate/ });
});
