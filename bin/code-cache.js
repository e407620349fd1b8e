// A compile cache for the one file that matters (bin/practice-gate.js says why not Node's own):
// loads the bundled CLI as require() would, compiling it with V8's code cache kept in a directory
// of the user's, so a start deserialises the compiled code instead of parsing and compiling ~700 KB.
// The cache is written after the run (it then holds the functions the run compiled too), only when
// there was none or V8 refused it (another Node, other V8 flags). Every failure (no writable
// directory, a read-only filesystem, a broken file) falls back silently to compiling as usual.
'use strict';
const fs = require('node:fs');
const Module = require('node:module');
const { tmpdir } = require('node:os');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

/**
 * Where the code cache of `file` lives, or undefined when there is no safe place. Named by the
 * Node release and the file (device and inode), then by its size and mtime, which a rebuild
 * changes; V8 checks the release, its flags and the source length besides. The directory must be
 * the user's own and closed to others: a planted cache would be code run as the user.
 */
function cachePath(file) {
  if (process.env.NODE_DISABLE_COMPILE_CACHE || typeof process.getuid !== 'function') return undefined;
  const dir = join(process.env.NODE_COMPILE_CACHE || join(tmpdir(), 'node-compile-cache'), 'practice-gate');
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const owner = fs.statSync(dir);
    if (owner.uid !== process.getuid() || (owner.mode & 0o022) !== 0) return undefined;
    const stat = fs.statSync(file);
    return {
      dir,
      same: `${process.version}-${process.arch}-${stat.dev}-${stat.ino}-`,
      name: `${stat.size}-${Math.trunc(stat.mtimeMs)}.v8cache`,
    };
  } catch {
    return undefined;
  }
}

/** Writes the cache, and removes the caches of earlier builds of the same file by the same Node. */
function save(cache, script) {
  const path = join(cache.dir, cache.same + cache.name);
  const partial = `${path}.${process.pid}`;
  try {
    fs.writeFileSync(partial, script.createCachedData(), { mode: 0o600 });
    fs.renameSync(partial, path);
    for (const old of fs.readdirSync(cache.dir)) {
      if (old.startsWith(cache.same) && old.endsWith('.v8cache') && old !== cache.same + cache.name)
        fs.rmSync(join(cache.dir, old), { force: true });
    }
  } catch {
    fs.rmSync(partial, { force: true });
  }
}

/** require(file), compiled with the code cache where it can be. */
function requireWithCodeCache(file) {
  // Node maps stack traces through the bundle's source map (--enable-source-maps) only for what
  // its own loader compiled.
  if (process.sourceMapsEnabled) return require(file);
  const source = fs.readFileSync(file, 'utf8');
  const cache = cachePath(file);
  let cachedData;
  if (cache !== undefined) {
    try {
      cachedData = fs.readFileSync(join(cache.dir, cache.same + cache.name));
    } catch {
      // none yet
    }
  }
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  if (cache !== undefined && (cachedData === undefined || script.cachedDataRejected)) process.once('exit', () => save(cache, script));
  const module = new Module(file, null);
  module.filename = file;
  require.cache[file] = module;
  script.runInThisContext()(module.exports, Module.createRequire(file), module, file, dirname(file));
  module.loaded = true;
  return module.exports;
}

module.exports = { requireWithCodeCache };
