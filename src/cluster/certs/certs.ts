import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { isRecord } from '../../engine/k8s.js';
import type { KubeObject } from '../../engine/k8s.js';
import { caBundle, serviceDnsNames } from '../../tls/generate.js';
import type { KeyPairSource } from '../../tls/generate.js';
import { TlsError, validateTlsMaterial } from '../../tls/material.js';
import type { TlsMaterial } from '../../tls/material.js';
import { parseCertificates } from '../../tls/pem.js';
import { KEY, nextChangeAt, planSecret, prevRetireAt, stagedCaPem, trustedCaPems } from './cert-plan.js';
import type { CertPolicy, SecretContent } from './cert-plan.js';
import {
  DAY_MS,
  DEFAULT_CA_OVERLAP_MS,
  DEFAULT_CA_PROPAGATION_MS,
  DEFAULT_CERT_VALIDITY_MS,
  DEFAULT_RENEW_BEFORE_MS,
} from './cert-defaults.js';
import { backoffDelay, DEFAULT_BACKOFF, systemClock } from '../clock.js';
import type { BackoffPolicy, Clock } from '../clock.js';
import { describeError, isConflict } from '../api/errors.js';
import { Reflector } from '../api/reflector.js';
import type { ListerWatcher } from '../api/reflector.js';
import { checkRollout } from './rollout.js';
import type { CertificateProbe, EndpointSliceSource, RolloutVerdict } from './rollout.js';

export interface StoredSecret extends SecretContent {
  resourceVersion: string;
}

/** The certificate Secret; data values are decoded text. Writes fail with 409 when someone else wrote first. */
export interface SecretStore {
  get(): Promise<StoredSecret | undefined>;
  create(content: SecretContent): Promise<StoredSecret>;
  update(resourceVersion: string, content: SecretContent): Promise<StoredSecret>;
}

/** The ValidatingWebhookConfiguration whose webhooks must trust the CA. */
export interface WebhookStore {
  /** caBundle (base64) per webhook name; undefined when the configuration does not exist. */
  caBundles(): Promise<Map<string, string> | undefined>;
  setCaBundle(webhookNames: readonly string[], caBundle: string): Promise<void>;
}

export { DAY_MS, DEFAULT_CA_OVERLAP_MS, DEFAULT_CA_PROPAGATION_MS, DEFAULT_CERT_VALIDITY_MS, DEFAULT_RENEW_BEFORE_MS };
/** The TLS layer's ratio: a CA outlives five serving certificates. */
export const CA_VALIDITY_FACTOR = 5;
export const DEFAULT_RECHECK_MS = 60_000;
/** A check due at a certificate's renewal time runs this much after it, so that the renewal is surely due. */
const DUE_SLACK_MS = 1_000;

export interface SelfManagedCertsOptions {
  secrets: SecretStore;
  webhooks: WebhookStore;
  /** Watches the Secret so that every replica reloads what any replica wrote. */
  secretWatch?: ListerWatcher;
  /**
   * How the replicas are seen: the webhook Service's EndpointSlices and a TLS probe of each. The
   * previous CA stays in caBundle until every endpoint serves under the new one. Without it, the
   * previous CA leaves when the overlap is over.
   */
  replicas?: ReplicaObserver;
  namespace: string;
  secretName: string;
  webhookConfig: string;
  service: string;
  logger: Logger;
  certValidityMs?: number;
  caValidityMs?: number;
  renewBeforeMs?: number;
  caPropagationMs?: number;
  caOverlapMs?: number;
  /** Re-read the Secret and the webhook configuration this often (a `helm upgrade` may reset caBundle). */
  recheckMs?: number;
  clock?: Clock;
  backoff?: BackoffPolicy;
  /** Where new key pairs come from; default: a fresh 2048-bit RSA pair for every certificate. */
  keyPairs?: KeyPairSource;
}

export interface ReplicaObserver {
  slices: EndpointSliceSource;
  probe: CertificateProbe;
  /** The EndpointSlice port of the webhook (the Service port's name); default https-webhook. */
  portName?: string;
}

