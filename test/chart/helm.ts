// Runs helm against charts/practice-gate and parses what it renders. helm comes from
// test/e2e/tools/ensure-tools.sh (its stdout contract: NAME=/abs/path lines); when the
// script cannot provide it, every chart test fails with the script's reason.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { parseAllDocuments } from 'yaml';
import { metaOf } from '../../src/engine/index.js';
import type { KubeObject } from '../../src/engine/index.js';

export const CHART = fileURLToPath(new URL('../../charts/practice-gate', import.meta.url));
export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const ENSURE_TOOLS = fileURLToPath(new URL('../e2e/tools/ensure-tools.sh', import.meta.url));

/** The release every test renders: a namespace other than "default" shows what is derived from it. */
export const RELEASE = 'pg';
export const NAMESPACE = 'pg-system';
export const FULLNAME = 'pg-practice-gate';

let helmPath: string | undefined;

export function helmBinary(): string {
  if (helmPath) return helmPath;
  const run = spawnSync('bash', [ENSURE_TOOLS], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 80 * 60_000 });
  const found = /^HELM=(.+)$/m.exec(run.stdout ?? '');
  if (run.status !== 0 || !found?.[1]) {
    throw new Error(
      `helm is not available: ${ENSURE_TOOLS} exited ${String(run.status ?? run.signal)}` +
        `${found ? '' : ' without printing HELM=...'}:\n${run.stderr ?? ''}`,
    );
  }
  helmPath = found[1].trim();
  return helmPath;
}

export interface HelmRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function helm(args: readonly string[], input?: string): HelmRun {
  const run = spawnSync(helmBinary(), args, {
    encoding: 'utf8',
    input,
    cwd: REPO,
    timeout: 120_000,
    // No cluster: `lookup` returns nothing, capabilities are helm's defaults.
    env: { ...process.env, KUBECONFIG: '/dev/null', HELM_CACHE_HOME: '/tmp/pg-helm-cache', HELM_CONFIG_HOME: '/tmp/pg-helm-config' },
  });
  return { status: run.status, stdout: run.stdout ?? '', stderr: run.stderr ?? '' };
}

/** What a values mistake must do: each [what, helm flags, what the message names] fails the schema. */
export type SchemaCase = [string, string[], RegExp];

export function assertSchemaRejects(t: Test, cases: readonly SchemaCase[]): void {
  for (const [what, flags, names] of cases) {
    const run = helm(['template', RELEASE, CHART, '--namespace', NAMESPACE, ...flags]);
    t.not(run.status, 0, `${what}: fails`);
    t.match(run.stderr, /values don't meet the specifications of the schema/, `${what}: a schema error`);
    t.match(run.stderr, names, `${what}: names the key`, { stderr: run.stderr });
  }
}

/** The values files under charts/practice-gate/ci/, as paths. */
export function ciValuesFiles(): string[] {
  const dir = `${CHART}/ci`;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => `${dir}/${f}`);
}

/** `helm template` output as YAML text; throws with helm's stderr when it fails. */
export function templateText(flags: readonly string[] = []): string {
  const run = helm(['template', RELEASE, CHART, '--namespace', NAMESPACE, ...flags]);
  if (run.status !== 0) throw new Error(`helm template ${flags.join(' ')} failed (${String(run.status)}):\n${run.stderr}`);
  return run.stdout;
}

export function parseObjects(text: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message ?? ''}`);
    const obj = doc.toJS() as KubeObject | null;
    if (obj) out.push(obj);
  }
  return out;
}

export function render(flags: readonly string[] = []): KubeObject[] {
  return parseObjects(templateText(flags));
}

/** The only object of a kind (and name, when given); throws when there is not exactly one. */
export function one<T = Record<string, any>>(objects: readonly KubeObject[], kind: string, name?: string): T {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || metaOf(o).name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, rendered ${found.length}`);
  return found[0] as T;
}

export function kinds(objects: readonly KubeObject[]): string[] {
  return objects.map((o) => String(o.kind)).sort();
}
