// The Node flags and environment the chart starts the webhook with
// (charts/practice-gate/templates/deployment.yaml), read from its template: bench:large starts its
// server with them, so that what it measures is the process a pod runs, not V8's and glibc's
// defaults for the bench machine.
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

/**
 * The webhook container's environment variables that the template gives a fixed value (`value:`
 * right under `- name:`), not those taken from the pod (`valueFrom`).
 */
export function chartEnv(): Record<string, string> {
  const template = readFileSync(DEPLOYMENT, 'utf8');
  const fixed = template.matchAll(/^\s*- name: ([A-Z_][A-Z0-9_]*)\n\s*value: (\S+)$/gm);
  return Object.fromEntries([...fixed].map(([, name, value]) => [name as string, value as string]));
}
