#!/usr/bin/env node
// Thin launcher: keeps the compiled CLI between runs, then loads it. The CLI is bundled into one
// CommonJS file by `npm run build` (scripts/bundle-cli.mjs); this directory and dist/cli are
// CommonJS (their package.json), which Node starts without its ES module loader.
'use strict';
const { enableCompileCache } = require('node:module');
const { join } = require('node:path');

const CLI = join(__dirname, '..', 'dist', 'cli', 'practice-gate.js');

// A one-chart audit in CI is mostly start-up, and compiling the bundle is a good part of it.
// Node 22.1 and later keep the code they compile on disk (under the OS temp directory, or
// NODE_COMPILE_CACHE) and skip compiling it at the next start; where that directory cannot be
// written (a read-only root filesystem) Node carries on without the cache. It must be on before
// the bundle is compiled, hence this file rather than a line in the bundle. Node 20 lacks the
// call: code-cache.js does the same for the bundle with V8's code cache.
if (enableCompileCache) {
  enableCompileCache();
  require(CLI);
} else {
  require('./code-cache.js').requireWithCodeCache(CLI);
}
