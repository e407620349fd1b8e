#!/usr/bin/env node
// Thin launcher: turns on Node's module compile cache, then loads the CLI, bundled into one file
// by `npm run build` (scripts/bundle-cli.mjs).
import module from 'node:module';

// Node 22.1 and later keep the code they compile for these modules on disk (under the OS temp
// directory, or NODE_COMPILE_CACHE), so the next start skips compiling it: the offline audit
// in CI is mostly start-up. Where that directory cannot be written (a read-only root
// filesystem) Node reports it and carries on without the cache; older Node lacks the call.
// It must be on before the bundle is compiled, hence this file rather than a line in the bundle.
module.enableCompileCache?.();
await import('../dist/cli/practice-gate.js');
