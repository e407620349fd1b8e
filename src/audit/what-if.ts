// `practice-gate audit --cluster --mode enforce`: what enforce would refuse today, per namespace
// and policy, before an admin flips the switch. Counted from the audit report of the live
// objects: their deny findings are existing violations (admitted on the UPDATEs that keep them,
// unless the policy says `existingViolations: deny`), and what any new write of the same
// content (a CREATE, a redeploy elsewhere) would have refused.
import type { EngineConfig } from '../engine/index.js';
import type { AuditReport } from './report.js';
import { styler } from './style.js';

export interface WhatIfRow {
  namespace: string;
  policy: string;
  /** Objects with at least one such finding. */
  objects: number;
  /** Deny findings on live objects: refused on CREATE, warned (not refused) on UPDATEs that keep them. */
  existing: number;
  /** ... of those, the ones whose policy has `existingViolations: deny`: the object's next UPDATE is refused too. */
  blockUpdates: number;
  /** Deny findings still answered as warnings because a deadline has not come. */
  pending: number;
}

export interface WhatIf {
  mode: string;
  rows: WhatIfRow[];
  totals: { objects: number; existing: number; blockUpdates: number; pending: number };
}

export function whatIf(report: AuditReport, config: EngineConfig): WhatIf {
  const denyUpdates = new Set(config.active.filter((a) => a.existingViolations === 'deny').map((a) => a.policy.id));
  const rows = new Map<string, WhatIfRow & { seen: Set<string> }>();
  const objects = new Set<string>();
  for (const result of report.results) {
    const id = `${result.kind}/${result.namespace}/${result.name}`;
    for (const f of result.findings) {
      const refused = !f.exempt && f.action === 'deny';
      const pending = !f.exempt && f.refusedFrom !== undefined;
      if (!refused && !pending) continue;
      const key = `${result.namespace}\u0000${f.policy}`;
      let row = rows.get(key);
      if (!row) {
        row = { namespace: result.namespace, policy: f.policy, objects: 0, existing: 0, blockUpdates: 0, pending: 0, seen: new Set() };
        rows.set(key, row);
      }
      if (!row.seen.has(id)) {
        row.seen.add(id);
        row.objects++;
      }
      objects.add(id);
      if (pending) row.pending++;
      else {
        row.existing++;
        if (denyUpdates.has(f.policy)) row.blockUpdates++;
      }
    }
  }
  const list = [...rows.values()]
    .map(({ seen: _seen, ...row }) => row)
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.policy.localeCompare(b.policy));
  const sum = (k: 'existing' | 'blockUpdates' | 'pending') => list.reduce((n, r) => n + r[k], 0);
  return {
    mode: config.mode,
    rows: list,
    totals: { objects: objects.size, existing: sum('existing'), blockUpdates: sum('blockUpdates'), pending: sum('pending') },
  };
}

const HEAD = ['NAMESPACE', 'POLICY', 'OBJECTS', 'EXISTING', 'BLOCK UPDATES', 'PENDING'];

export function formatWhatIf(report: WhatIf, options: { color: boolean }): string {
  const style = styler(options.color);
  const title = style('bold', `What ${report.mode} would refuse today, per namespace and policy:`);
  if (report.rows.length === 0) return `${title}\nnothing: no live object has a finding that would be refused.\n`;
  const cells = [
    HEAD,
    ...report.rows.map((r) => [r.namespace, r.policy, String(r.objects), String(r.existing), String(r.blockUpdates), String(r.pending)]),
  ];
  const widths = HEAD.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const lines = cells.map((row) =>
    row
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  const { objects, existing, blockUpdates, pending } = report.totals;
  return [
    title,
    ...lines,
    '',
    `${objects} live ${objects === 1 ? 'object' : 'objects'}: ${existing} existing ${existing === 1 ? 'violation' : 'violations'} that new writes (CREATEs) of the same content would have refused;`,
    `UPDATEs that keep them are admitted with a warning, except ${blockUpdates} under existingViolations: deny, which refuse the object's next UPDATE.`,
    `${pending} more ${pending === 1 ? 'is' : 'are'} only warned until a deadline (policy from: or the namespace's practice-gate.io/enforce-from label).`,
    '',
  ].join('\n');
}
