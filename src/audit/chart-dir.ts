import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A Helm chart's templates are Go templates, not manifests: read as YAML they give thousands of
 * errors and no verdict. A directory with a Chart.yaml is told apart, with the command that
 * renders it (quoted for a shell when it has to be).
 */
export function chartDirectoryMessage(dir: string): string | undefined {
  if (!existsSync(join(dir, 'Chart.yaml'))) return undefined;
  const quoted = /^[\w@%+=:,./-]+$/.test(dir) ? dir : `'${dir.replace(/'/g, `'\\''`)}'`;
  return `a Helm chart, not rendered manifests: render it first: helm template my-release ${quoted} | practice-gate audit -`;
}
