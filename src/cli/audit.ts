import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { FAIL_ON, STDIN, STDIN_SOURCE, auditTexts, failsOn, formatProblem, readSources, readStream, writeStdout } from '../audit/index.js';
import type { FailOn } from '../audit/index.js';
import { POLICIES } from '../../policies/index.js';
import { DEFAULT_CONFIG, compileConfig } from '../engine/index.js';
import type { EngineConfig } from '../engine/index.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from './exit.js';
import { FORMATS, formatAs } from './report-format.js';
import type { ReportFormat } from './report-format.js';

interface AuditOptions {
  config?: string;
  format: ReportFormat;
  failOn: FailOn;
  namespace: string;
  cluster?: boolean;
  kubeconfig?: string;
  mode?: 'enforce' | 'audit';
}

const EXIT_HELP = `
Exit status:
  0  no finding that is not exempt reaches --fail-on
  1  at least one does
  2  bad usage, bad config, or input that cannot be read or parsed (the rest is still judged)

Examples:
  $ practice-gate audit examples/bad
  $ helm template my-release ./chart | practice-gate audit --format json -`;

function nonEmpty(what: string) {
  return (value: string): string => {
    if (value.trim() === '') throw new InvalidArgumentError(`${what} must not be empty`);
    return value;
  };
}

function say(text: string): void {
  process.stderr.write(`practice-gate: ${text}\n`);
}

/**
 * The engine config: the built-in defaults (what loadEngineConfig gives without a file), or
 * the file's. The config loader, with zod and yaml, loads only when there is a file to read.
 */
export async function engineConfig(file: string | undefined): Promise<EngineConfig | undefined> {
  if (file === undefined) return compileConfig(DEFAULT_CONFIG, POLICIES);
  const { ConfigError, loadEngineConfig } = await import('../config/load.js');
  try {
    return loadEngineConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      say(err.message);
      return undefined;
    }
    throw err;
  }
}

export async function runAudit(paths: string[], options: AuditOptions): Promise<number> {
  const loaded = await engineConfig(options.config);
  if (loaded === undefined) return EXIT_USAGE;
  const config = options.mode === undefined ? loaded : { ...loaded, mode: options.mode };

  const read = await readSources(paths, () => readStream(process.stdin));
  const outcome = auditTexts(read.texts, config, options.namespace);
  const problems = [...read.problems, ...outcome.problems];
  for (const problem of problems) say(formatProblem(problem));
  for (const note of outcome.notes) say(note);
  if (outcome.objectsRead === 0 && problems.length === 0)
    say(`no Kubernetes objects found in ${paths.map((p) => (p === STDIN ? STDIN_SOURCE : p)).join(', ')}`);

  // CI keeps the report, not stderr: what was not judged is in it too.
  const report = { ...outcome.report, skipped: problems };
  writeStdout(await formatAs(report, options.format, config, options.failOn, process.stdout));

  if (problems.length > 0) return EXIT_USAGE;
  return failsOn(outcome.report.summary, options.failOn) ? EXIT_FINDINGS : EXIT_OK;
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('Judge manifests offline: files, directories (their .yaml, .yml and .json files) or - for stdin')
    .argument('[paths...]', 'files, directories, or - to read stdin (none with --cluster)')
    .option(
      '--cluster',
      'audit the live cluster instead (kubeconfig: --kubeconfig, else KUBECONFIG or ~/.kube/config); --namespace narrows it to one namespace',
    )
    .option('--kubeconfig <file>', 'with --cluster: the kubeconfig to use')
    .option('--config <file>', 'practice-gate config file (built-in defaults without one)')
    .addOption(
      new Option('--format <format>', 'output format (sarif, junit, github, html: for CI and people, see README "CI")')
        .choices([...FORMATS])
        .default('table'),
    )
    .addOption(
      new Option('--fail-on <action>', 'exit 1 when a non-exempt finding is at least this severe').choices([...FAIL_ON]).default('deny'),
    )
    .option('--namespace <namespace>', 'namespace of documents that name none', nonEmpty('--namespace'), 'default')
    .addOption(
      new Option(
        '--mode <mode>',
        "judge as if the config's mode were this; with --cluster, also print what it would refuse per namespace and policy",
      ).choices(['enforce', 'audit']),
    )
    .addHelpText('after', EXIT_HELP)
    .action(async (paths: string[], options: AuditOptions, command: Command) => {
      if (options.cluster) {
        // @kubernetes/client-node takes about half a second to load: only --cluster pays for it.
        const { clusterAuditCommand } = await import('./cluster-audit.js');
        process.exitCode = await clusterAuditCommand(paths, options, command);
        return;
      }
      if (paths.length === 0) command.error("error: missing required argument 'paths' (or use --cluster)", { exitCode: EXIT_USAGE });
      process.exitCode = await runAudit(paths, options);
    });
}
