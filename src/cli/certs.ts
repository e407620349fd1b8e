import type { Command } from 'commander';

// Placeholder: being written.
export function registerCerts(program: Command): void {
  program.command('certs').description('(not yet implemented)');
}
