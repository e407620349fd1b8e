// `practice-gate fix`, loaded only when that command runs.
import { createTwoFilesPatch } from 'diff';
import { STDIN, formatProblem, readSources, writeStdout } from '../audit/index.js';
import { planFixes, writeAtomically } from '../fix/run.js';
import type { Fixed } from '../fix/run.js';
import { engineConfig } from './audit.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from './exit.js';

export interface FixOptions {
  config?: string;
  diff?: boolean;
  namespace: string;
}

const where = (f: Fixed): string => `${f.source}${f.line !== undefined ? `:${f.line}` : ''}`;
const what = (f: Fixed): string => `${f.object}${f.finding.container !== undefined ? ` container "${f.finding.container}"` : ''}`;

export async function runFix(paths: string[], options: FixOptions): Promise<number> {
  const config = await engineConfig(options.config);
  if (config === undefined) return EXIT_USAGE;
  const say = (text: string): void => void process.stderr.write(`practice-gate: ${text}\n`);
  if (paths.includes(STDIN)) {
    say('fix rewrites files: name them (for a stream, use audit)');
    return EXIT_USAGE;
  }
  const read = await readSources(paths, async () => '');
  const outcome = planFixes(read.texts, config, options.namespace);
  const problems = [...read.problems, ...outcome.problems];
  for (const problem of problems) say(formatProblem(problem));

  // With --diff, stdout is the patch (for `git apply`); the account goes to stderr.
  const report: string[] = [];
  for (const f of outcome.fixed) report.push(`fixed      ${where(f)}  ${what(f)}: ${f.finding.path}: ${JSON.stringify(f.value)}`);
  for (const f of outcome.notFixed) report.push(`not fixed  ${where(f)}  ${what(f)}: ${f.finding.policy}: ${f.reason}`);
  const { deny, warn, audit } = outcome.remaining;
  const files = outcome.changed.size;
  report.push(
    `${options.diff ? 'would change' : 'changed'} ${files} file${files === 1 ? '' : 's'} (${outcome.fixed.length} fixes); left: ${deny} deny, ${warn} warn, ${audit} audit`,
  );

  if (options.diff) {
    for (const [source, { before, after }] of outcome.changed)
      writeStdout(createTwoFilesPatch(`a/${source}`, `b/${source}`, before, after, undefined, undefined, { context: 3 }));
    for (const line of report) process.stderr.write(`${line}\n`);
  } else {
    for (const [source, { after }] of outcome.changed) {
      try {
        writeAtomically(source, after);
      } catch (err) {
        say(`${source}: cannot write: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        problems.push({ source, message: 'not written' });
      }
    }
    writeStdout(`${report.join('\n')}\n`);
  }
  if (problems.length > 0) return EXIT_USAGE;
  return deny > 0 ? EXIT_FINDINGS : EXIT_OK;
}
