import type { Command } from 'commander';
import { stringify } from 'yaml';
import { writeStdout } from '../audit/index.js';
import { EXIT_USAGE } from './exit.js';

/** Namespaces the chart's webhook never judges, besides its own release namespace. */
const ALWAYS_EXCLUDED = ['kube-system'];

export function registerVap(program: Command): void {
  program
    .command('vap')
    .description(
      'Print ValidatingAdmissionPolicy and Binding objects for the custom rules of a config and the built-in policies CEL can express, to run them inside the API server',
    )
    .addHelpText(
      'after',
      '\nBuilt-in policies exported: those that judge the object alone (run-as-non-root, read-only-root-filesystem,\n' +
        'resource-requests, memory-limit, readiness-probe, liveness-probe, image-tag-pinned, no-privilege-escalation,\n' +
        'cronjob-concurrency), with their action from the config. Not exported: policies that need other objects of\n' +
        'the cluster (pdb-coverage, pdb-allows-disruption, hpa-managed-replicas, rolling-update), which a VAP cannot\n' +
        'read, and those not written in CEL yet. The output starts with a comment that lists both, with the reasons.\n' +
        'What a VAP cannot carry: from: deadlines, exemptions, existing-violation semantics on UPDATE (docs/rules.md).',
    )
    .option(
      '--config <file>',
      'config file whose rules and policy actions to export (default: the built-in policies with their default actions)',
    )
    .option('--namespace <ns>', "practice-gate's own namespace, never judged (the chart's release namespace)", 'practice-gate')
    .option('--exclude-namespace <ns...>', "more namespaces never judged (the chart's webhook.excludedNamespaces)", [])
    .action(async (options: { config?: string; namespace: string; excludeNamespace: string[] }) => {
      const { ConfigError, loadEngineConfig } = await import('../config/load.js');
      const { vapObjects } = await import('../rules/index.js');
      const { vapSummary } = await import('../rules/vap-summary.js');
      const { POLICIES } = await import('../../policies/index.js');
      let config: ReturnType<typeof loadEngineConfig>;
      try {
        config = loadEngineConfig(options.config);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`practice-gate: ${err.message}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      const excluded = [...new Set([options.namespace, ...ALWAYS_EXCLUDED, ...options.excludeNamespace])];
      const objects = vapObjects(config, { excludedNamespaces: excluded });
      if (objects.length === 0)
        process.stderr.write('practice-gate: no active custom rules or exportable policies in the config: nothing to export\n');
      writeStdout(vapSummary(config, POLICIES) + objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join(''));
    });
}
