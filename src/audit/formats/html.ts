// One self-contained HTML page for a person: where the manifests (or the cluster) stand, by
// policy and namespace, and every object with its findings and the YAML that fixes them.
// Everything is inline and a Content-Security-Policy forbids every fetch, so the page works
// from a CI artifact, an email or a laptop offline, and cannot leak what it shows.
import type { FindingAction } from '../../engine/index.js';
import type { AuditFinding, AuditReport, AuditResult } from '../report.js';
import { formatProblem } from '../sources.js';
import { ACTION_ORDER, allFindings } from './rules.js';
import type { FormatContext } from './rules.js';

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

type Column = FindingAction | 'exempt';
const COLUMNS: readonly Column[] = [...ACTION_ORDER, 'exempt'];
const columnOf = (f: AuditFinding): Column => (f.exempt ? 'exempt' : f.action);

function countTable(title: string, rows: Map<string, Record<Column, number>>, key: string): string {
  const head = `<tr><th>${escapeHtml(key)}</th>${COLUMNS.map((c) => `<th>${c}</th>`).join('')}</tr>`;
  const body = [...rows.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(
      ([name, counts]) =>
        `<tr><td>${escapeHtml(name)}</td>${COLUMNS.map((c) => `<td class="n ${counts[c] > 0 ? c : ''}">${counts[c]}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<section><h2>${escapeHtml(title)}</h2><table>${head}${body}</table></section>`;
}

function tally(report: AuditReport, keyOf: (r: AuditResult, f: AuditFinding) => string): Map<string, Record<Column, number>> {
  const rows = new Map<string, Record<Column, number>>();
  for (const { result, finding } of allFindings(report)) {
    const key = keyOf(result, finding);
    const row = rows.get(key) ?? { deny: 0, warn: 0, audit: 0, exempt: 0 };
    row[columnOf(finding)]++;
    rows.set(key, row);
  }
  return rows;
}

function whereOf(result: AuditResult, f?: AuditFinding): string {
  const file = result.template !== undefined ? `${result.template} in ${result.source}` : result.source;
  if (f?.line !== undefined) return `${file}:${f.line}:${f.column ?? 1}`;
  if (result.line !== undefined) return `${file}:${result.line}`;
  return result.document !== undefined ? `${file}, document ${result.document}` : file;
}

function findingHtml(result: AuditResult, f: AuditFinding): string {
  const column = columnOf(f);
  const label = f.exempt ? `exempt (${f.action} if not exempt)` : f.action;
  return [
    `<li class="finding" data-action="${column}" data-policy="${escapeHtml(f.policy)}">`,
    `<div><span class="badge ${column}">${escapeHtml(label)}</span> <b>${escapeHtml(f.policy)}</b>${f.container !== undefined ? ` container <code>${escapeHtml(f.container)}</code>` : ''}</div>`,
    `<div class="msg">${escapeHtml(f.message)}</div>`,
    `<div class="path"><code>${escapeHtml(f.path)}</code> <span class="at">${escapeHtml(whereOf(result, f))}</span></div>`,
    f.exempt ? `<div class="reason">exempt: ${escapeHtml(f.exemptReason ?? 'no reason given')}</div>` : '',
    `<details${f.exempt ? '' : ' open'}><summary>fix</summary><pre>${escapeHtml(f.remediation)}</pre></details>`,
    '</li>',
  ].join('');
}

function objectHtml(result: AuditResult): string {
  const actions = [...new Set(result.findings.map(columnOf))];
  const policies = [...new Set(result.findings.map((f) => f.policy))];
  const text = `${result.kind} ${result.namespace}/${result.name} ${result.source} ${result.template ?? ''}`.toLowerCase();
  return [
    `<article class="object" data-namespace="${escapeHtml(result.namespace)}" data-actions="${actions.join(' ')}" data-policies="${escapeHtml(policies.join(' '))}" data-text="${escapeHtml(text)}">`,
    `<h3>${escapeHtml(`${result.kind} ${result.namespace}/${result.name}`)} <span class="at">${escapeHtml(whereOf(result))}</span></h3>`,
    result.findings.length === 0
      ? '<p class="pass">passes every policy</p>'
      : `<ul>${result.findings.map((f) => findingHtml(result, f)).join('')}</ul>`,
    '</article>',
  ].join('');
}

function options(values: Iterable<string>): string {
  return [...new Set(values)]
    .sort()
    .map((v) => `<option value="${escapeHtml(v)}">${escapeHtml(v)}</option>`)
    .join('');
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1100px;padding:1rem 1.5rem;color:#1f2328}
h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:1.5rem}h3{font-size:1rem;margin:.2rem 0}
.cards{display:flex;gap:.75rem;flex-wrap:wrap}.card{border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem;min-width:7rem}
.card b{display:block;font-size:1.6rem}
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:.2rem .6rem;text-align:left}td.n{text-align:right}
.deny{color:#b42318}.warn{color:#9a6700}.audit{color:#0969da}.exempt{color:#6e7781}
.badge{display:inline-block;border:1px solid currentColor;border-radius:4px;padding:0 .35rem;font-size:.8rem;text-transform:uppercase}
.object{border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem;margin:.6rem 0}.object ul{list-style:none;padding:0;margin:0}
.finding{border-top:1px solid #eaeef2;padding:.4rem 0}.at{color:#57606a;font-weight:normal;font-size:.85rem}
pre{background:#f6f8fa;padding:.5rem;border-radius:4px;overflow:auto;margin:.25rem 0}.pass{color:#1a7f37;margin:.2rem 0}
.reason{color:#57606a;font-style:italic}.filters{display:flex;gap:.5rem;flex-wrap:wrap;align-items:center;position:sticky;top:0;background:#fff;padding:.5rem 0}
[hidden]{display:none!important}`;

// Filters hide objects and findings; the counts line says how many are shown.
const SCRIPT = `
const $ = (s) => document.querySelector(s);
const controls = ['#f-action', '#f-policy', '#f-namespace', '#f-text'].map($);
function apply() {
  const [action, policy, namespace, text] = controls.map((c) => c.value.trim().toLowerCase());
  let shown = 0;
  for (const o of document.querySelectorAll('.object')) {
    let visibleFindings = 0;
    const findings = o.querySelectorAll('.finding');
    for (const f of findings) {
      const ok = (!action || f.dataset.action === action) && (!policy || f.dataset.policy === policy);
      f.hidden = !ok;
      if (ok) visibleFindings++;
    }
    const filtering = action || policy;
    const ok = (!namespace || o.dataset.namespace === namespace) && (!text || o.dataset.text.includes(text)) && (!filtering || visibleFindings > 0);
    o.hidden = !ok;
    if (ok) shown++;
  }
  $('#shown').textContent = String(shown);
}
for (const c of controls) c.addEventListener('input', apply);
apply();`;

export function formatHtml(report: AuditReport, context: FormatContext & { title?: string; generatedAt?: Date }): string {
  const { objects, deny, warn, audit, exempt } = report.summary;
  const titles = new Map(context.policies.map((p) => [p.id, p.title]));
  const byPolicy = tally(report, (_r, f) => f.policy);
  const byNamespace = tally(report, (r) => r.namespace);
  const skipped = report.skipped ?? [];
  const title = context.title ?? 'practice-gate report';
  const card = (n: number, what: string, cls = ''): string => `<div class="card ${cls}" data-count="${what}"><b>${n}</b>${what}</div>`;
  const findingPolicies = [...new Set(allFindings(report).map(({ finding }) => finding.policy))];
  const policyOptions = findingPolicies
    .sort()
    .map(
      (id) =>
        `<option value="${escapeHtml(id)}">${escapeHtml(id)}${titles.has(id) ? ` (${escapeHtml(titles.get(id) ?? '')})` : ''}</option>`,
    )
    .join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
${context.generatedAt ? `<p class="at">generated ${escapeHtml(context.generatedAt.toISOString())}${context.version !== undefined ? ` by practice-gate ${escapeHtml(context.version)}` : ''}</p>` : ''}
<section id="overview"><div class="cards">${card(objects, 'objects')}${card(deny, 'deny', 'deny')}${card(warn, 'warn', 'warn')}${card(audit, 'audit', 'audit')}${card(exempt, 'exempt', 'exempt')}${skipped.length > 0 ? card(skipped.length, 'not judged', 'deny') : ''}</div></section>
${byPolicy.size > 0 ? countTable('Findings by policy', byPolicy, 'policy') : ''}
${byNamespace.size > 0 ? countTable('Findings by namespace', byNamespace, 'namespace') : ''}
${skipped.length > 0 ? `<section id="skipped"><h2>Not judged</h2><ul>${skipped.map((p) => `<li><code>${escapeHtml(formatProblem(p))}</code></li>`).join('')}</ul></section>` : ''}
<section id="objects"><h2>Objects (<span id="shown">${report.results.length}</span> of ${report.results.length} shown)</h2>
<div class="filters">
<select id="f-action" aria-label="action"><option value="">every action</option>${COLUMNS.map((c) => `<option value="${c}">${c}</option>`).join('')}</select>
<select id="f-policy" aria-label="policy"><option value="">every policy</option>${policyOptions}</select>
<select id="f-namespace" aria-label="namespace"><option value="">every namespace</option>${options(report.results.map((r) => r.namespace))}</select>
<input id="f-text" type="search" placeholder="kind, name or file" aria-label="search">
</div>
${report.results.map(objectHtml).join('\n')}
</section>
<script>${SCRIPT}</script>
</body></html>
`;
}
