// npm test runs the unit tests in a few processes, one per suite, instead of one per file. tap
// starts each file in its own node with tsx and its process-info hook, ~1.9 s of CPU before the
// first assertion; with 112 files that start-up was half of npm test's time. A suite imports its
// files one after another into one process, so each file's tests still run in order, and a file
// still runs alone with `npx tap path/to/file.test.ts`.
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import t from 'tap';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface SuiteSpec {
  /** Folders (relative to the repository) whose test files it runs; none: every file no other suite runs. */
  folders: readonly string[];
  /** Split into this many suites (`<name>-1`, `<name>-2`, ...), files dealt in turn, so tap's two jobs stay busy. */
  parts?: number;
}

/** The catch-all suite: unit test files in no other suite's folders, a new folder's too. */
export const OTHER = 'other';

/** Suites by folder. */
const SPECS: Readonly<Record<string, SuiteSpec>> = {
  policies: { folders: ['policies', 'test/policies'] },
  cli: { folders: ['test/cli'], parts: 3 },
  server: { folders: ['test/server'], parts: 2 },
  cluster: { folders: ['test/cluster'] },
  [OTHER]: { folders: [], parts: 2 },
};

/** Every suite's name; test/suites/<name>.test.ts runs it. */
export const SUITE_NAMES: readonly string[] = Object.entries(SPECS).flatMap(([name, spec]) =>
  spec.parts ? Array.from({ length: spec.parts }, (_, i) => `${name}-${i + 1}`) : [name],
);

/** Run by `npm run test:e2e` only: they need etcd, kube-apiserver or helm. */
export const E2E_ONLY: readonly string[] = [
  'test/e2e',
  'test/chart/audit.test.ts',
  'test/chart/lint.test.ts',
  'test/chart/monitoring.test.ts',
  'test/chart/render.test.ts',
  'test/chart/security-context.test.ts',
  'test/chart/serve.test.ts',
];

const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', '.tap', 'fixtures']);

const under = (file: string, folder: string): boolean => file === folder || file.startsWith(`${folder}/`);

/** Every unit test file of the repository (posix paths relative to it), sorted. */
export function unitTestFiles(): string[] {
  const found: string[] = [];
  for (const top of ['policies', 'test']) {
    for (const entry of readdirSync(join(ROOT, top), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.test.ts')) continue;
      const file = relative(ROOT, join(entry.parentPath, entry.name)).split(sep).join('/');
      if (file.split('/').some((part) => SKIPPED_DIRS.has(part))) continue;
      if (under(file, 'test/suites') || E2E_ONLY.some((e) => under(file, e))) continue;
      found.push(file);
    }
  }
  return found.sort();
}

const inFolders = (file: string, folders: readonly string[]): boolean => folders.some((d) => under(file, d));

/** The files of one suite. */
export function suiteFiles(name: string, files = unitTestFiles()): string[] {
  const [, base = name, part] = /^(.*)-(\d+)$/.exec(name) ?? [];
  const spec = Object.hasOwn(SPECS, base) ? SPECS[base] : undefined;
  const index = Number(part ?? 1);
  if (!spec || (spec.parts !== undefined) !== (part !== undefined) || index < 1 || index > (spec.parts ?? 1))
    throw new Error(`no suite ${name}`);
  const mine =
    spec.folders.length > 0
      ? files.filter((f) => inFolders(f, spec.folders))
      : files.filter((f) => !Object.values(SPECS).some((other) => inFolders(f, other.folders)));
  return spec.parts ? mine.filter((_, i) => i % (spec.parts ?? 1) === index - 1) : mine;
}

/**
 * Imports `files` in order inside one test of tap's root, so their tests, registered on the root,
 * run after every file is imported. Without it the root could end between two imports: once a
 * file has called `t.teardown` at its top level, tap ends the root whenever its queue runs dry,
 * and a later file still being compiled (tsx on a cold cache) lost its tests to "cannot create
 * subtest after parent test ends".
 */
export async function importTestFiles(label: string, files: readonly string[]): Promise<void> {
  await t.test(`${label}: import ${files.length} test files`, async () => {
    for (const file of files) await import(pathToFileURL(file).href);
  });
}

/** Runs one suite: its files' tests as they would run alone, one file after another. */
export async function runSuite(name: string): Promise<void> {
  await importTestFiles(
    `suite ${name}`,
    suiteFiles(name).map((file) => join(ROOT, file)),
  );
}
