import { X509Certificate } from 'node:crypto';
import t from 'tap';
import type { Test } from 'tap';
import { ANNOTATION_NEXT_SINCE, KEY } from '../../src/cluster/certs/cert-plan.js';
import type { SecretContent } from '../../src/cluster/certs/cert-plan.js';
import { CertOptionsError, DAY_MS, SelfManagedCerts } from '../../src/cluster/certs/certs.js';
import type { SecretStore, StoredSecret, WebhookStore } from '../../src/cluster/certs/certs.js';
import { CLOCK_SKEW_MS, generateCA, generateServingCert, serviceDnsNames } from '../../src/tls/generate.js';
import type { TlsMaterial } from '../../src/tls/material.js';
import { parseCertificates } from '../../src/tls/pem.js';
import { captureLogger, FakeClock, FakeResource, flush, httpError, networkError, WARN } from '../helpers/cluster.js';
import { pooledKeyPairs } from '../helpers/key-pairs.js';
import { endpointSlice, FakeProbe, FakeSlices } from '../helpers/rollout-fakes.js';

const NS = 'practice-gate';
const DNS = serviceDnsNames('practice-gate', NS);

/** The Secret on a fake API server: resourceVersions, 409 on stale writes, failures on demand. */
class SecretServer implements SecretStore {
  secret: StoredSecret | undefined;
  #rv = 1;
  creates = 0;
  updates = 0;
  conflicts = 0;
  getFailures: unknown[] = [];

  async get(): Promise<StoredSecret | undefined> {
    if (this.getFailures.length > 0) throw this.getFailures.shift();
    return this.secret && structuredClone(this.secret);
  }

  async create(content: SecretContent): Promise<StoredSecret> {
    this.creates++;
    if (this.secret) {
      this.conflicts++;
      throw httpError(409, 'AlreadyExists');
    }
    return this.#write(content);
  }

  /** Runs once, at the start of the next update: another replica writing just before this one's update lands. */
  beforeUpdate: (() => Promise<unknown>) | undefined;

  async update(resourceVersion: string, content: SecretContent): Promise<StoredSecret> {
    const race = this.beforeUpdate;
    this.beforeUpdate = undefined;
    await race?.();
    this.updates++;
    if (!this.secret) throw httpError(404);
    if (this.secret.resourceVersion !== resourceVersion) {
      this.conflicts++;
      throw httpError(409, 'Conflict');
    }
    return this.#write(content);
  }

  #write(content: SecretContent): StoredSecret {
    this.secret = { ...structuredClone(content), resourceVersion: String(++this.#rv) };
    return structuredClone(this.secret);
  }
}

class WebhookServer implements WebhookStore {
  bundles: Map<string, string> | undefined = new Map([
    ['validate.practice-gate.io', ''],
    ['validate-pdb.practice-gate.io', ''],
  ]);
  patches: string[][] = [];
  failPatches = false;

  async caBundles(): Promise<Map<string, string> | undefined> {
    return this.bundles && new Map(this.bundles);
  }

  async setCaBundle(names: readonly string[], bundle: string): Promise<void> {
    if (this.failPatches) throw httpError(403, 'forbidden');
    if (!this.bundles) throw httpError(404);
    this.patches.push([...names]);
    for (const name of names) this.bundles.set(name, bundle);
  }

  /** Fingerprints of the CAs each webhook trusts. */
  trusted(): string[][] {
    return [...(this.bundles?.values() ?? [])].map((b) =>
      b === '' ? [] : parseCertificates(Buffer.from(b, 'base64').toString('utf8')).map((c) => c.fingerprint256),
    );
  }
}

/** A fake cluster as a test starts it: the clock, the Secret store and the webhook configurations. */
function fakeCluster(): { clock: FakeClock; secrets: SecretServer; webhooks: WebhookServer } {
  return { clock: new FakeClock(Date.now()), secrets: new SecretServer(), webhooks: new WebhookServer() };
}

function manager(
  secrets: SecretStore,
  webhooks: WebhookStore,
  clock: FakeClock,
  extra: Partial<ConstructorParameters<typeof SelfManagedCerts>[0]> = {},
) {
  const { logger, lines } = captureLogger();
  const certs = new SelfManagedCerts({
    secrets,
    webhooks,
    namespace: NS,
    secretName: 'practice-gate-tls',
    webhookConfig: 'practice-gate',
    service: 'practice-gate',
    logger,
    clock,
    certValidityMs: 365 * DAY_MS,
    renewBeforeMs: 30 * DAY_MS,
    caPropagationMs: 60_000,
    caOverlapMs: 600_000,
    backoff: { initialMs: 1000, maxMs: 1000, jitter: 0 },
    keyPairs: pooledKeyPairs,
    ...extra,
  });
  const reloads: TlsMaterial[] = [];
  certs.on('reload', (m) => reloads.push(m));
  return { certs, lines, reloads };
}

const x509 = (pem: string | undefined) => new X509Certificate(pem ?? '');
const fingerprint = (pem: string | undefined) => x509(pem).fingerprint256;

/** The API server can call every replica: each served certificate chains to a CA in every webhook's caBundle. */
function assertTrusted(t: Test, webhooks: WebhookServer, servingPems: string[]): void {
  for (const [name, bundle] of webhooks.bundles ?? []) {
    const cas = bundle === '' ? [] : parseCertificates(Buffer.from(bundle, 'base64').toString('utf8'));
    for (const pem of servingPems) {
      const cert = x509(pem);
      t.ok(
        cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey)),
        `${name} trusts the CA of a served certificate`,
      );
    }
  }
}