export interface SelfManagedCertsEvents {
  reload: [material: TlsMaterial];
  error: [err: Error];
}

/** Bad timing options; the message says which and why. */
export class CertOptionsError extends Error {
  override name = 'CertOptionsError';
}

const MAX_WRITE_ATTEMPTS = 5;

/**
 * The webhook's own certificates, kept in a Secret in its namespace, as the cert-controllers of
 * Kyverno and Gatekeeper do: created when absent, renewed before expiry, written with optimistic
 * concurrency (on 409 the Secret is read again and whatever another replica wrote is used, so
 * replicas starting together end up with one CA), and the CA published as caBundle on every
 * webhook of the configuration. Emits `reload` with new serving material when the Secret changes.
 */
export class SelfManagedCerts extends EventEmitter<SelfManagedCertsEvents> {
  readonly #o: SelfManagedCertsOptions;
  readonly #policy: CertPolicy;
  readonly #clock: Clock;
  readonly #backoff: BackoffPolicy;
  readonly #log: Logger;
  readonly #source: string;
  #current: TlsMaterial | undefined;
  #watch: Reflector | undefined;
  #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #webhookMissingLogged = false;
  /** When the Secret last read will need a write (a renewal, a rotation step); undefined when nothing is due. */
  #dueAt: number | undefined;
  /** The Secret as last served: what the periodic check observes the replicas against. */
  #content: SecretContent | undefined;
  /** The last look at the replicas, for the CA pair it was taken under. */
  #observed: { ca: string; prev: string; verdict: RolloutVerdict } | undefined;
  /** The way of deciding logged for this rotation (endpoints or time, and why), so that it is logged once. */
  #modeLogged: string | undefined;

