// The Node flags and environment the chart starts the webhook with
// (charts/practice-gate/templates/deployment.yaml), read from its template: bench:large starts its
// server with them, so that what it measures is the process a pod runs, not V8's and glibc's
// defaults for the bench machine.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

// From bench/lib/ as the tests run it, or from dist/bench/lib/ as built.
const ROOT = new URL(import.meta.url.includes('/dist/bench/') ? '../../../' : '../../', import.meta.url);
const DEPLOYMENT = new URL('charts/practice-gate/templates/deployment.yaml', ROOT);
const VALUES = new URL('charts/practice-gate/values.yaml', ROOT);

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

/** The container's memory limit in the chart's values, in MiB (`Mi` or `Gi`). */
export function chartMemoryLimitMiB(): number {
  const values = parse(readFileSync(VALUES, 'utf8')) as { resources?: { limits?: { memory?: unknown } } };
  const limit = String(values.resources?.limits?.memory ?? '');
  const match = /^(\d+)(Mi|Gi)$/.exec(limit);
  if (!match) throw new Error(`resources.limits.memory in ${VALUES.pathname} is ${limit || 'not set'}: not in Mi or Gi`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

/**
 * The flag that gives V8 outside a container the old-generation limit it takes inside one with the
 * chart's memory limit. Measured on Node 24: under 256Mi, 384Mi and 512Mi memory cgroups the heap limit
 * is 304 MiB, as with `--max-old-space-size=256` and no cgroup (under 2Gi it is 1,072: the rule is
 * not one fraction, so larger limits are not guessed). V8 grows the heap less between full
 * collections when its limit is that small, so a server without it (4 GiB on the 24 GiB bench
 * machine) collects less often than a pod does.
 */
export function podOldSpaceFlag(limitMiB = chartMemoryLimitMiB()): string {
  if (limitMiB > 512)
    throw new Error(`a ${limitMiB} MiB memory limit: run the server in such a memory cgroup (BENCH_MEMORY_CGROUP) instead`);
  return '--max-old-space-size=256';
}
