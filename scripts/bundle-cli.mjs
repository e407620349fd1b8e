// Bundles the CLI into one file, dist/cli/practice-gate.js, the file bin/practice-gate.js and the
// image run. A one-chart `practice-gate audit` is mostly Node start-up: loading ~60 modules one by
// one cost more than judging the chart, one file costs one read and one compile (or one
// compile-cache hit). docs/performance.md, "Start-up".
//
// What goes in: the CLI entry and everything it imports, policies included, from the sources
// (not tsc's output, which `npm run build` still writes for the tests), plus the dependencies an
// offline audit runs on every start (BUNDLED). Every other runtime dependency (the server's
// fastify, pino and prom-client, @kubernetes/client-node, zod, yaml, node-forge, ...) stays a
// package in node_modules and is required the first time the code that uses it runs: bundled,
// they would make every start read and compile megabytes the audit never runs; imported as
// externals by an ES module, they would all load at start, since imports are hoisted.
// A dependency added later is left out (and so costs nothing at start) unless it is named here.
import { readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const ROOT = new URL('../', import.meta.url);
const OUT = 'dist/cli/practice-gate.js';

/** Dependencies the offline audit needs on every start: parsing flags, YAML, and path globs. */
export const BUNDLED = ['commander', 'js-yaml', 'picomatch'];

const pkg = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8'));
const lazy = Object.keys(pkg.dependencies).filter((name) => !BUNDLED.includes(name));
const escape = (name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const LAZY = new RegExp(`^(${lazy.map(escape).join('|')})(/.*)?$`);

// An import of a lazy package becomes a CommonJS module of one line: esbuild evaluates it (and so
// requires the package) only when the module importing it is first initialised. Node's require
// loads ES-module-only packages too (Node >= 20.19 and 22.12: @kubernetes/client-node is one).
// Node's own modules are plain externals: in a CommonJS bundle, esbuild requires them where they
// are imported, so the server's node:http, node:tls and node:net load only with the server, and
// a named import reads the module as it is. Through a module of one line, esbuild would copy every
// property of the module at load (its __toESM): on Node 24, node:util's lazy properties then load
// worker_threads, parseArgs, util.diff and more at every start.
const lazyPackages = {
  name: 'lazy-packages',
  setup(build) {
    // commander requires child_process (and with it net and dgram) at load, for the executable
    // subcommands practice-gate does not have: hand it the module on first use instead.
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /node_modules\/commander\//.test(args.importer) ? { path: 'child_process', namespace: 'lazy-child-process' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });",
      loader: 'js',
    }));
    build.onResolve({ filter: LAZY }, (args) =>
      args.namespace === 'lazy-package' ? { path: args.path, external: true } : { path: args.path, namespace: 'lazy-package' },
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-package' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
      resolveDir: new URL('.', ROOT).pathname,
    }));
  },
};

const common = {
  absWorkingDir: new URL('.', ROOT).pathname,
  bundle: true,
  platform: 'node',
  // A CommonJS script, not an ES module: Node starts it without its ES module loader (on Node 20
  // that loader and the module's compile were ~40 ms of CPU per start), Node 22+ keeps it in the
  // module compile cache all the same, and on Node 20 bin/code-cache.js can keep it compiled.
  // The sources' ES module idioms are rewritten: import.meta.url becomes the file's URL, and the
  // command modules reached through import() stay lazy (esbuild wraps them).
  format: 'cjs',
  target: 'node20.12',
  define: { 'import.meta.url': '__bundleUrl' },
  // "use strict" first, where it is a directive (esbuild's own comes after the banner).
  banner: { js: "'use strict';\nvar __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [lazyPackages],
  // Without comments and spaces (names are kept): a start reads the whole file into a string, and
  // a comment of js-yaml's with typographic quotes made all of the ~780 KB a two-byte string. Now
  // ~530 KB of ASCII. Stack traces map back to src/ when Node runs with --enable-source-maps
  // (the image does).
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'linked',
  logLevel: 'warning',
};

await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: OUT });
// The package is "type": "module"; this makes the .js files of dist/cli CommonJS, under the names
// the bin, the image and the chart already run.
writeFileSync(new URL('dist/cli/package.json', ROOT), `${JSON.stringify({ type: 'commonjs' })}\n`);
// The worker that parses large AdmissionReviews (src/server/body-pool.ts) is loaded by path, from
// beside the module that starts it: in the bundle, that is beside the CLI.
await build({ ...common, entryPoints: ['src/server/body-worker.ts'], outfile: 'dist/cli/body-worker.js' });