  constructor(options: SelfManagedCertsOptions) {
    super();
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#log = options.logger.child({ component: 'certs', secret: `${options.namespace}/${options.secretName}` });
    this.#source = `Secret ${options.namespace}/${options.secretName}`;
    const certValidityMs = options.certValidityMs ?? DEFAULT_CERT_VALIDITY_MS;
    const renewBeforeMs = options.renewBeforeMs ?? DEFAULT_RENEW_BEFORE_MS;
    if (!(renewBeforeMs > 0 && renewBeforeMs < certValidityMs)) {
      throw new CertOptionsError(
        `--cert-renew-before must be above 0 and below --cert-validity (got ${renewBeforeMs}ms of ${certValidityMs}ms): otherwise every check would renew`,
      );
    }
    const caValidityMs = options.caValidityMs ?? certValidityMs * CA_VALIDITY_FACTOR;
    if (!(caValidityMs > renewBeforeMs)) {
      throw new CertOptionsError('the CA validity must exceed --cert-renew-before, or the CA would always be rotating');
    }
    this.#policy = {
      dnsNames: serviceDnsNames(options.service, options.namespace),
      commonName: `${options.service}.${options.namespace}.svc`,
      certValidityMs,
      caValidityMs,
      renewBeforeMs,
      caPropagationMs: options.caPropagationMs ?? DEFAULT_CA_PROPAGATION_MS,
      caOverlapMs: options.caOverlapMs ?? DEFAULT_CA_OVERLAP_MS,
      keyPairs: options.keyPairs,
    };
  }

  /** The serving material in use; throws before start() has succeeded. */
  get current(): TlsMaterial {
    if (!this.#current) throw new Error('self-managed certificates not loaded yet: await start()');
    return this.#current;
  }

  /**
   * Gets serving material, retrying with backoff until the API server answers (the webhook cannot
   * serve without it), then keeps it fresh: watch plus a periodic check.
   */
  async start(): Promise<TlsMaterial> {
    const stop = this.#stop.signal;
    for (let attempt = 0; !this.#current; attempt++) {
      if (stop.aborted) throw new Error('self-managed certificates closed before they were loaded');
      try {
        await this.reconcile();
      } catch (err) {
        const delay = backoffDelay(this.#backoff, attempt);
        this.#log.warn(
          { event: 'certs-failed', err: describeError(err), retryInMs: delay },
          'cannot get serving certificates from the Secret yet',
        );
        await this.#clock.sleep(delay, stop);
      }
    }
    if (this.#o.secretWatch && !this.#watch) {
      this.#watch = new Reflector({
        resource: 'secrets',
        kind: 'Secret',
        apiVersion: 'v1',
        source: this.#o.secretWatch,
        sink: { upsert: (object) => this.#onSecretEvent(object), remove: (object) => this.#onSecretEvent(object) },
        logger: this.#log,
        clock: this.#clock,
        backoff: this.#backoff,
      });
      this.#watch.start();
    }
    this.#loop ??= this.#recheckLoop(stop);
    return this.#current;
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#watch?.stop();
    await this.#loop;
    await this.#running?.catch(() => undefined);
  }

  /** Reads the Secret, writes it when it needs to change, serves it, and publishes its CAs. Runs one at a time. */
  reconcile(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    const run = async (): Promise<void> => {
      try {
        do {
          this.#again = false;
          await this.#reconcileOnce();
        } while (this.#again && !this.#stop.signal.aborted);
      } finally {
        this.#running = undefined;
      }
    };
    this.#running = run();
    return this.#running;
  }

  async #reconcileOnce(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const stored = await this.#o.secrets.get();
      const staged = stored && stagedCaPem(stored);
      const nextTrusted = staged ? await this.#trusts(staged) : false;
      const plan = planSecret(stored, this.#policy, this.#clock.now(), { nextTrusted, prevUnused: this.#prevUnused(stored) });
      let content: StoredSecret | undefined = stored;
      if (plan.write) {
        try {
          content = stored
            ? await this.#o.secrets.update(stored.resourceVersion, plan.content)
            : await this.#o.secrets.create(plan.content);
          this.#log.info({ event: 'certs-written', reasons: plan.reasons }, 'certificate Secret written');
          if (plan.retiredUnconfirmed && stored) this.#logForcedRetirement(stored);
        } catch (err) {
          if (!isConflict(err) || attempt >= MAX_WRITE_ATTEMPTS) throw err;
          // Another replica wrote first: read what it wrote and judge that instead of ours.
          this.#log.info({ event: 'certs-conflict', attempt }, 'certificate Secret changed under us: reading it again');
          continue;
        }
      }
      if (!content) throw new Error('certificate Secret absent after reconcile');
      this.#dueAt = nextChangeAt(content, this.#policy, this.#clock.now());
      this.#content = content;
      this.#serve(content);
      await this.#publish(content);
      return;
    }
  }

  #serve(content: SecretContent): void {
    const cert = content.data[KEY.cert] ?? '';
    const key = content.data[KEY.key] ?? '';
    let material: TlsMaterial;
    try {
      material = validateTlsMaterial({ cert, key }, this.#source);
    } catch (err) {
      // Keep serving what we have; the next check rewrites a bad Secret.
      const error = err instanceof TlsError ? err : new TlsError(String(err));
      this.#log.error({ event: 'certs-invalid', err: error.message }, 'certificate Secret holds an unusable serving pair');
      if (this.listenerCount('error') > 0) this.emit('error', error);
      if (!this.#current) throw error;
      return;
    }
    if (this.#current?.fingerprint === material.fingerprint) return;
    const first = this.#current === undefined;
    this.#current = material;
    this.#log.info(
      { event: 'certs-loaded', fingerprint: material.fingerprint, notAfter: material.notAfter.toISOString() },
      first ? 'serving certificate loaded' : 'serving certificate reloaded',
    );
    if (!first) this.emit('reload', material);
  }

  /** Sets caBundle on every webhook of the configuration to the Secret's CAs, when it differs. */
  async #publish(content: SecretContent): Promise<void> {
    const want = caBundle(...trustedCaPems(content));
    let bundles: Map<string, string> | undefined;
    try {
      bundles = await this.#o.webhooks.caBundles();
    } catch (err) {
      this.#log.warn(
        { event: 'cabundle-read-failed', err: describeError(err) },
        'cannot read the webhook configuration: caBundle not checked',
      );
      return;
    }
    if (!bundles || bundles.size === 0) {
      if (!this.#webhookMissingLogged) {
        this.#webhookMissingLogged = true;
        this.#log.warn(
          { event: 'webhook-config-missing', webhookConfig: this.#o.webhookConfig },
          bundles
            ? 'the webhook configuration has no webhooks: nothing to set caBundle on'
            : 'the webhook configuration does not exist yet: caBundle is set once it does',
        );
      }
      return;
    }
    this.#webhookMissingLogged = false;
    const stale = [...bundles].filter(([, bundle]) => bundle !== want).map(([name]) => name);
    if (stale.length === 0) return;
    try {
      await this.#o.webhooks.setCaBundle([...bundles.keys()], want);
    } catch (err) {
      // Serving goes on; a CA switch waits until the configuration is seen to trust the new CA.
      this.#log.error(
        { event: 'cabundle-patch-failed', webhookConfig: this.#o.webhookConfig, err: describeError(err) },
        'cannot set caBundle on the webhook configuration: the API server may not trust this webhook; retrying at the next check',
      );
      return;
    }
    this.#log.info(
      { event: 'cabundle-patched', webhookConfig: this.#o.webhookConfig, webhooks: stale, cas: trustedCaPems(content).length },
      'caBundle set',
    );
  }

  /** True when every webhook already trusts `caPem` (or there is no configuration to break). */
  async #trusts(caPem: string): Promise<boolean> {
    let bundles: Map<string, string> | undefined;
    try {
      bundles = await this.#o.webhooks.caBundles();
    } catch {
      return false;
    }
    if (!bundles || bundles.size === 0) return true;
    let wanted: string;
    try {
      wanted = parseCertificates(caPem)[0]?.fingerprint256 ?? '';
    } catch {
      return false;
    }
    return [...bundles.values()].every((bundle) => {
      try {
        const pems = Buffer.from(bundle, 'base64').toString('utf8');
        return parseCertificates(pems).some((cert) => cert.fingerprint256 === wanted);
      } catch {
        return false;
      }
    });
  }

  /**
   * Whether the previous CA of `stored` may go, as last observed. Only the periodic check
   * observes (#observeReplicas); a reconcile triggered by the watch reuses its verdict, for the
   * same CA pair only: a verdict about another rotation says nothing about this one.
   */
  #prevUnused(stored: SecretContent | undefined): boolean {
    if (!this.#o.replicas) return true;
    const prev = stored?.data[KEY.prevCaCert];
    const seen = this.#observed;
    if (!prev || !seen || seen.prev !== prev || seen.ca !== stored.data[KEY.caCert]) return false;
    return seen.verdict.mode === 'time' || (seen.verdict.mode === 'endpoints' && seen.verdict.caughtUp);
  }

  /**
   * Once the overlap is over and the previous CA is still published, asks every endpoint of the
   * Service which certificate it serves. Run by the periodic check only, never in a request.
   */
  async #observeReplicas(): Promise<void> {
    const replicas = this.#o.replicas;
    const content = this.#content;
    const retireAt = content && prevRetireAt(content);
    if (!replicas || !content || retireAt === undefined) {
      // No rotation waiting: the next one says again which way it decides.
      this.#observed = undefined;
      this.#modeLogged = undefined;
      return;
    }
    if (this.#clock.now() < retireAt) return;
    const ca = content.data[KEY.caCert] ?? '';
    const prev = content.data[KEY.prevCaCert] ?? '';
    let verdict: RolloutVerdict;
    try {
      verdict = await checkRollout({
        slices: replicas.slices,
        probe: replicas.probe,
        caPem: ca,
        ...(replicas.portName !== undefined ? { portName: replicas.portName } : {}),
      });
    } catch (err) {
      verdict = { mode: 'unknown', why: describeError(err) };
    }
    this.#observed = { ca, prev, verdict };
    this.#logVerdict(verdict);
  }

  #logVerdict(verdict: RolloutVerdict): void {
    if (verdict.mode === 'unknown') {
      this.#log.warn(
        { event: 'replicas-unknown', why: verdict.why },
        'cannot see which CA the replicas serve: previous CA kept in caBundle, looking again at the next check',
      );
      return;
    }
    const mode = verdict.mode === 'time' ? `time: ${verdict.why}` : 'endpoints';
    if (this.#modeLogged !== mode) {
      this.#modeLogged = mode;
      if (verdict.mode === 'time') {
        this.#log.info(
          { event: 'replicas-check-mode', mode: 'time', why: verdict.why },
          'the replicas cannot be observed: the previous CA retires when the overlap is over',
        );
      } else {
        this.#log.info(
          { event: 'replicas-check-mode', mode: 'endpoints' },
          "the previous CA retires once every endpoint of the Service serves the new CA's certificate",
        );
      }
    }
    if (verdict.mode !== 'endpoints') return;
    if (verdict.caughtUp) {
      this.#log.info({ event: 'replicas-caught-up', endpoints: verdict.checked }, 'every endpoint serves a certificate of the new CA');
      return;
    }
    this.#log.warn(
      {
        event: 'replicas-lagging',
        lagging: verdict.lagging.map((l) => ({ pod: l.pod, address: l.address, port: l.port, why: l.why })),
        endpoints: verdict.checked,
      },
      'previous CA kept in caBundle: not every endpoint serves a certificate of the new CA; looking again at the next check',
    );
  }

  #logForcedRetirement(retired: SecretContent): void {
    // The last look only counts for the CA pair just retired.
    const seen = this.#observed;
    const verdict = seen && seen.prev === retired.data[KEY.prevCaCert] ? seen.verdict : undefined;
    // Nobody waited for (deciding by time, or the CA expired within the overlap, before any
    // look: a CA lifetime shorter than --cert-renew-before plus the overlap) is no error.
    if (!verdict || verdict.mode === 'time' || (verdict.mode === 'endpoints' && verdict.caughtUp)) return;
    const lagging = verdict.mode === 'endpoints' ? verdict.lagging.map((l) => `${l.pod ?? '(no pod)'} ${l.address}`) : [];
    this.#log.error(
      { event: 'ca-prev-expired', lagging, why: verdict.mode === 'unknown' ? verdict.why : undefined },
      lagging.length > 0
        ? `the previous CA expired and left caBundle while some replicas never served the new CA: ${lagging.join(', ')}`
        : 'the previous CA expired and left caBundle before the replicas could be seen serving the new CA',
    );
  }

  #onSecretEvent(object: KubeObject): void {
    if (!isRecord(object)) return;
    this.reconcile().catch((err: unknown) =>
      this.#log.warn({ event: 'certs-failed', err: describeError(err) }, 'could not reconcile the certificate Secret after a change'),
    );
  }

  async #recheckLoop(stop: AbortSignal): Promise<void> {
    const every = this.#o.recheckMs ?? DEFAULT_RECHECK_MS;
    while (!stop.aborted) {
      // Brought forward to a renewal or rotation step due sooner: waiting for the regular check
      // would serve a certificate past its renewal time, or past its expiry when the renewal
      // window is shorter than the check period (new connections would then be refused).
      const due = this.#dueAt;
      const delay = due === undefined ? every : Math.min(every, Math.max(0, due - this.#clock.now()) + DUE_SLACK_MS);
      await this.#clock.sleep(delay, stop);
      if (stop.aborted) break;
      try {
        await this.#observeReplicas();
        await this.reconcile();
      } catch (err) {
        this.#log.warn(
          { event: 'certs-failed', err: describeError(err) },
          'certificate check failed: serving the current certificate, retrying at the next check',
        );
      }
    }
  }
}