/** A Secret as a previous run would have left it, with chosen lifetimes. */
function existingSecret(now: number, caLifeMs: number, servingLifeMs: number): SecretContent {
  const ca = generateCA({ keyPairs: pooledKeyPairs, notBefore: new Date(now - CLOCK_SKEW_MS), notAfter: new Date(now + caLifeMs) });
  const serving = generateServingCert(ca, {
    commonName: 'practice-gate.practice-gate.svc',
    keyPairs: pooledKeyPairs,
    dnsNames: DNS,
    ipAddresses: [],
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + servingLifeMs),
  });
  return { data: { [KEY.caCert]: ca.cert, [KEY.caKey]: ca.key, [KEY.cert]: serving.cert, [KEY.key]: serving.key }, annotations: {} };
}

t.test('an absent Secret is created, served, and its CA set as caBundle on every webhook', async (t) => {
  const { clock, secrets, webhooks } = fakeCluster();
  const { certs } = manager(secrets, webhooks, clock);
  const material = await certs.start();

  const data = secrets.secret?.data ?? {};
  t.same(Object.keys(data).sort(), [KEY.caCert, KEY.caKey, KEY.cert, KEY.key].sort());
  const ca = x509(data[KEY.caCert]);
  const serving = x509(data[KEY.cert]);
  t.ok(ca.ca, 'ca.crt is a CA');
  t.match(ca.subject, /CN=practice-gate CA \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/, 'dated, so old and new CA tell apart');
  t.ok(serving.checkIssued(ca) && serving.verify(ca.publicKey), 'tls.crt is signed by ca.crt');
  for (const name of DNS) t.ok(serving.checkHost(name, { wildcards: false }), `tls.crt covers ${name}`);
  t.equal(material.fingerprint, serving.fingerprint256, 'serves the certificate from the Secret');

  t.same(webhooks.patches, [['validate.practice-gate.io', 'validate-pdb.practice-gate.io']], 'both webhooks patched, once');
  for (const bundle of webhooks.bundles?.values() ?? []) {
    t.equal(Buffer.from(bundle, 'base64').toString('utf8'), data[KEY.caCert], 'caBundle is base64 of ca.crt and nothing else');
  }
  await certs.close();
});

t.test('two replicas starting at once end up with one CA', async (t) => {
  const { clock, secrets, webhooks } = fakeCluster();
  const a = manager(secrets, webhooks, clock);
  const b = manager(secrets, webhooks, clock);
  const [ma, mb] = await Promise.all([a.certs.start(), b.certs.start()]);

  t.equal(secrets.creates, 2, 'both tried to create');
  t.equal(secrets.conflicts, 1, 'one lost with 409');
  t.equal(ma.fingerprint, mb.fingerprint, 'both serve the same certificate');
  t.equal(ma.fingerprint, fingerprint(secrets.secret?.data[KEY.cert]));
  t.same(
    webhooks.trusted(),
    [[fingerprint(secrets.secret?.data[KEY.caCert])], [fingerprint(secrets.secret?.data[KEY.caCert])]],
    'caBundle holds the one CA',
  );
  await a.certs.close();
  await b.certs.close();
});

t.test('an update that loses to another replica (409) adopts what that replica wrote instead of overwriting it', async (t) => {
  const { clock, secrets, webhooks } = fakeCluster();
  await secrets.create(existingSecret(clock.now(), 4 * 365 * DAY_MS, 10 * DAY_MS)); // renewal due
  const ca = secrets.secret?.data[KEY.caCert];
  const a = manager(secrets, webhooks, clock);
  const b = manager(secrets, webhooks, clock);
  // Both read the same Secret; b's renewal lands between a's read and a's update.
  let written: string | undefined;
  secrets.beforeUpdate = async () => {
    await b.certs.reconcile();
    written = secrets.secret?.data[KEY.cert];
  };
  const material = await a.certs.start();

  t.ok(written, "the other replica's renewal was written");
  t.equal(secrets.conflicts, 1, "a's update was refused with 409");
  t.equal(secrets.updates, 2, 'and a did not write again after reading the Secret anew');
  t.equal(secrets.secret?.data[KEY.cert], written, "the other replica's certificate is kept, not overwritten");
  t.equal(secrets.secret?.data[KEY.caCert], ca, 'under the same CA');
  t.equal(material.fingerprint, fingerprint(written), 'and served');
  t.equal(b.certs.current.fingerprint, material.fingerprint, 'both replicas serve one certificate');
  t.same(webhooks.trusted(), [[fingerprint(ca)], [fingerprint(ca)]], 'caBundle unchanged: the one CA');
  t.match(
    a.lines.find((l) => l.event === 'certs-conflict'),
    { attempt: 1 },
  );
  await a.certs.close();
  await b.certs.close();
});

