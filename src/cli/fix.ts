import type { Command } from 'commander';
import type { FixOptions } from './fix-run.js';

const HELP = `
Fixes only what has one right answer and needs no knowledge of the application:
  securityContext.runAsNonRoot: true, readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false, a CronJob's concurrencyPolicy: Forbid.
Everything else (requests, limits, probes, image tags, PodDisruptionBudgets) is listed
with the reason it needs a person. Comments, key order, quoting, anchors and document
separators are kept; each file is judged again before it is written, and written whole.

Exit status:
  0  nothing at deny is left
  1  findings at deny are left (fix them by hand)
  2  bad usage, bad config, unreadable input, or a Helm template (render it, fix the chart)

Examples:
  $ practice-gate fix --diff k8s/          # show what would change
  $ practice-gate fix k8s/deploy.yaml      # change it in place`;

export function registerFix(program: Command): void {
  program
    .command('fix')
    .description('Apply the safe fixes to manifest files in place (or print them with --diff)')
    .argument('<paths...>', 'files or directories (their .yaml, .yml and .json files)')
    .option('--diff', 'print a unified diff and change nothing')
    .option('--config <file>', 'practice-gate config file (built-in defaults without one)')
    .option('--namespace <namespace>', 'namespace of documents that name none', 'default')
    .addHelpText('after', HELP)
    .action(async (paths: string[], options: FixOptions) => {
      const { runFix } = await import('./fix-run.js');
      process.exitCode = await runFix(paths, options);
    });
}
