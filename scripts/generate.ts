// `npm run generate`: writes the files that follow from the policy registry and that tools other
// than ours read (helm reads the chart). policies/index.ts itself comes from
// scripts/policy-registry.mjs, which runs first. test/chart/generated.test.ts fails while a
// committed file differs from what this writes.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { POLICIES } from '../policies/index.js';
import {
  CHART_REGISTRY_FILE,
  VALUES_SCHEMA_FILE,
  VALUES_SCHEMA_SOURCE,
  chartRegistryYaml,
  valuesSchemaJson,
} from '../src/registry/chart.js';

// Compiled to dist/scripts/: the repository is two levels up.
const REPO = fileURLToPath(new URL('../../', import.meta.url));

function write(file: string, text: string): void {
  const path = `${REPO}${file}`;
  let old = '';
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    // A new file.
  }
  if (old === text) return;
  writeFileSync(path, text);
  process.stderr.write(`${file} written\n`);
}

const source = JSON.parse(readFileSync(`${REPO}${VALUES_SCHEMA_SOURCE}`, 'utf8')) as Record<string, unknown>;
write(CHART_REGISTRY_FILE, chartRegistryYaml(POLICIES));
write(VALUES_SCHEMA_FILE, valuesSchemaJson(source, POLICIES));
