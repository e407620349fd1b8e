import type { Command } from 'commander';

// Placeholder: being written.
export function registerServe(program: Command): void {
  program.command('serve').description('(not yet implemented)');
}
