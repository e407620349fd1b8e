#!/usr/bin/env node
// Thin launcher: keeps the compiled CLI between runs, then loads it. The CLI is bundled into one
// CommonJS file by `npm run build` (scripts/bundle-cli.mjs); this directory and dist/cli are
// CommonJS (their package.json), which Node starts without its ES module loader.
'use strict';
const { enableCompileCache } = require('node:module');
const { join } = require('node:path');

const CLI = join(__dirname, '..', 'dist', 'cli', 'practice-gate.js');

// A one-chart audit in CI is mostly start-up, and compiling the bundle is a good part of it.
// code-cache.js compiles it with V8's code cache, written after the first run so that it holds
// every function that run compiled: Node's own module compile cache (Node >= 22.1) stores a module
// as compiled at load, without the functions compiled lazily afterwards, and starts the audit
// ~15 ms of CPU slower on Node 24; Node 20 has none. Node's cache is still turned on for what the
// bundle requires from node_modules (the server's packages). Both carry on without a cache where
// none can be written (a read-only root filesystem).
enableCompileCache?.();
require('./code-cache.js').requireWithCodeCache(CLI);
