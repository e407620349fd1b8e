// The layout is the architecture, so a test holds it, as test/engine/purity.test.ts holds the
// engine's purity: modules form no import cycle (type-only imports included: a cycle of types
// is still two modules that cannot be read apart), the cluster code never reaches up into the
// command line, and src/cluster keeps its four parts in their own folders.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const ROOTS = ['src', 'policies'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    // A policy's folder holds its test beside it; tests are no module of the product.
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every module's relative imports (static, type-only, `export from` and `import()`), as repository paths. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of ROOTS.flatMap((root) => sources(join(REPO, root)))) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .map((i) => i.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => relative(REPO, resolve(dirname(file), spec)).replace(/\.js$/, '.ts'));
    graph.set(relative(REPO, file), targets);
  }
  return graph;
}

/** The cycles found by a depth-first walk, each as the chain of modules that closes it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (node: string): void => {
    const at = path.indexOf(node);
    if (at >= 0) {
      found.push([...path.slice(at), node]);
      return;
    }
    if (done.has(node)) return;
    path.push(node);
    for (const next of graph.get(node) ?? []) visit(next);
    path.pop();
    done.add(node);
  };
  for (const node of graph.keys()) visit(node);
  return found;
}

const graph = importGraph();

t.test('every relative import names a module that exists', async (t) => {
  t.ok(graph.size >= 100, `${graph.size} modules read`);
  const missing = [...graph].flatMap(([file, targets]) =>
    targets.filter((target) => !graph.has(target)).map((target) => `${file} -> ${target}`),
  );
  t.same(missing, [], 'the walk sees every import (a path it cannot resolve would hide a cycle)');
});

t.test('no import cycles among the modules of src and policies', async (t) => {
  t.same(
    cycles(graph).map((cycle) => cycle.join(' -> ')),
    [],
  );
});

t.test('the cycle check finds a cycle when there is one', async (t) => {
  const withCycle = new Map(graph);
  withCycle.set('src/cluster/scan/scan-result.ts', [
    ...(graph.get('src/cluster/scan/scan-result.ts') ?? []),
    'src/cluster/scan/scanner.ts',
  ]);
  const found = cycles(withCycle);
  t.ok(found.length > 0, 'the added import closes a cycle');
  for (const cycle of found)
    t.ok(cycle.includes('src/cluster/scan/scan-result.ts') && cycle.includes('src/cluster/scan/scanner.ts'), cycle.join(' -> '));
});

t.test('the cluster code never imports the command line', async (t) => {
  const upward = [...graph]
    .filter(([file]) => file.startsWith('src/cluster/'))
    .flatMap(([file, targets]) => targets.filter((target) => target.startsWith('src/cli/')).map((target) => `${file} -> ${target}`));
  t.same(upward, []);
});

t.test('src/cluster keeps its four parts in their own folders', async (t) => {
  const entries = readdirSync(join(REPO, 'src/cluster'), { withFileTypes: true });
  const folders = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  t.same(folders, ['api', 'certs', 'leader', 'scan'], 'API access and watches, certificates, leader election, the cluster audit');
  const loose = entries
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();
  t.same(loose, ['clock.ts', 'start.ts'], 'at the root only what all four share (the clock) and what ties them together (start)');
});
