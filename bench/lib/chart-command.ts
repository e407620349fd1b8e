// The Node flags the chart starts the webhook with (charts/practice-gate/templates/deployment.yaml),
// read from its command line: bench:large starts its server with them, so that what it measures
// is the process a pod runs, not V8's defaults for the bench machine's memory.
import { readFileSync } from 'node:fs';

// From bench/lib/ as the tests run it, or from dist/bench/lib/ as built.
const ROOT = new URL(import.meta.url.includes('/dist/bench/') ? '../../../' : '../../', import.meta.url);
const DEPLOYMENT = new URL('charts/practice-gate/templates/deployment.yaml', ROOT);

/** The flags between `node` and the script in a `["node", ...flags, script, ...args]` command. */
export function nodeFlags(command: readonly string[]): string[] {
  const script = command.findIndex((arg, i) => i > 0 && !arg.startsWith('-'));
  return command.slice(1, script);
}

/** The flags between `node` and the script in the webhook container's command. */
export function chartNodeFlags(): string[] {
  const template = readFileSync(DEPLOYMENT, 'utf8');
  const line = /^\s*command: (\["node",.*\])$/m.exec(template)?.[1];
  if (line === undefined) throw new Error(`no ["node", ...] command in ${DEPLOYMENT.pathname}`);
  return nodeFlags(JSON.parse(line) as string[]);
}
