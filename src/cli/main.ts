import { Command, CommanderError } from 'commander';
import { registerAudit } from './audit.js';
import { registerCerts } from './certs.js';
import { registerExemptions } from './exemptions.js';
import { registerPolicies } from './policies.js';
import { registerServe } from './serve.js';
import { EXIT_USAGE } from './exit.js';

const program = new Command('practice-gate')
  .description('Checks Kubernetes workloads against backend best practices: as an admission webhook, or offline.')
  .showHelpAfterError()
  .exitOverride();

registerAudit(program);
registerPolicies(program);
registerCerts(program);
registerExemptions(program);
registerServe(program);

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