t.test("a replaced CA that loses the race (409) adopts the other replica's CA: one CA in the Secret and caBundle", async (t) => {
  const { clock, secrets, webhooks } = fakeCluster();
  await secrets.create({ data: { [KEY.caCert]: 'not a certificate' }, annotations: {} }); // both replace it
  const a = manager(secrets, webhooks, clock);
  const b = manager(secrets, webhooks, clock);
  secrets.beforeUpdate = () => b.certs.reconcile();
  const material = await a.certs.start();

  const ca = secrets.secret?.data[KEY.caCert];
  t.ok(x509(ca).ca, "the other replica's new CA");
  t.equal(secrets.conflicts, 1);
  t.equal(secrets.updates, 2, 'one write each; the loser wrote nothing more');
  const served = x509(secrets.secret?.data[KEY.cert]);
  t.equal(material.fingerprint, served.fingerprint256, "the loser serves the winner's certificate");
  t.ok(served.checkIssued(x509(ca)) && served.verify(x509(ca).publicKey), 'signed by the one CA');
  t.same(webhooks.trusted(), [[fingerprint(ca)], [fingerprint(ca)]], 'caBundle holds that CA only');
  await a.certs.close();
  await b.certs.close();
});

t.test("a running replica whose renewal loses the race reloads the winner's certificate", async (t) => {
  const { clock, secrets, webhooks } = fakeCluster();
  await secrets.create(existingSecret(clock.now(), 4 * 365 * DAY_MS, 40 * DAY_MS));
  const a = manager(secrets, webhooks, clock);
  const b = manager(secrets, webhooks, clock);
  const old = await a.certs.start();
  await b.certs.start();
  t.equal(secrets.updates, 0, 'nothing due yet');

  clock.jump(11 * DAY_MS); // both now see the serving certificate in its renew window
  secrets.beforeUpdate = () => b.certs.reconcile();
  await a.certs.reconcile();
  t.equal(secrets.conflicts, 1);
  t.not(secrets.secret?.data[KEY.cert], old.cert, 'renewed, once');
  t.equal(a.reloads.length, 1);
  t.equal(a.reloads[0]?.fingerprint, fingerprint(secrets.secret?.data[KEY.cert]), 'a reloads what b wrote');
  t.equal(b.reloads[0]?.fingerprint, a.reloads[0]?.fingerprint);
  await a.certs.close();
  await b.certs.close();
});

t.test('when what the other replica wrote is unusable, the loser of the race writes again', async (t) => {
  const { clock, secrets, webhooks } = fakeCluster();
  await secrets.create(existingSecret(clock.now(), 4 * 365 * DAY_MS, 10 * DAY_MS));
  const { certs } = manager(secrets, webhooks, clock);
  secrets.beforeUpdate = async () => {
    const current = secrets.secret;
    if (!current) throw new Error('no secret');
    await secrets.update(current.resourceVersion, { data: { ...current.data, [KEY.cert]: 'garbage' }, annotations: {} });
  };
  const material = await certs.start();
  t.equal(secrets.conflicts, 1);
  t.equal(material.fingerprint, fingerprint(secrets.secret?.data[KEY.cert]), 'a good certificate, written on the second try');
  await certs.close();
});

t.test('a serving certificate within the renew window is renewed under the same CA', async (t) => {
  const { clock, secrets, webhooks } = fakeCluster();
  await secrets.create(existingSecret(clock.now(), 4 * 365 * DAY_MS, 10 * DAY_MS));
  const oldCa = secrets.secret?.data[KEY.caCert];
  const oldServing = secrets.secret?.data[KEY.cert];
  const { certs } = manager(secrets, webhooks, clock);
  const material = await certs.start();

  t.equal(secrets.secret?.data[KEY.caCert], oldCa, 'CA kept');
  t.not(secrets.secret?.data[KEY.cert], oldServing, 'serving certificate replaced');
  t.equal(material.fingerprint, fingerprint(secrets.secret?.data[KEY.cert]));
  const left = x509(secrets.secret?.data[KEY.cert]).validTo;
  t.ok(new Date(left).getTime() - clock.now() > 300 * DAY_MS, 'the new one runs for the configured validity');
  await certs.close();
});

