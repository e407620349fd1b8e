// `practice-gate exemptions`: every admin exemption with its scope, reason and expiry, and with
// --cluster how many live objects it covers, so expiry is planned for instead of discovered.
import { Option } from 'commander';
import type { Command } from 'commander';
import { styler, wantsColor, writeStdout } from '../audit/index.js';
import type { StyleFormat } from '../audit/style.js';
import { exemptionStatuses } from '../engine/index.js';
import type { EngineConfig, ExemptionStatus } from '../engine/index.js';
import { EXIT_OK, EXIT_USAGE } from './exit.js';

interface ExemptionsOptions {
  config?: string;
  cluster?: boolean;
  kubeconfig?: string;
  format: 'table' | 'json';
}

export interface ExemptionRow {
  index: number;
  state: ExemptionStatus['state'];
  expires: string | null;
  namespaces: string[] | null;
  names: string[] | null;
  kinds: string[] | null;
  /** null: every policy. */
  policies: string[] | null;
  reason: string;
  /** With --cluster: live workloads and PDBs it matches (an expired one matches but no longer exempts). */
  objects?: number;
}

export function exemptionRows(config: EngineConfig, now: number, counts?: readonly number[]): ExemptionRow[] {
  return exemptionStatuses(config, now).map((s) => ({
    index: s.index,
    state: s.state,
    expires: s.expires?.text ?? null,
    namespaces: s.exemption.namespaces ?? null,
    names: s.exemption.names ?? null,
    kinds: s.exemption.kinds ?? null,
    policies: s.exemption.policies ?? null,
    reason: s.exemption.reason,
    ...(counts ? { objects: counts[s.index] ?? 0 } : {}),
  }));
}

const STATE_STYLE: Record<ExemptionStatus['state'], StyleFormat> = { active: 'green', expiring: 'yellow', expired: ['red', 'bold'] };

export function formatExemptions(rows: readonly ExemptionRow[], color: boolean): string {
  const style = styler(color);
  if (rows.length === 0) return 'No exemptions in the config.\n';
  const blocks = rows.map((r) => {
    const scope = [
      r.namespaces && `namespaces ${r.namespaces.join(', ')}`,
      r.names && `names ${r.names.join(', ')}`,
      r.kinds && `kinds ${r.kinds.join(', ')}`,
    ].filter(Boolean);
    const lines = [
      `${style('bold', `#${r.index}`)}  ${style(STATE_STYLE[r.state], r.state.toUpperCase())}  ${r.expires === null ? 'never expires' : `${r.state === 'expired' ? 'expired' : 'expires'} ${r.expires}`}`,
      `  scope:    ${scope.join('; ')}`,
      `  policies: ${r.policies ? r.policies.join(', ') : 'all'}`,
      `  reason:   ${r.reason}`,
    ];
    if (r.objects !== undefined)
      lines.push(
        `  objects:  ${r.objects} live ${r.objects === 1 ? 'object' : 'objects'} matched${r.state === 'expired' ? ' (no longer exempt)' : ''}`,
      );
    return lines.join('\n');
  });
  return `${blocks.join('\n\n')}\n`;
}

export function registerExemptions(program: Command): void {
  program
    .command('exemptions')
    .description(
      "List the config's exemptions: scope, reason, expiry (active, expiring, expired); with --cluster, the live objects each covers",
    )
    .option('--config <file>', 'practice-gate config file')
    .option('--cluster', 'count the live objects each exemption matches (kubeconfig: --kubeconfig, else KUBECONFIG or ~/.kube/config)')
    .option('--kubeconfig <file>', 'with --cluster: the kubeconfig to use')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (options: ExemptionsOptions) => {
      const say = (text: string): void => void process.stderr.write(`practice-gate: ${text}\n`);
      const { ConfigError, loadEngineConfig } = await import('../config/load.js');
      let config: EngineConfig;
      try {
        config = loadEngineConfig(options.config);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        say(err.message);
        process.exitCode = EXIT_USAGE;
        return;
      }
      const now = Date.now();
      let counts: number[] | undefined;
      if (options.cluster) {
        // @kubernetes/client-node loads only when the cluster is asked.
        const { countExemptedObjects } = await import('../cluster/scan/exemption-counts.js');
        const counted = await countExemptedObjects(config, options.kubeconfig, say);
        if (counted === undefined) {
          process.exitCode = EXIT_USAGE;
          return;
        }
        counts = counted;
      }
      const rows = exemptionRows(config, now, counts);
      writeStdout(
        options.format === 'json'
          ? `${JSON.stringify({ exemptions: rows }, null, 2)}\n`
          : formatExemptions(rows, wantsColor(process.stdout)),
      );
      process.exitCode = EXIT_OK;
    });
}
