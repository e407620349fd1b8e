import { readFileSync } from 'node:fs';
import type { EngineConfig, Policy } from '../../engine/index.js';
import type { FailOn } from '../report.js';
import type { FormatContext } from './rules.js';

/** practice-gate's own version, from the package.json above this module (in src/ and in dist/src/ alike). */
function packageVersion(): string | undefined {
  for (let dir = new URL('./', import.meta.url), i = 0; i < 6; dir = new URL('../', dir), i++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'practice-gate') return pkg.version;
    } catch {
      // not here: one level up
    }
  }
  return undefined;
}

/** What the report formats need from the registry and the config. */
export function formatContext(config: EngineConfig, policies: readonly Policy[], failOn: FailOn): FormatContext {
  const version = packageVersion();
  return {
    policies: policies.map(({ id, title, why, fix, kinds }) => ({ id, title, why, fix, kinds })),
    active: config.active.map((a) => a.policy.id),
    failOn,
    ...(version !== undefined ? { version } : {}),
  };
}
