import { readFileSync } from 'node:fs';
import picomatch from 'picomatch';
import { parse } from 'yaml';
import { z } from 'zod';
import { POLICIES } from '../../policies/index.js';
import { ACTIONS, DEFAULT_CONFIG, MODES, WORKLOAD_KINDS, compileConfig, judgedKinds } from '../engine/index.js';
import type { Action, Config, EngineConfig, Policy } from '../engine/index.js';
import { describeFileError } from '../files/errors.js';
import { RuleCompileError, compileRules, ruleIds, ruleSchema } from '../rules/index.js';
import { instant, policyRollout, rolloutFields, splitRollout } from './rollout.js';

/** A config problem, already phrased for the admin: file, key, and what is allowed. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const REASON_NEEDED = 'every exemption needs a reason, so reviewers know why it exists';

function schemaFor(registry: readonly Policy[], customIds: readonly string[] = []) {
  const builtIn = registry.map((p) => p.id);
  const ids = [...builtIn, ...customIds];
  // What an exemption's kinds can name: the kinds the engine judges.
  const kinds = judgedKinds(registry);
  // A kind glob that matches nothing (`deployment`) would silently exempt nothing.
  const kindGlob = z
    .string()
    .min(1)
    .refine(
      (glob) => {
        const matches = picomatch(glob, { dot: true });
        return kinds.some((kind) => matches(kind));
      },
      {
        error: (issue) => `"${String(issue.input)}" matches no kind practice-gate judges (kinds are case-sensitive): ${kinds.join(', ')}`,
      },
    );
  const action = z.enum(ACTIONS as [Action, ...Action[]]);
  const policySetting = z.union([action, policyRollout(action)]);
  const globs = z.array(z.string().min(1)).min(1);
  const exemption = z
    .strictObject({
      namespaces: globs.optional(),
      names: globs.optional(),
      kinds: z.array(kindGlob).min(1).optional(),
      policies: z
        .array(z.enum(ids as [string, ...string[]]))
        .min(1)
        .optional(),
      reason: z.string({ error: REASON_NEEDED }).trim().min(1, REASON_NEEDED),
      expires: instant.optional(),
    })
    .refine((e) => e.namespaces || e.names || e.kinds, {
      message: 'an exemption must name namespaces, names or kinds (an exemption for everything would switch practice-gate off)',
    });
  // A third-party controller whose writes for an owner are only recorded: its identity must be exact.
  const controller = z.strictObject({
    username: z.string().trim().min(1),
    kinds: z.array(z.enum(WORKLOAD_KINDS as [string, ...string[]])).min(1),
    ownerKinds: z.array(z.string().trim().min(1)).min(1),
  });
  return z.strictObject({
    mode: z.enum(MODES as ['enforce', 'audit']).default('enforce'),
    policies: z.partialRecord(z.enum(ids as [string, ...string[]]), policySetting).default({}),
    exemptions: z.array(exemption).default([]),
    objectExemptions: z.boolean().default(false),
    controllers: z.array(controller).optional(),
    rules: z.array(ruleSchema(policySetting, kinds, builtIn)).default([]),
    ...rolloutFields,
  });
}

function keyPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('');
}

function describeIssue(issue: z.core.$ZodIssue, registry: readonly Policy[]): string {
  const where = keyPath(issue.path);
  const known = registry.map((p) => p.id).join(', ');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const keys = issue.keys.map((k) => `"${k}"`).join(', ');
      if (issue.path.length === 1 && issue.path[0] === 'policies') return `${where}: unknown policy ${keys}; known policies: ${known}`;
      return `${where}: unknown key ${keys}`;
    }
    case 'invalid_union': {
      // A policy written as an object: name the field inside it that is wrong.
      const inner = issue.errors.flat().filter((i) => i.path.length > 0);
      if (inner.length > 0) return inner.map((i) => describeIssue({ ...i, path: [...issue.path, ...i.path] }, registry)).join('\n  ');
      return `${where}: must be one of ${ACTIONS.join(', ')}, or { action: <one of those> }`;
    }
    case 'invalid_value':
      if (issue.path[0] === 'exemptions' && issue.path.includes('policies')) return `${where}: unknown policy; known policies: ${known}`;
      return `${where}: must be one of ${issue.values.map(String).join(', ')}`;
    default:
      return `${where}: ${issue.message}`;
  }
}

/** Validates a parsed config document. `source` names the file in errors. */
export function parseConfig(document: unknown, source: string, registry: readonly Policy[] = POLICIES): Config {
  if (document === null || document === undefined) return structuredClone(DEFAULT_CONFIG);
  const result = schemaFor(registry, ruleIds(document)).safeParse(document);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${describeIssue(i, registry)}`);
    throw new ConfigError(`invalid config ${source}:\n${lines.join('\n')}`);
  }
  const { rules: specs, ...parsed } = result.data;
  let rules: Policy[];
  try {
    rules = compileRules(specs, source);
  } catch (err) {
    if (err instanceof RuleCompileError) throw new ConfigError(`invalid config ${source}:\n  ${err.message}`);
    throw err;
  }
  // A rule's action is its entry in `policies`: deadlines and existing violations work as for built-ins.
  const config = splitRollout({ ...parsed, policies: { ...parsed.policies, ...Object.fromEntries(specs.map((r) => [r.id, r.action])) } });
  if (rules.length > 0) config.rules = rules;
  return config;
}

export function parseConfigText(text: string, source: string, registry: readonly Policy[] = POLICIES): Config {
  let document: unknown;
  try {
    document = parse(text);
  } catch (err) {
    throw new ConfigError(`invalid config ${source}: not valid YAML: ${(err as Error).message}`);
  }
  // A truncated or half-written file looks the same as an empty one; read as "all defaults" it
  // would drop every exemption and switch audit mode to enforce without a word.
  if (document === null || document === undefined) {
    throw new ConfigError(
      `invalid config ${source}: the file is empty (nothing but whitespace, comments or null); write {} to run every policy with its default`,
    );
  }
  return parseConfig(document, source, registry);
}

/** The text of a config file; one that cannot be read is a ConfigError naming the file and why. */
export function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config ${file}: ${describeFileError(err)}`);
  }
}

export function loadConfigFile(file: string, registry: readonly Policy[] = POLICIES): Config {
  return parseConfigText(readConfigText(file), file, registry);
}

/** The engine config for a config file, or the defaults when no file is given. */
export function loadEngineConfig(file: string | undefined, registry: readonly Policy[] = POLICIES): EngineConfig {
  const config = file === undefined ? DEFAULT_CONFIG : loadConfigFile(file, registry);
  return compileConfig(config, registry);
}
