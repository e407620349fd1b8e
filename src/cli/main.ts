import { Command, CommanderError } from 'commander';
import { registerAudit } from './audit.js';
import { registerCerts } from './certs.js';
import { registerPolicies } from './policies.js';
import { registerServe } from './serve.js';
import { EXIT_USAGE } from './exit.js';
import { packageVersion } from './version.js';

const program = new Command('practice-gate')
  .description('Checks Kubernetes workloads against backend best practices: as an admission webhook, or offline.')
  .version(packageVersion(), '-V, --version', 'print the version')
  .exitOverride();

/** After a usage error, one line that points to the help instead of the whole help pushing the error off screen. */
const helpHint = (command: Command): string => `(run '${['practice-gate', ...(command.parent ? [command.name()] : [])].join(' ')} --help' for usage)`;

registerAudit(program);
registerPolicies(program);
registerCerts(program);
registerServe(program);
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