t.test('a valid Secret is used as it is, without a write', async (t) => {
  const { clock, secrets, webhooks } = fakeCluster();
  await secrets.create(existingSecret(clock.now(), 4 * 365 * DAY_MS, 300 * DAY_MS));
  const { certs } = manager(secrets, webhooks, clock);
  await certs.start();
  t.equal(secrets.updates, 0);
  t.equal(secrets.creates, 1, 'only the test created it');
  await certs.close();
});

t.test('an unusable Secret (garbage, or made by hand) is replaced with an update carrying its resourceVersion', async (t) => {
  const { clock, secrets, webhooks } = fakeCluster();
  await secrets.create({ data: { [KEY.caCert]: 'not a certificate', 'other-key': 'kept' }, annotations: { note: 'kept' } });
  const { certs } = manager(secrets, webhooks, clock);
  const material = await certs.start();
  t.equal(secrets.updates, 1);
  t.ok(x509(secrets.secret?.data[KEY.caCert]).ca);
  t.equal(material.fingerprint, fingerprint(secrets.secret?.data[KEY.cert]));
  t.equal(secrets.secret?.annotations.note, 'kept', 'annotations of others survive');
  await certs.close();
});

t.test('an expiring CA rotates in three steps and the API server trusts every served certificate throughout', async (t) => {
  const { clock, secrets, webhooks } = fakeCluster();
  await secrets.create(existingSecret(clock.now(), 20 * DAY_MS, 20 * DAY_MS));
  const oldCa = secrets.secret?.data[KEY.caCert];
  const oldServing = secrets.secret?.data[KEY.cert] ?? '';
  const a = manager(secrets, webhooks, clock);
  const b = manager(secrets, webhooks, clock); // a second replica, told only through its own checks
  await a.certs.start();
  await b.certs.start();

  // Step 1: a new CA is published next to the old one; nobody serves from it yet.
  const staged = secrets.secret?.data[KEY.nextCaCert];
  t.ok(staged, 'new CA staged');
  t.equal(secrets.secret?.data[KEY.caCert], oldCa, 'the old CA still signs');
  t.equal(secrets.secret?.data[KEY.cert], oldServing, 'the serving certificate is not switched yet');
  t.same(webhooks.trusted()[0]?.sort(), [fingerprint(oldCa), fingerprint(staged)].sort(), 'caBundle holds old and new CA');
  t.same(a.reloads, []);

  await a.certs.reconcile();
  t.ok(secrets.secret?.data[KEY.nextCaCert], 'no switch before the propagation delay');

  // Step 2: after the propagation delay the new CA signs a new serving certificate.
  clock.jump(61_000);
  await a.certs.reconcile();
  const newServing = secrets.secret?.data[KEY.cert] ?? '';
  t.equal(secrets.secret?.data[KEY.caCert], staged, 'the staged CA now signs');
  t.equal(secrets.secret?.data[KEY.prevCaCert], oldCa, 'the old CA is kept as ca-prev');
  t.equal(a.reloads.length, 1, 'the writer reloads');
  t.equal(a.reloads[0]?.fingerprint, fingerprint(newServing));
  // Replica b has not reloaded yet and serves the old certificate: both must be trusted.
  assertTrusted(t, webhooks, [oldServing, newServing]);

  await b.certs.reconcile();
  t.equal(b.reloads.length, 1, 'the other replica reloads on its next check');

  // Step 3: after the overlap the old CA leaves caBundle.
  clock.jump(600_000);
  await b.certs.reconcile();
  t.equal(secrets.secret?.data[KEY.prevCaCert], undefined, 'ca-prev dropped');
  t.same(webhooks.trusted(), [[fingerprint(staged)], [fingerprint(staged)]], 'caBundle holds the new CA only');
  assertTrusted(t, webhooks, [newServing]);
  await a.certs.close();
  await b.certs.close();
});

t.test('the switch to a new CA waits until the webhook configuration trusts it', async (t) => {
  const { clock, secrets, webhooks } = fakeCluster();
  await secrets.create(existingSecret(clock.now(), 20 * DAY_MS, 20 * DAY_MS));
  webhooks.failPatches = true;
  const { certs } = manager(secrets, webhooks, clock);
  await certs.start().catch(() => undefined);
  await flush();
  t.ok(secrets.secret?.data[KEY.nextCaCert], 'staged');

  clock.jump(3_600_000);
  await certs.reconcile().catch(() => undefined);
  t.ok(secrets.secret?.data[KEY.nextCaCert], 'still only staged: caBundle could not be set');
  t.equal(secrets.secret?.data[KEY.prevCaCert], undefined);

  webhooks.failPatches = false;
  await certs.reconcile(); // publishes the bundle
  await certs.reconcile(); // now trusted and past the delay: switches
  t.equal(secrets.secret?.data[KEY.nextCaCert], undefined, 'switched once trusted');
  t.ok(secrets.secret?.data[KEY.prevCaCert]);
  await certs.close();
});

