import type { Command } from 'commander';
import { stringify } from 'yaml';
import { writeStdout } from '../audit/index.js';
import { EXIT_USAGE } from './exit.js';

/** Namespaces the chart's webhook never judges, besides its own release namespace. */
const ALWAYS_EXCLUDED = ['kube-system'];

export function registerVap(program: Command): void {
  program
    .command('vap')
    .description('Print ValidatingAdmissionPolicy and Binding objects for the custom rules of a config, to run them inside the API server')
    .option('--config <file>', 'config file whose rules to export')
    .option('--namespace <ns>', "practice-gate's own namespace, never judged (the chart's release namespace)", 'practice-gate')
    .option('--exclude-namespace <ns...>', "more namespaces never judged (the chart's webhook.excludedNamespaces)", [])
    .action(async (options: { config?: string; namespace: string; excludeNamespace: string[] }) => {
      const { ConfigError, loadEngineConfig } = await import('../config/load.js');
      const { vapObjects } = await import('../rules/index.js');
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
      if (objects.length === 0) process.stderr.write('practice-gate: no active custom rules in the config: nothing to export\n');
      writeStdout(objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join(''));
    });
}
