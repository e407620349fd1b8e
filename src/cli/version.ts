import { readFileSync } from 'node:fs';

/**
 * The version in package.json. The file sits two levels above this module in the source tree
 * and three in the build (dist/src/cli), and beside dist/ in the image: the first one that is
 * practice-gate's own answers.
 */
export function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'practice-gate' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not there in this layout: try the next
    }
  }
  return 'unknown';
}