t.test('every replica reloads what another replica wrote, through the watch', async (t) => {
  const { clock, secrets, webhooks } = fakeCluster();
  const watch = new FakeResource();
  const { certs, reloads } = manager(secrets, webhooks, clock, { secretWatch: watch });
  await certs.start();
  await flush();
  t.ok(watch.openWatch, 'watching the Secret');

  // Another replica renews the serving certificate.
  const current = secrets.secret;
  if (!current) throw new Error('no secret');
  const ca = { cert: current.data[KEY.caCert] ?? '', key: current.data[KEY.caKey] ?? '' };
  const serving = generateServingCert(ca, { commonName: 'x', dnsNames: DNS, ipAddresses: [], keyPairs: pooledKeyPairs });
  await secrets.update(current.resourceVersion, {
    ...current,
    data: { ...current.data, [KEY.cert]: serving.cert, [KEY.key]: serving.key },
  });
  watch.emit('MODIFIED', { metadata: { namespace: NS, name: 'practice-gate-tls' } });
  await flush();

  t.equal(reloads.length, 1);
  t.equal(reloads[0]?.fingerprint, fingerprint(serving.cert), "serves the other replica's certificate");
  t.equal(certs.current.fingerprint, fingerprint(serving.cert));
  await certs.close();
});

t.test('a caBundle reset by a redeploy of the webhook configuration is set again at the next check', async (t) => {
  const { clock, secrets, webhooks } = fakeCluster();
  const { certs } = manager(secrets, webhooks, clock, { recheckMs: 60_000 });
  await certs.start();
  webhooks.bundles?.set('validate.practice-gate.io', '');
  await clock.advance(60_000);
  t.equal(webhooks.patches.length, 2);
  t.same(webhooks.trusted()[0], [fingerprint(secrets.secret?.data[KEY.caCert])]);
  await certs.close();
});

t.test('a serving certificate is renewed when its renewal is due, not at the next regular check', async (t) => {
  // Found by test/e2e/cluster.test.ts: with --cert-validity 40s --cert-renew-before 30s, a 60 s
  // check renewed 20 s after expiry, and new connections got the expired certificate meanwhile.
  const { clock, secrets, webhooks } = fakeCluster();
  const { certs, reloads } = manager(secrets, webhooks, clock, {
    certValidityMs: 40_000,
    renewBeforeMs: 30_000,
    caValidityMs: 3_600_000,
    recheckMs: 60_000,
  });
  const first = await certs.start();
  await clock.advance(11_000);
  t.equal(reloads.length, 1, 'renewed 10 s after issue, when 30 s are left');
  t.not(reloads[0]?.fingerprint, first.fingerprint);
  t.equal(fingerprint(secrets.secret?.data[KEY.cert]), reloads[0]?.fingerprint, 'and written to the Secret');
  // Second by second over two regular check periods: the served certificate never gets more
  // than the slack of the wake-up (1 s) and notAfter's whole seconds into its renewal window.
  let least = Infinity;
  for (let second = 0; second < 120; second++) {
    await clock.advance(1_000);
    least = Math.min(least, certs.current.notAfter.getTime() - clock.now());
  }
  t.ok(least >= 28_000, `at least 28 s left at every moment (least: ${least} ms)`);
  t.ok(reloads.length >= 10, `renewed again each time it was due (${reloads.length} renewals)`);
  await certs.close();
});

t.test('an API server that cannot be reached at start is retried until it answers', async (t) => {
  const { clock, secrets, webhooks } = fakeCluster();
  secrets.getFailures = [networkError(), networkError()];
  const { certs, lines } = manager(secrets, webhooks, clock);
  let done = false;
  const started = certs.start().then((m) => {
    done = true;
    return m;
  });
  await flush();
  t.equal(done, false);
  t.match(
    lines.find((l) => l.event === 'certs-failed'),
    { msg: /cannot get serving certificates/ },
  );
  await clock.advance(1000);
  await clock.advance(1000);
  const material = await started;
  t.equal(material.fingerprint, fingerprint(secrets.secret?.data[KEY.cert]));
  await certs.close();
});

t.test('a missing webhook configuration is logged once and does not stop serving', async (t) => {
  const { clock, secrets, webhooks } = fakeCluster();
  webhooks.bundles = undefined;
  const { certs, lines } = manager(secrets, webhooks, clock);
  await certs.start();
  await certs.reconcile();
  t.equal(lines.filter((l) => l.event === 'webhook-config-missing').length, 1);
  t.ok(certs.current.fingerprint);
  await certs.close();
});

