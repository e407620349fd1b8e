import { Option } from 'commander';
import type { Command } from 'commander';
import { POLICIES } from '../../policies/index.js';
import { indent, styler, wantsColor, writeStdout } from '../audit/index.js';
import type { Policy } from '../engine/index.js';
import { EXIT_USAGE } from './exit.js';

function describe(policy: Policy) {
  return {
    id: policy.id,
    defaultAction: policy.defaultAction,
    title: policy.title,
    kinds: [...policy.kinds],
    why: policy.why,
    fix: policy.fix,
    source: policy.source ?? 'built-in',
  };
}

export function formatPoliciesTable(policies: readonly Policy[], color: boolean): string {
  const style = styler(color);
  const blocks = policies.map((p) =>
    [
      `${style('bold', p.id)}  ${style('dim', `default: ${p.defaultAction}${p.source !== undefined ? `, custom rule from ${p.source}` : ''}`)}`,
      indent(p.title, 2),
      indent(`why: ${p.why}`, 2),
      indent('fix:', 2),
      style('green', indent(p.fix, 4)),
    ].join('\n'),
  );
  return `${blocks.join('\n\n')}\n`;
}

/** The config's custom rules; undefined after saying why the file cannot be used. */
async function customRules(file: string): Promise<readonly Policy[] | undefined> {
  const { ConfigError, loadConfigFile } = await import('../config/load.js');
  try {
    return loadConfigFile(file).rules ?? [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`practice-gate: ${err.message}\n`);
    return undefined;
  }
}

export function registerPolicies(program: Command): void {
  program
    .command('policies')
    .description('List every policy: id, default action, title, why it matters and how to fix a finding')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--config <file>', 'also list the custom rules of this config file')
    .action(async (options: { format: 'table' | 'json'; config?: string }) => {
      const custom = options.config === undefined ? [] : await customRules(options.config);
      if (custom === undefined) {
        process.exitCode = EXIT_USAGE;
        return;
      }
      const policies = [...POLICIES, ...custom];
      const output =
        options.format === 'json'
          ? `${JSON.stringify({ policies: policies.map(describe) }, null, 2)}\n`
          : formatPoliciesTable(policies, wantsColor(process.stdout));
      writeStdout(output);
    });
}
