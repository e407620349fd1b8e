// The least a one-chart audit can do: read the file, parse its YAML with the parser the CLI bundles
// (js-yaml), and write one line. bench:startup bundles it and loads it through the code cache as the
// CLI is, and times it beside the audit: the part of the start-up that no change to practice-gate's
// own code can remove. It exits as the CLI does, without tearing down the heap (src/cli/main.ts).
'use strict';
const { readFileSync } = require('node:fs');
const { loadAll } = require('js-yaml');

process.once('beforeExit', () => process.exit());
const documents = loadAll(readFileSync(process.argv[2] ?? '/dev/stdin', 'utf8'));
process.stdout.write(`${documents.length} documents\n`);