t.test('staging remembers when it started, so that the delay survives restarts', async (t) => {
  const { clock, secrets, webhooks } = fakeCluster();
  await secrets.create(existingSecret(clock.now(), 20 * DAY_MS, 20 * DAY_MS));
  const { certs } = manager(secrets, webhooks, clock);
  await certs.start();
  t.equal(secrets.secret?.annotations[ANNOTATION_NEXT_SINCE], new Date(clock.now()).toISOString());
  await certs.close();
});

t.test('timing options that would renew forever are refused', async (t) => {
  t.throws(
    () => manager(new SecretServer(), new WebhookServer(), new FakeClock(), { certValidityMs: DAY_MS, renewBeforeMs: 2 * DAY_MS }),
    CertOptionsError,
  );
});

/**
 * A CA rotation up to the switch, with the previous CA now in ca-prev, on a manager that sees
 * the replicas through `slices` and `probe`: replica gate-a (this manager) and gate-b, whose
 * served certificate the test chooses.
 */
async function switched(
  t: Test,
  slices: FakeSlices | undefined,
  probe: FakeProbe,
  extra: Partial<ConstructorParameters<typeof SelfManagedCerts>[0]> = {},
) {
  const { clock, secrets, webhooks } = fakeCluster();
  await secrets.create(existingSecret(clock.now(), 20 * DAY_MS, 20 * DAY_MS));
  const oldCa = secrets.secret?.data[KEY.caCert] ?? '';
  const oldServing = secrets.secret?.data[KEY.cert] ?? '';
  const m = manager(secrets, webhooks, clock, { ...(slices ? { replicas: { slices, probe } } : {}), ...extra });
  t.teardown(() => m.certs.close());
  await m.certs.start(); // stages the new CA
  await clock.advance(61_000); // the periodic check switches to it
  const newCa = secrets.secret?.data[KEY.caCert] ?? '';
  t.equal(secrets.secret?.data[KEY.prevCaCert], oldCa, 'switched: the old CA is ca-prev');
  probe.serve('10.0.0.1', () => m.certs.current.cert);
  return { clock, secrets, webhooks, ...m, oldCa, newCa, oldServing };
}

const twoReplicas = () =>
  new FakeSlices([
    endpointSlice([
      { pod: 'gate-a', address: '10.0.0.1' },
      { pod: 'gate-b', address: '10.0.0.2' },
    ]),
  ]);
const OVERLAP_PLUS_CHECK = 600_000 + 2_000;

t.test('ca-prev retires once the overlap is over and every endpoint serves the new CA', async (t) => {
  const slices = twoReplicas();
  const probe = new FakeProbe();
  const r = await switched(t, slices, probe);
  probe.serve('10.0.0.2', () => r.certs.current.cert); // gate-b reloaded too
  await r.clock.advance(300_000);
  t.equal(slices.lists, 0, 'nothing observed before the overlap is over');
  t.ok(r.secrets.secret?.data[KEY.prevCaCert], 'kept during the overlap');

  await r.clock.advance(OVERLAP_PLUS_CHECK - 300_000);
  t.equal(slices.lists, 1, 'the periodic check listed the EndpointSlices');
  t.same(probe.probed.sort(), ['10.0.0.1:8443', '10.0.0.2:8443']);
  t.equal(r.secrets.secret?.data[KEY.prevCaCert], undefined, 'ca-prev retired');
  t.same(r.webhooks.trusted(), [[fingerprint(r.newCa)], [fingerprint(r.newCa)]], 'caBundle holds the new CA only');
  t.match(
    r.lines.filter((l) => l.event === 'replicas-check-mode'),
    [{ mode: 'endpoints' }],
  );
  t.match(
    r.lines.find((l) => l.event === 'replicas-caught-up'),
    { endpoints: 2 },
  );
});

t.test('an endpoint still serving the old CA keeps ca-prev, named in the log, until it reloads', async (t) => {
  const slices = twoReplicas();
  const probe = new FakeProbe();
  const r = await switched(t, slices, probe);
  let bServes = r.oldServing; // gate-b missed the reload
  probe.serve('10.0.0.2', () => bServes);
  await r.clock.advance(OVERLAP_PLUS_CHECK);
  t.equal(r.secrets.secret?.data[KEY.prevCaCert], r.oldCa, 'ca-prev kept');
  t.same(r.webhooks.trusted()[0]?.sort(), [fingerprint(r.oldCa), fingerprint(r.newCa)].sort(), 'caBundle still trusts gate-b');
  assertTrusted(t, r.webhooks, [r.oldServing, r.certs.current.cert]);
  t.match(
    r.lines.find((l) => l.event === 'replicas-lagging'),
    {
      level: WARN,
      lagging: [{ pod: 'gate-b', address: '10.0.0.2', port: 8443, why: /not by the current CA/ }],
      endpoints: 2,
    },
  );

  await r.clock.advance(60_000);
  t.equal(slices.lists, 2, 'looked again at the next periodic check');
  t.ok(r.secrets.secret?.data[KEY.prevCaCert], 'still kept');

  bServes = r.certs.current.cert;
  await r.clock.advance(60_000);
  t.equal(r.secrets.secret?.data[KEY.prevCaCert], undefined, 'retired once gate-b serves the new certificate');
  t.equal(r.lines.filter((l) => l.event === 'replicas-check-mode').length, 1, 'the way of deciding logged once');
});

