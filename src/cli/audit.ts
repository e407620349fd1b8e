import type { Command } from 'commander';

// Placeholder: being written.
export function registerAudit(program: Command): void {
  program.command('audit').description('(not yet implemented)');
}
