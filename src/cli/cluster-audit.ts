// `practice-gate audit --cluster`: one scan of a live cluster, printed like the offline audit.
import type { Command } from 'commander';
import { buildReport, failsOn, formatJson, wantsColor } from '../audit/index.js';
import type { ReportFormat } from '../audit/formats/names.js';
import { formatAs } from './report-format.js';
import type { AuditReport, FailOn, SourceObject } from '../audit/index.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from './exit.js';
import { ConfigError, loadEngineConfig } from '../config/load.js';
import type { EngineConfig } from '../engine/config.js';
import { formatWhatIf, whatIf } from '../audit/what-if.js';
import { KubeClients } from '../cluster/api/client.js';
import { describeError } from '../cluster/api/errors.js';
import { KubeConfigError, loadKubeConfig } from '../cluster/api/kubeconfig.js';
import { scanCluster, ScanError } from '../cluster/scan/scanner.js';
import type { ClusterReader } from '../cluster/scan/scanner.js';

export interface ClusterAuditRequest {
  config: EngineConfig;
  kubeconfig?: string;
  /** Only this namespace (else every namespace). */
  namespace?: string;
  format: ReportFormat;
  failOn: FailOn;
  /** Also print what the config's mode would refuse per namespace and policy. */
  whatIf?: boolean;
}

export interface ClusterAuditIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  /** One line for the user, already phrased. */
  say(text: string): void;
  /** For tests: a reader instead of a real cluster. */
  reader?: ClusterReader;
  /** How the cluster is named in the report (the kubeconfig context). */
  source?: string;
}

/** The scan as an offline-audit report (what the table and JSON formats print), and the kinds it was not allowed to list. */
export async function clusterAuditReport(
  reader: ClusterReader,
  config: EngineConfig,
  source: string,
  namespace?: string,
): Promise<{ report: AuditReport; forbidden: string[] }> {
  const scan = await scanCluster(reader, config, { skipForbidden: true, ...(namespace !== undefined ? { namespace } : {}) });
  const items: SourceObject[] = scan.judged.map((j) => ({ object: j.object, source }));
  return { report: buildReport(items, scan.context, config, 'default'), forbidden: scan.forbidden };
}

/** Exit status as for the offline audit: 0 clean, 1 a finding reaches --fail-on, 2 the cluster could not be read. */
export async function runClusterAudit(request: ClusterAuditRequest, io: ClusterAuditIo): Promise<number> {
  let reader = io.reader;
  let source = io.source ?? 'cluster';
  if (!reader) {
    try {
      const kc = loadKubeConfig(request.kubeconfig);
      reader = new KubeClients(kc).clusterReader();
      source = io.source ?? `cluster ${kc.getCurrentContext() || kc.getCurrentCluster()?.name || ''}`.trim();
    } catch (err) {
      io.say(err instanceof KubeConfigError ? err.message : `cannot load the kubeconfig: ${describeError(err)}`);
      return EXIT_USAGE;
    }
  }
  let report: AuditReport;
  try {
    const audited = await clusterAuditReport(reader, request.config, source, request.namespace);
    report = audited.report;
    // A person may audit with less than the webhook's rights (the built-in view role has no podtemplates).
    if (audited.forbidden.length > 0) io.say(`not allowed to list ${audited.forbidden.join(', ')}: those were not audited`);
  } catch (err) {
    io.say(err instanceof ScanError ? `cannot audit the cluster: ${err.message}` : `cannot audit the cluster: ${describeError(err)}`);
    return EXIT_USAGE;
  }
  const impact = request.whatIf ? whatIf(report, request.config) : undefined;
  if (impact && request.format === 'json') io.stdout.write(formatJson({ ...report, whatIf: impact }));
  else io.stdout.write(await formatAs(report, request.format, request.config, request.failOn, io.stdout));
  if (impact && request.format === 'table') io.stdout.write(`\n${formatWhatIf(impact, { color: wantsColor(io.stdout) })}`);
  return failsOn(report.summary, request.failOn) ? EXIT_FINDINGS : EXIT_OK;
}

export interface AuditCommandOptions {
  config?: string;
  kubeconfig?: string;
  namespace: string;
  format: ReportFormat;
  failOn: FailOn;
  mode?: 'enforce' | 'audit';
}

/** The `audit --cluster` action: the offline command's options, read for a live cluster. */
export async function clusterAuditCommand(paths: readonly string[], options: AuditCommandOptions, command: Command): Promise<number> {
  if (paths.length > 0) {
    command.error('error: --cluster audits the live cluster, not files: drop the paths, or drop --cluster', {
      exitCode: EXIT_USAGE,
      code: 'practice-gate.usage',
    });
  }
  const say = (text: string): void => void process.stderr.write(`practice-gate: ${text}\n`);
  let config: EngineConfig;
  try {
    const loaded = loadEngineConfig(options.config);
    config = options.mode === undefined ? loaded : { ...loaded, mode: options.mode };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    say(err.message);
    return EXIT_USAGE;
  }
  // --namespace has a default for files ("namespace of documents that name none"); for the cluster
  // only an explicit one narrows the scan.
  const namespace = command.getOptionValueSource('namespace') === 'cli' ? options.namespace : undefined;
  return runClusterAudit(
    {
      config,
      format: options.format,
      failOn: options.failOn,
      whatIf: options.mode !== undefined,
      ...(options.kubeconfig !== undefined ? { kubeconfig: options.kubeconfig } : {}),
      ...(namespace !== undefined ? { namespace } : {}),
    },
    { stdout: process.stdout, say },
  );
}