t.test('an endpoint that cannot be reached keeps ca-prev', async (t) => {
  const slices = twoReplicas();
  const probe = new FakeProbe();
  const r = await switched(t, slices, probe);
  probe.fail('10.0.0.2', networkError('ETIMEDOUT'));
  await r.clock.advance(OVERLAP_PLUS_CHECK);
  t.equal(r.secrets.secret?.data[KEY.prevCaCert], r.oldCa, 'ca-prev kept');
  t.match(
    r.lines.find((l) => l.event === 'replicas-lagging'),
    { lagging: [{ pod: 'gate-b', address: '10.0.0.2', why: /unreachable: .*ETIMEDOUT/ }] },
  );
});

t.test('a watch-triggered reconcile does not probe, and does not retire without a verdict', async (t) => {
  const slices = twoReplicas();
  const probe = new FakeProbe();
  const r = await switched(t, slices, probe);
  probe.serve('10.0.0.2', () => r.certs.current.cert);
  r.clock.jump(OVERLAP_PLUS_CHECK); // past the overlap, but no periodic check ran
  await r.certs.reconcile();
  t.equal(slices.lists, 0, 'no EndpointSlice list outside the periodic check');
  t.ok(r.secrets.secret?.data[KEY.prevCaCert], 'kept: nobody has looked at the replicas');
});

t.test('no EndpointSlices for the Service (called by URL): ca-prev retires after the overlap, as before', async (t) => {
  const slices = new FakeSlices([]);
  const probe = new FakeProbe();
  const r = await switched(t, slices, probe);
  await r.clock.advance(OVERLAP_PLUS_CHECK);
  t.equal(r.secrets.secret?.data[KEY.prevCaCert], undefined, 'retired by time');
  t.match(
    r.lines.filter((l) => l.event === 'replicas-check-mode'),
    [{ mode: 'time', why: 'no EndpointSlices for the Service' }],
    'said once which way it decided',
  );
  t.same(probe.probed, []);
});

t.test('not allowed to list EndpointSlices: ca-prev retires after the overlap, as before', async (t) => {
  const slices = twoReplicas();
  slices.failure = httpError(403, 'forbidden');
  const probe = new FakeProbe();
  const r = await switched(t, slices, probe);
  await r.clock.advance(OVERLAP_PLUS_CHECK);
  t.equal(r.secrets.secret?.data[KEY.prevCaCert], undefined, 'retired by time');
  t.match(
    r.lines.filter((l) => l.event === 'replicas-check-mode'),
    [{ mode: 'time', why: 'not allowed to list EndpointSlices' }],
  );
});

t.test('an API server that does not answer the list keeps ca-prev until it does', async (t) => {
  const slices = twoReplicas();
  slices.failure = networkError();
  const probe = new FakeProbe();
  const r = await switched(t, slices, probe);
  probe.serve('10.0.0.2', () => r.certs.current.cert);
  await r.clock.advance(OVERLAP_PLUS_CHECK);
  t.ok(r.secrets.secret?.data[KEY.prevCaCert], 'kept: cannot tell');
  t.match(
    r.lines.find((l) => l.event === 'replicas-unknown'),
    { why: /ECONNREFUSED/ },
  );
  slices.failure = undefined;
  await r.clock.advance(60_000);
  t.equal(r.secrets.secret?.data[KEY.prevCaCert], undefined, 'retired at the next check');
});

t.test('a replica that never catches up keeps ca-prev only until the old CA expires, then an error names it', async (t) => {
  const slices = twoReplicas();
  const probe = new FakeProbe();
  // A long regular period: the check still wakes at the old CA's expiry.
  const r = await switched(t, slices, probe, { recheckMs: 40 * DAY_MS });
  probe.serve('10.0.0.2', r.oldServing);
  await r.clock.advance(OVERLAP_PLUS_CHECK);
  t.ok(r.secrets.secret?.data[KEY.prevCaCert], 'kept while it still validates gate-b');
  const oldExpiry = Date.parse(x509(r.oldCa).validTo);
  await r.clock.advance(oldExpiry - r.clock.now() - 10_000);
  t.ok(r.secrets.secret?.data[KEY.prevCaCert], 'kept up to its expiry');
  await r.clock.advance(12_000);
  t.equal(r.secrets.secret?.data[KEY.prevCaCert], undefined, 'retired once expired: it helps nobody any more');
  t.same(r.webhooks.trusted(), [[fingerprint(r.newCa)], [fingerprint(r.newCa)]]);
  t.match(
    r.lines.find((l) => l.event === 'ca-prev-expired'),
    { level: 50, lagging: ['gate-b 10.0.0.2'], msg: /gate-b 10\.0\.0\.2/ },
  );
});

