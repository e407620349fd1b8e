import t from 'tap';
import { formatJson, formatTable, wantsColor } from '../../src/audit/index.js';
import type { AuditReport } from '../../src/audit/index.js';

const report: AuditReport = {
  results: [
    {
      source: 'deploy.yaml',
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'shop',
      name: 'api',
      findings: [
        {
          policy: 'memory-limit',
          action: 'warn',
          container: 'app',
          path: 'spec.x',
          message: 'no limit',
          remediation: 'resources:\n  limits:\n    memory: 256Mi',
          exempt: false,
        },
        {
          policy: 'run-as-non-root',
          action: 'deny',
          container: 'app',
          path: 'spec.y',
          message: 'root',
          remediation: 'runAsNonRoot: true',
          exempt: true,
          exemptReason: 'OPS-12',
        },
      ],
    },
    { source: 'all.yaml', document: 3, apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespace: 'shop', name: 'api', findings: [] },
  ],
  summary: { objects: 2, deny: 0, warn: 1, audit: 0, exempt: 1 },
};

t.test('the table: a header per object, findings with their fix, passing objects, a summary', async (t) => {
  const text = formatTable(report, { color: false });
  t.equal(
    text,
    [
      'Deployment shop/api (deploy.yaml)',
      '  WARN    memory-limit  container "app"',
      '          spec.x',
      '          no limit',
      '          fix:',
      '            resources:',
      '              limits:',
      '                memory: 256Mi',
      '  EXEMPT  run-as-non-root  container "app"  (deny if not exempt)',
      '          spec.y',
      '          root',
      '          exempt: OPS-12',
      '          fix:',
      '            runAsNonRoot: true',
      '',
      'PodDisruptionBudget shop/api (all.yaml, document 3)',
      '  passes every policy',
      '',
      '2 objects judged: 0 deny, 1 warn, 0 audit, 1 exempt',
      '',
    ].join('\n'),
  );
});

t.test('colour is added only when asked for', async (t) => {
  t.notMatch(formatTable(report, { color: false }), /\x1b\[/);
  const coloured = formatTable(report, { color: true });
  t.match(coloured, /\x1b\[33mWARN/, 'warn in yellow');
  t.equal(coloured.replace(/\x1b\[\d+m/g, ''), formatTable(report, { color: false }), 'colour changes nothing else');
});

t.test('wantsColor: a terminal, unless NO_COLOR says otherwise', async (t) => {
  t.equal(wantsColor({ isTTY: true }, {}), true);
  t.equal(wantsColor({ isTTY: true }, { NO_COLOR: '1' }), false);
  t.equal(wantsColor({ isTTY: true }, { NO_COLOR: '' }), true, 'an empty NO_COLOR does not count (no-color.org)');
  t.equal(wantsColor({ isTTY: false }, {}), false);
  t.equal(wantsColor({}, {}), false);
});

t.test('nothing to judge says so', async (t) => {
  t.equal(
    formatTable({ results: [], summary: { objects: 0, deny: 0, warn: 0, audit: 0, exempt: 0 } }, { color: false }),
    'No workloads or PodDisruptionBudgets to judge.\n',
  );
});

t.test('JSON is one document that reads back as the report', async (t) => {
  t.same(JSON.parse(formatJson(report)), report);
});
