// The engine is one pure function: the webhook, the offline audit and the cluster audit all trust
// it to do no I/O, so that a review never waits on a disk, a socket or the API server. Checked at
// the source: the engine and the policies import only each other and picomatch (glob matching).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const PURE_ROOTS = ['src/engine', 'policies'].map((d) => join(REPO, d));
const ALLOWED_PACKAGES = new Set(['picomatch']);
// Names that mean I/O or time even without an import.
const IMPURE_GLOBALS = /\b(process\.|require\(|fetch\(|setTimeout\(|setInterval\(|Date\.now\(|new Date\(|performance\.now\(|console\.)/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    // A policy's folder holds its tests too: those are no part of the engine.
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = PURE_ROOTS.flatMap(sources);

t.test('the engine and policies import only each other and picomatch', async (t) => {
  t.ok(files.length >= 15, `${files.length} files checked`);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const specifiers = [
      ...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm),
      ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
    ].map((m) => m[1] ?? '');
    for (const spec of specifiers) {
      const where = relative(REPO, file);
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        t.ok(
          PURE_ROOTS.some((root) => target.startsWith(`${root}/`)),
          `${where}: ${spec} stays inside the engine and policies`,
        );
      } else {
        t.ok(ALLOWED_PACKAGES.has(spec), `${where}: imports ${spec}`);
      }
    }
  }
});

t.test('no clock, timer, process or console in the engine', async (t) => {
  for (const file of files) {
    const code = readFileSync(file, 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
    t.notMatch(code, IMPURE_GLOBALS, relative(REPO, file));
  }
});
