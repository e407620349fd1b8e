// What `practice-gate serve` does once its flags are parsed (serve.ts registers them). Loaded
// by the serve action only: it brings in the server and @kubernetes/client-node.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.js';
import { createServerLogger } from '../server/logger.js';
import { DEFAULT_HOST, DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../server/defaults.js';
import { startServer } from '../server/run.js';
import type { ServeOptions, ServerHandle, TlsSource } from '../server/run.js';
import { webhookConfigurationYaml } from '../server/webhook-config.js';
import { devCertificates } from '../tls/dev.js';
import { TlsError } from '../tls/material.js';
import { CertOptionsError } from '../cluster/certs/certs.js';
import { describeError } from '../cluster/api/errors.js';
import { KubeConfigError } from '../cluster/api/kubeconfig.js';
import { clusterOptionsFromFlags, ClusterUsageError } from './cluster-options.js';
import { startCluster } from '../cluster/start.js';
import type { ClusterHandle } from '../cluster/start.js';
import { startStartupProbes } from './startup-probes.js';
import type { StartupProbes } from './startup-probes.js';
import { EXIT_OK, EXIT_USAGE } from './exit.js';
import type { ServeFlags } from './serve-flags.js';
import { describeFileError } from '../files/errors.js';

/** Exit status when the server cannot start for a reason other than bad flags or files. */
const EXIT_FAILED = 1;

function usageProblem(flags: ServeFlags): string | undefined {
  if (flags.selfManagedCerts) {
    if (flags.dev || flags.tlsCert || flags.tlsKey)
      return '--self-managed-certs keeps its certificates in a Secret: drop --tls-cert/--tls-key/--dev, or drop --self-managed-certs';
    return undefined;
  }
  if (flags.dev) {
    if (flags.tlsCert || flags.tlsKey) return '--dev generates its own certificates: drop --tls-cert/--tls-key, or drop --dev';
    return undefined;
  }
  if (flags.devWebhookConfig) return '--dev-webhook-config only goes with --dev';
  if (!flags.tlsCert || !flags.tlsKey) {
    return 'serve needs --tls-cert and --tls-key (the API server only calls webhooks over HTTPS); for a local try, use --dev';
  }
  return undefined;
}

function say(text: string): void {
  process.stderr.write(`practice-gate serve: ${text}\n`);
}

function createLogger(level: string, dev: boolean): Logger {
  const { logger, flush } = createServerLogger({ level, fd: dev ? 2 : 1 });
  // Buffered lines go out before any exit, after a signal or a startup error alike.
  process.once('exit', flush);
  return logger;
}

function devHeader(url: string): string {
  return [
    '# practice-gate serve --dev: a ValidatingWebhookConfiguration for this process and its in-memory dev CA.',
    `# The API server must reach ${url} (a cluster running on this machine). Save and apply it:`,
    '#   kubectl apply -f <this file>      # and delete it once you stop practice-gate (failurePolicy Ignore meanwhile)',
    '',
  ].join('\n');
}

/** Nothing is served yet, so nothing needs draining: a stop while starting up is a clean exit. */
function exitWhileWaiting(signal: NodeJS.Signals): void {
  say(`${signal} while starting: exiting`);
  process.exit(EXIT_OK);
}

/** A clock that reads `start` now and runs on from there. */
function clockFrom(start: number): () => number {
  const offset = start - Date.now();
  return () => Date.now() + offset;
}

export async function runServe(flags: ServeFlags, command: Command): Promise<number> {
  const problem = usageProblem(flags);
  if (problem) command.error(`error: ${problem}`, { exitCode: EXIT_USAGE, code: 'practice-gate.usage' });

  const log = createLogger(flags.logLevel, flags.dev === true);
  let cluster: ClusterHandle | undefined;
  let interim: StartupProbes | undefined;
  try {
    const clusterOptions = clusterOptionsFromFlags(flags, log);
    // Self-managed certificates wait for the API server, possibly for long: stay alive meanwhile.
    if (clusterOptions?.certs && flags.probePort !== undefined) {
      interim = await startStartupProbes(flags.probePort, flags.host ?? DEFAULT_HOST, ['certificates']);
      log.info({ probePort: flags.probePort }, 'waiting for the serving certificate: /healthz ok, /readyz 503 until it is loaded');
    }
    process.once('SIGTERM', exitWhileWaiting).once('SIGINT', exitWhileWaiting);
    cluster = clusterOptions && (await startCluster(clusterOptions));
  } catch (err) {
    process.off('SIGTERM', exitWhileWaiting).off('SIGINT', exitWhileWaiting);
    await interim?.close();
    const usage = err instanceof ClusterUsageError || err instanceof KubeConfigError || err instanceof CertOptionsError;
    const code = (err as NodeJS.ErrnoException).code;
    say(
      usage
        ? (err as Error).message
        : code === 'EADDRINUSE'
          ? `port ${flags.probePort} is already in use`
          : `cannot start the cluster features: ${describeError(err)}`,
    );
    return usage ? EXIT_USAGE : EXIT_FAILED;
  }
  process.off('SIGTERM', exitWhileWaiting).off('SIGINT', exitWhileWaiting);
  await interim?.close();
  let tls: TlsSource;
  let caBundle: string | undefined;
  try {
    if (cluster?.certs) {
      tls = { reloader: cluster.certs };
    } else if (flags.dev) {
      log.info('generating in-memory dev certificates for 127.0.0.1, ::1 and localhost');
      const dev = devCertificates();
      const clientCa = flags.clientCa === undefined ? undefined : readFileSync(flags.clientCa, 'utf8');
      tls = { pems: { ...dev.serving, ...(clientCa === undefined ? {} : { clientCa }) } };
      caBundle = dev.caBundle;
    } else {
      tls = { files: { certFile: flags.tlsCert as string, keyFile: flags.tlsKey as string, clientCaFile: flags.clientCa } };
    }
  } catch (err) {
    say(`cannot read --client-ca ${flags.clientCa}: ${describeFileError(err)}`);
    await cluster?.close();
    return EXIT_USAGE;
  }

  const options: ServeOptions = {
    tls,
    port: flags.port,
    host: flags.host ?? (flags.dev ? '127.0.0.1' : DEFAULT_HOST),
    probePort: flags.probePort,
    configFile: flags.config,
    onError: flags.onError,
    shutdownTimeoutMs: flags.shutdownTimeout * 1000,
    logger: log,
    ...(flags.now === undefined ? {} : { now: clockFrom(flags.now) }),
    ...(cluster ? { context: cluster.context, conditions: cluster.conditions } : {}),
  };
  let handle: ServerHandle;
  try {
    handle = await startServer(options);
  } catch (err) {
    await cluster?.close();
    if (err instanceof ConfigError || err instanceof TlsError) {
      say(err.message);
      return EXIT_USAGE;
    }
    const code = (err as NodeJS.ErrnoException).code;
    say(code === 'EADDRINUSE' ? `port ${flags.port} is already in use` : `cannot start: ${(err as Error).message}`);
    return EXIT_FAILED;
  }

  if (caBundle !== undefined) {
    const url = `https://127.0.0.1:${handle.port}/validate`;
    const yaml = webhookConfigurationYaml({ name: 'practice-gate-dev', url, caBundle, failurePolicy: 'Ignore', timeoutSeconds: 5 });
    process.stdout.write(`${devHeader(url)}${yaml}`);
    if (flags.devWebhookConfig) {
      try {
        writeFileSync(flags.devWebhookConfig, yaml);
      } catch (err) {
        say(`cannot write --dev-webhook-config ${flags.devWebhookConfig}: ${describeFileError(err)}`);
        await handle.close();
        await cluster?.close();
        return EXIT_USAGE;
      }
    }
    log.info({ url, file: flags.devWebhookConfig ?? null }, 'dev webhook configuration printed on stdout');
  }
  if (cluster) {
    const served = handle;
    const features = cluster;
    features.attach({ state: served.state, registry: served.metrics.registry });
    // Informers keep serving in-flight reviews; the cluster features stop after the server.
    handle = { ...served, close: async () => served.close().finally(() => features.close()) };
  }
  stopOnSignals(handle, log, options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
  return EXIT_OK;
}

function stopOnSignals(handle: ServerHandle, log: Logger, timeoutMs: number): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'already shutting down');
      return;
    }
    stopping = true;
    log.info({ signal }, 'signal received');
    // A backstop in case closing itself hangs: the pod must go within its grace period.
    setTimeout(() => {
      log.error('shutdown did not complete; exiting');
      process.exit(EXIT_OK);
    }, timeoutMs + 2_000).unref();
    handle.close().then(
      () => process.exit(EXIT_OK),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(EXIT_FAILED);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
