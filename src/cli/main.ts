import { Command, CommanderError } from 'commander';
import { EXIT_USAGE } from './exit.js';
import { packageVersion } from './version.js';

const program = new Command('practice-gate')
  .description('Checks Kubernetes workloads against backend best practices: as an admission webhook, or offline.')
  .version(packageVersion(), '-V, --version', 'print the version')
  .exitOverride();

/** After a usage error, one line that points to the help instead of the whole help pushing the error off screen. */
const helpHint = (command: Command): string =>
  `(run '${['practice-gate', ...(command.parent ? [command.name()] : [])].join(' ')} --help' for usage)`;

// Each command's module (and what it imports) loads only when that command runs: `audit` in
// CI is mostly start-up, and need not load the certificate or server flags. Without a known
// command first (help, --version, a typo) all of them load, for the help and suggestions.
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  audit: async () => (await import('./audit.js')).registerAudit,
  fix: async () => (await import('./fix.js')).registerFix,
  policies: async () => (await import('./policies.js')).registerPolicies,
  exemptions: async () => (await import('./exemptions.js')).registerExemptions,
  certs: async () => (await import('./certs.js')).registerCerts,
  serve: async () => (await import('./serve.js')).registerServe,
  vap: async () => (await import('./vap.js')).registerVap,
};
// A function, not top-level await: the bundle is a CommonJS script (scripts/bundle-cli.mjs), which
// starts faster than an ES module and which Node 20 can keep compiled (bin/code-cache.js).
async function main(): Promise<void> {
  const named = process.argv[2];
  const wanted = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
  const registrars = await Promise.all(wanted.map((name) => (COMMANDS[name] as () => Promise<(program: Command) => void>)()));
  for (const register of registrars) register(program);
  for (const command of [program, ...program.commands]) command.showHelpAfterError(helpHint(command));

  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; every other commander error is a usage error
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
    } else {
      process.stderr.write(`practice-gate: ${(err as Error).message}\n`);
      process.exitCode = EXIT_USAGE;
    }
  }
}

// Once nothing is left to run (output written, stdout drained), exit without tearing down the
// V8 heap and Node's environment, which an exit by an empty event loop does: for a one-chart audit
// that teardown cost ~10-15 ms of CPU, a tenth of the run. Exit listeners still run, and the exit
// status is process.exitCode as before.
process.once('beforeExit', () => process.exit());
void main();