/**
 * A manager with a fresh Secret, replicas gate-a and gate-b seen through EndpointSlices and TLS
 * probes, and CA timings short enough that a test runs whole rotations.
 */
function shortLivedCas(t: Test, timings: Partial<ConstructorParameters<typeof SelfManagedCerts>[0]>) {
  const { clock, secrets, webhooks } = fakeCluster();
  const slices = twoReplicas();
  const probe = new FakeProbe();
  const m = manager(secrets, webhooks, clock, { replicas: { slices, probe }, caPropagationMs: 5_000, ...timings });
  t.teardown(() => m.certs.close());
  return { clock, secrets, webhooks, slices, probe, ...m };
}

t.test('an old CA that expires within the overlap leaves at its expiry, without an error: nobody was waited for', async (t) => {
  // --ca-validity 90s --cert-validity 60s --cert-renew-before 50s: staged at 40 s, switched some
  // 5 s later, when the old CA has about 45 s left.
  const { clock, secrets, slices, certs, lines } = shortLivedCas(t, {
    caValidityMs: 90_000,
    certValidityMs: 60_000,
    renewBeforeMs: 50_000,
    caOverlapMs: 600_000,
  });
  await certs.start();
  const oldCa = secrets.secret?.data[KEY.caCert];
  await clock.advance(50_000);
  t.equal(secrets.secret?.data[KEY.prevCaCert], oldCa, 'switched');
  await clock.advance(42_000);
  t.not(secrets.secret?.data[KEY.prevCaCert], oldCa, 'the old CA left at its expiry, before the overlap was over');
  t.equal(slices.lists, 0, 'nobody was looked at');
  t.equal(lines.filter((l) => l.event === 'ca-prev-expired').length, 0, 'so no error');
});

t.test('a CA due to switch again while ca-prev waits for a lagging replica waits too, and keeps serving', async (t) => {
  // --ca-validity 100s --cert-renew-before 80s: the new CA is expiring 20 s after it is made,
  // long before the old one has expired. A second switch would overwrite ca-prev.
  const { clock, secrets, webhooks, probe, certs, lines } = shortLivedCas(t, {
    caValidityMs: 100_000,
    certValidityMs: 90_000,
    renewBeforeMs: 80_000,
    caOverlapMs: 10_000,
  });
  const first = await certs.start();
  const ca1 = secrets.secret?.data[KEY.caCert] ?? '';
  probe.serve('10.0.0.1', () => certs.current.cert);
  probe.serve('10.0.0.2', first.cert); // gate-b never reloads
  await clock.advance(30_000);
  const ca2 = secrets.secret?.data[KEY.caCert];
  t.equal(secrets.secret?.data[KEY.prevCaCert], ca1, 'first switch: CA 1 is ca-prev');

  const writesBefore = secrets.updates;
  for (let s = 0; s < 60; s++) {
    await clock.advance(1_000);
    t.equal(secrets.secret?.data[KEY.prevCaCert], ca1, 'CA 1 stays while gate-b serves under it');
    t.ok(certs.current.notAfter.getTime() > clock.now(), 'the served certificate never expires');
  }
  t.ok(secrets.secret?.data[KEY.nextCaCert], 'CA 3 staged meanwhile');
  t.equal(secrets.secret?.data[KEY.caCert], ca2, 'but CA 2 still signs');
  t.ok(secrets.updates - writesBefore <= 4, `a bounded number of writes while waiting (${secrets.updates - writesBefore})`);
  // What each write's watch event triggers on every replica: a reconcile must find nothing to do.
  const settled = secrets.updates;
  for (let i = 0; i < 5; i++) await certs.reconcile();
  t.equal(secrets.updates, settled, 'no write storm: an expiring certificate already clamped to the CA is left alone');

  await clock.advance(12_000); // CA 1 expires at 100 s
  t.equal(secrets.secret?.data[KEY.prevCaCert], ca2, 'CA 1 retired at its expiry, and the second switch went ahead');
  t.match(
    lines.find((l) => l.event === 'ca-prev-expired'),
    { lagging: ['gate-b 10.0.0.2'] },
  );
  assertTrusted(t, webhooks, [certs.current.cert]);
});
