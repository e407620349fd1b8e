#!/usr/bin/env node
// Thin launcher so the published bin works without a build step in the path.
import module from 'node:module';

// Node 22.1 and later keep the code they compile for these modules on disk (under the OS temp
// directory, or NODE_COMPILE_CACHE), so the next start skips compiling it: the offline audit
// in CI is mostly start-up. Where that directory cannot be written (a read-only root
// filesystem) Node reports it and carries on without the cache; older Node lacks the call.
module.enableCompileCache?.();
await import('../dist/src/cli/main.js');
