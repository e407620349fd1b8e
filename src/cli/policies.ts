import { Option } from 'commander';
import type { Command } from 'commander';
import { POLICIES } from '../../policies/index.js';
import { indent, styler, wantsColor, writeStdout } from '../audit/index.js';
import type { Policy } from '../engine/index.js';

function describe(policy: Policy) {
  return {
    id: policy.id,
    defaultAction: policy.defaultAction,
    title: policy.title,
    kinds: [...policy.kinds],
    why: policy.why,
    fix: policy.fix,
  };
}

export function formatPoliciesTable(policies: readonly Policy[], color: boolean): string {
  const style = styler(color);
  const blocks = policies.map((p) =>
    [
      `${style('bold', p.id)}  ${style('dim', `default: ${p.defaultAction}`)}`,
      indent(p.title, 2),
      indent(`why: ${p.why}`, 2),
      indent('fix:', 2),
      style('green', indent(p.fix, 4)),
    ].join('\n'),
  );
  return `${blocks.join('\n\n')}\n`;
}

export function registerPolicies(program: Command): void {
  program
    .command('policies')
    .description('List every policy: id, default action, title, why it matters and how to fix a finding')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((options: { format: 'table' | 'json' }) => {
      const output =
        options.format === 'json'
          ? `${JSON.stringify({ policies: POLICIES.map(describe) }, null, 2)}\n`
          : formatPoliciesTable(POLICIES, wantsColor(process.stdout));
      writeStdout(output);
    });
}
