'use strict';
const c0 = process.cpuUsage();
const ms = (u) => ((u.user + u.system) / 1000).toFixed(1);
const { enableCompileCache } = require('node:module');
const { join } = require('node:path');
const CLI = join(__dirname, '..', 'dist', 'cli', 'practice-gate.js');
if (enableCompileCache) {
  enableCompileCache();
  require(CLI);
} else require('./code-cache.js').requireWithCodeCache(CLI);
const c1 = process.cpuUsage();
process.on('exit', () => {
  const c2 = process.cpuUsage();
  process.stderr.write(
    `boot ${ms(c0)} load ${ms(process.cpuUsage(c0)) - 0} ${(ms(c1) - ms(c0)).toFixed(1)} run ${(ms(c2) - ms(c1)).toFixed(1)} total ${ms(c2)}\n`,
  );
});
