import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { addClusterServeFlags } from './cluster-flags.js';
import type { ServeFlags } from './serve-flags.js';
import { parseInstant } from '../engine/instant.js';
import { DEFAULT_HOST, DEFAULT_PORT, DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../server/defaults.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const HELP = `
Output:
  Logs are JSON lines (pino) on stdout; with --dev they go to stderr, and stdout carries only
  the ValidatingWebhookConfiguration for the dev certificates, so it can be saved and applied:
    $ practice-gate serve --dev > webhook.yaml &   kubectl apply -f webhook.yaml

Shutdown:
  On SIGTERM or SIGINT /readyz turns 503 at once; for up to 5 s (until no connection has been
  open for a second) connections, new ones included, are still served, each answer with
  Connection: close; then in-flight reviews finish, idle connections close, and the process
  exits 0 within --shutdown-timeout seconds.

Examples:
  $ practice-gate serve --dev
  $ practice-gate serve --tls-cert /tls/tls.crt --tls-key /tls/tls.key --probe-port 8080 --config /etc/practice-gate/config.yaml`;

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('must be a port number from 0 to 65535');
  return n;
}

function instantFlag(value: string): number {
  const at = parseInstant(value);
  if (at === undefined) throw new InvalidArgumentError('must be a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]');
  return at;
}

function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of seconds, 0 or more');
  return n;
}

export function registerServe(program: Command): void {
  const serve = program
    .command('serve')
    .description('Run the admission webhook: HTTPS, AdmissionReview v1 on POST /validate.')
    .option('--port <port>', 'HTTPS port for /validate', port, DEFAULT_PORT)
    .option('--host <address>', `address to listen on (default ${DEFAULT_HOST}; 127.0.0.1 with --dev)`)
    .option('--probe-port <port>', 'plain-HTTP port for /healthz, /readyz and /metrics (default: served on the HTTPS port)', port)
    .option('--tls-cert <file>', 'serving certificate (PEM, chain after it); reloaded when it changes')
    .option('--tls-key <file>', 'private key of the serving certificate (PEM); reloaded when it changes')
    .option('--client-ca <file>', 'require client certificates signed by this CA (PEM)')
    .option('--dev', 'generate in-memory dev certificates for 127.0.0.1 and print a webhook configuration for them')
    .option('--dev-webhook-config <file>', 'with --dev: also write the webhook configuration to this file')
    .option('--config <file>', 'config file (YAML); reloaded when it changes, a bad version is refused')
    .addOption(
      new Option('--on-error <mode>', 'answer when judging fails: allow (with a warning) or deny')
        .choices(['allow', 'deny'])
        .default('allow'),
    )
    .option(
      '--shutdown-timeout <seconds>',
      'how long in-flight reviews may take to finish on SIGTERM',
      seconds,
      DEFAULT_SHUTDOWN_TIMEOUT_MS / 1000,
    )
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    // For tests and rehearsals of a deadline: the clock starts at this time and runs on.
    .addOption(new Option('--now <time>', 'judge deadlines and expiry as if started at this time').argParser(instantFlag).hideHelp());
  addClusterServeFlags(serve)
    .addHelpText('after', HELP)
    .action(async (flags: ServeFlags, command: Command) => {
      // The server, the TLS code and @kubernetes/client-node load only when serve runs.
      const { runServe } = await import('./serve-run.js');
      process.exitCode = await runServe(flags, command);
    });
}
