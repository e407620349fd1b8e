// Starts a complete gate: TLS app (plus probe app), config and certificate reloading, and a
// handle whose close() is the graceful shutdown. The CLI and the tests both start it here.
import type { Server as HttpServer } from 'node:http';
import type { ServerOptions as HttpsServerOptions, Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { Logger } from 'pino';
import { POLICIES } from '../../policies/index.js';
import { parseConfigText, readConfigText } from '../config/load.js';
import { DEFAULT_CONFIG, compileConfig } from '../engine/index.js';
import type { ClusterContext, EngineConfig, Policy } from '../engine/index.js';
import { validateTlsMaterial } from '../tls/material.js';
import type { TlsFiles, TlsMaterial } from '../tls/material.js';
import { TlsFileWatcher } from '../tls/watch.js';
import { buildApp } from './app.js';
import type { BodyPoolOptions } from './body-pool.js';
import type { GateApp } from './app.js';
import { ConfigFileWatcher } from './config-watch.js';
import { ConnectionTracker } from './connections.js';
import { GateMetrics } from './metrics.js';
import type { OnError } from './review.js';
import { gracefulShutdown } from './shutdown.js';
import type { ShutdownResult } from './shutdown.js';
import { GateState } from './state.js';
import { exemptionExpiryGauge, logExemptions, reportExemptionsDaily } from './exemption-report.js';
import type { ConditionName } from './state.js';
import { clusterPolicyIds, withoutClusterPolicies } from './blind.js';
import { DEFAULT_HOST, DEFAULT_PORT, DEFAULT_SHUTDOWN_DRAIN_MS, DEFAULT_SHUTDOWN_TIMEOUT_MS } from './defaults.js';

export type TlsSource =
  /** Files on disk, watched and reloaded when they change (cert-manager, Secret volumes). */
  | { files: TlsFiles; pollIntervalMs?: number; debounceMs?: number }
  /** PEM text held in memory (serve --dev): never reloaded. */
  | { pems: { cert: string; key: string; clientCa?: string } }
  /** Material kept elsewhere and pushed on change (serve --self-managed-certs: src/cluster/certs/certs.ts). */
  | { reloader: TlsReloader };

/** What startServer needs from a reloading TLS source; TlsFileWatcher is one. */
export interface TlsReloader {
  readonly current: TlsMaterial;
  on(event: 'reload', listener: (material: TlsMaterial) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  start(): unknown;
  close(): unknown;
}

export interface ServeOptions {
  tls: TlsSource;
  port?: number;
  host?: string;
  /** A plain-HTTP port for /healthz, /readyz and /metrics; without it the TLS port serves them. */
  probePort?: number;
  configFile?: string;
  configPollIntervalMs?: number;
  registry?: readonly Policy[];
  onError?: OnError;
  shutdownTimeoutMs?: number;
  /** How long after SIGTERM open connections keep being served (default: 5 s, at most half the timeout). */
  shutdownDrainMs?: number;
  logger?: Logger;
  processMetrics?: boolean;
  /** The cluster context reviews read (informers, src/cluster); empty without one. */
  context?: ClusterContext;
  /** Readiness conditions besides `certificates`, false until set (e.g. `caches`). */
  conditions?: readonly ConditionName[];
  /** The time deadlines and exemption expiry are judged by (tests move it; default the system clock). */
  now?: () => number;
  /** Called with the TLS app before it listens: extra hooks or routes (tests slow requests here). */
  configureApp?: (app: GateApp) => void;
  /** Overrides of the large-body worker pool's bounds (src/server/body-pool.ts). */
  largeBodies?: Partial<BodyPoolOptions>;
}

export interface ServerHandle {
  app: GateApp;
  probeApp: GateApp | undefined;
  state: GateState;
  metrics: GateMetrics;
  port: number;
  probePort: number | undefined;
  /** The certificate being served to new connections. */
  tls(): TlsMaterial;
  /** Graceful shutdown; later calls return the first call's result. */
  close(): Promise<ShutdownResult>;
}

const MIN_TLS_VERSION = 'TLSv1.2';

function secureContext(material: TlsMaterial): HttpsServerOptions {
  const options: HttpsServerOptions = { cert: material.cert, key: material.key, minVersion: MIN_TLS_VERSION };
  if (material.clientCa !== undefined) options.ca = material.clientCa;
  return options;
}

function loadConfig(file: string | undefined, registry: readonly Policy[]): { config: EngineConfig; text: string } {
  if (file === undefined) return { config: compileConfig(DEFAULT_CONFIG, registry), text: '' };
  const text = readConfigText(file);
  return { config: compileConfig(parseConfigText(text, file, registry), registry), text };
}

async function listen(app: GateApp, port: number, host: string): Promise<number> {
  await app.listen({ port, host });
  return (app.server.address() as AddressInfo).port;
}

/**
 * Loads config and certificates (throwing ConfigError or TlsError before anything listens),
 * then serves. Resolves once both ports accept connections and readiness is true.
 */
export async function startServer(options: ServeOptions): Promise<ServerHandle> {
  const log = options.logger ?? pino({ enabled: false });
  const registry = options.registry ?? POLICIES;
  const initial = loadConfig(options.configFile, registry);
  // Without a cluster context nothing can tell whether a PDB covers a workload: see blind.ts.
  const fit = options.context ? (config: EngineConfig) => config : withoutClusterPolicies;

  let watcher: TlsReloader | undefined;
  let material: TlsMaterial;
  if ('files' in options.tls) {
    watcher = new TlsFileWatcher(options.tls.files, { pollIntervalMs: options.tls.pollIntervalMs, debounceMs: options.tls.debounceMs });
    material = watcher.current;
  } else if ('reloader' in options.tls) {
    watcher = options.tls.reloader;
    material = watcher.current;
  } else {
    material = validateTlsMaterial(options.tls.pems, 'dev certificates');
  }

  const state = new GateState(fit(initial.config), {
    conditions: ['certificates', ...(options.conditions ?? [])],
    ...(options.context ? { context: options.context } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const metrics = new GateMetrics({ processMetrics: options.processMetrics ?? true });
  metrics.trackReadiness(() => state.readiness().ready);
  metrics.recordCertificate(material.notAfter);
  exemptionExpiryGauge(metrics.registry, () => state.engineConfig);
  const separateProbes = options.probePort !== undefined;
  const https: HttpsServerOptions = { ...secureContext(material) };
  if (material.clientCa !== undefined) {
    https.requestCert = true;
    https.rejectUnauthorized = true;
    if (!separateProbes) log.warn('--client-ca without --probe-port: kubelet probes send no client certificate and will fail');
  }
  const app = buildApp({
    state,
    metrics,
    logger: log,
    onError: options.onError ?? 'allow',
    https,
    probes: !separateProbes,
    warmUp: true,
    ...(options.largeBodies ? { largeBodies: options.largeBodies } : {}),
  });
  const probeApp = separateProbes ? buildApp({ state, metrics, logger: log, validate: false }) : undefined;
  const connections = new ConnectionTracker(app.server as HttpServer);
  options.configureApp?.(app);

  let current = material;
  const host = options.host ?? DEFAULT_HOST;
  const release: Array<() => void> = [];
  try {
    const port = await listen(app, options.port ?? DEFAULT_PORT, host);
    const probePort = probeApp ? await listen(probeApp, options.probePort ?? 0, host) : undefined;

    if (watcher) {
      const tlsWatcher = watcher;
      tlsWatcher.on('reload', (next) => {
        try {
          (app.server as HttpsServer).setSecureContext(secureContext(next));
          current = next;
          metrics.tlsReloads.inc({ result: 'success' });
          metrics.recordCertificate(next.notAfter);
          log.info({ fingerprint: next.fingerprint, notAfter: next.notAfter.toISOString() }, 'serving certificate reloaded');
        } catch (err) {
          metrics.tlsReloads.inc({ result: 'failure' });
          log.error({ err }, 'serving certificate rejected by TLS; keeping the previous one');
        }
      });
      tlsWatcher.on('error', (err) => {
        metrics.tlsReloads.inc({ result: 'failure' });
        log.error({ error: err.message }, 'serving certificate not reloaded; keeping the previous one');
      });
      tlsWatcher.start();
      release.push(() => tlsWatcher.close());
    }
    if (options.configFile !== undefined) {
      const file = options.configFile;
      const configWatcher = new ConfigFileWatcher(file, registry, initial.text, { pollIntervalMs: options.configPollIntervalMs });
      configWatcher.on('reload', (config) => {
        state.engineConfig = fit(config);
        logExemptions(log, config, state.now());
        metrics.configReloads.inc({ result: 'success' });
        log.info({ file, mode: config.mode, policies: config.active.map((a) => `${a.policy.id}=${a.action}`) }, 'config reloaded');
      });
      configWatcher.on('error', (err) => {
        metrics.configReloads.inc({ result: 'failure' });
        log.error({ file, error: err.message }, 'config not reloaded; keeping the running config');
      });
      configWatcher.start();
      release.push(() => configWatcher.close());
    }

    const skipped = options.context ? [] : clusterPolicyIds(initial.config);
    if (skipped.length > 0) {
      log.warn(
        { policies: skipped },
        `no cluster connection: not running ${skipped.join(', ')} (they need the cluster's PodDisruptionBudgets, HPAs and NetworkPolicies); run with a kubeconfig or in a cluster to check it`,
      );
    }
    release.push(
      reportExemptionsDaily(
        log,
        () => state.engineConfig,
        () => state.now(),
      ),
    );
    state.setCondition('certificates', true);
    log.info(
      {
        port,
        probePort,
        host,
        fingerprint: material.fingerprint,
        notAfter: material.notAfter.toISOString(),
        config: options.configFile ?? null,
      },
      'practice-gate listening',
    );

    let closing: Promise<ShutdownResult> | undefined;
    return {
      app,
      probeApp,
      state,
      metrics,
      port,
      probePort,
      tls: () => current,
      close: () => {
        const timeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
        closing ??= gracefulShutdown({
          state,
          serving: [app],
          connections: [connections],
          probes: probeApp,
          release,
          timeoutMs,
          drainMs: options.shutdownDrainMs ?? Math.min(DEFAULT_SHUTDOWN_DRAIN_MS, timeoutMs / 2),
          log,
        });
        return closing;
      },
    };
  } catch (err) {
    for (const stop of release) stop();
    await Promise.allSettled([app.close(), probeApp?.close()]);
    throw err;
  }
}
