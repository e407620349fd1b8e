import type { Command } from 'commander';

// Placeholder: being written.
export function registerPolicies(program: Command): void {
  program.command('policies').description('(not yet implemented)');
}
