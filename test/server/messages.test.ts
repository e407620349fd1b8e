import t from 'tap';
import type { Finding } from '../../src/engine/index.js';
import {
  ANNOTATION_VALUE_MAX,
  WARNING_MAX,
  WARNING_TARGET,
  annotationKey,
  formatAuditAnnotations,
  formatDenial,
  formatWarnings,
  subjectOf,
} from '../../src/server/messages.js';

function finding(policy: string, action: Finding['action'], message: string, extra: Partial<Finding> = {}): Finding {
  return {
    policy,
    action,
    configuredAction: action,
    container: 'app',
    path: 'spec.containers[0].image',
    message,
    remediation: '',
    exempt: false,
    ...extra,
  };
}

// A valid annotation key once the API server has put the webhook name in front.
const QUALIFIED = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

t.test('warnings name the object while the line fits in 120 characters', async (t) => {
  t.same(formatWarnings('Pod shop/api', [finding('memory-limit', 'warn', 'container "app" has no memory limit')]), [
    '[practice-gate] Pod shop/api: [memory-limit] container "app" has no memory limit',
  ]);
  const long = 'container "app" has no memory limit: set resources.limits.memory to what it uses';
  const lines = formatWarnings('Deployment payments-production/checkout-api', [finding('memory-limit', 'warn', long)]);
  t.same(lines, [`[practice-gate] [memory-limit] ${long}`], 'the object name goes, the policy and fix stay');
  t.ok(lines.every((l) => l.length <= WARNING_TARGET));
});

t.test('audit mode says the finding would deny', async (t) => {
  const f = finding('run-as-non-root', 'warn', 'container "app" may run as root', { configuredAction: 'deny' });
  t.same(formatWarnings('Pod a/b', [f]), ['[practice-gate] Pod a/b: [run-as-non-root] would deny: container "app" may run as root']);
});

t.test('many warnings stay under 4 KiB with a pointer to the rest', async (t) => {
  const many = Array.from({ length: 80 }, (_, i) => finding(`policy-${i}`, 'warn', `container "c${i}" ${'x'.repeat(90)}`));
  const lines = formatWarnings('Pod a/b', many);
  const total = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);
  t.ok(total < 4096, `total ${total} bytes`);
  t.ok(lines.every((l) => l.length <= WARNING_MAX));
  const last = lines.at(-1) ?? '';
  t.match(last, /^\[practice-gate\] \.\.\. and (\d+) more findings: run practice-gate audit/);
  t.equal(lines.length - 1 + Number(/and (\d+) more/.exec(last)?.[1]), 80, 'shown plus summarised is all of them');
});

t.test('the denial lists every denying finding, bounded', async (t) => {
  const two = formatDenial('Deployment shop/api', [
    finding('run-as-non-root', 'deny', 'container "app" may run as root', { path: 'a.b' }),
    finding('resource-requests', 'deny', 'container "app" has no requests', { path: 'c.d' }),
  ]);
  t.equal(
    two,
    'Deployment shop/api violates 2 policies: [run-as-non-root] container "app" may run as root (a.b); [resource-requests] container "app" has no requests (c.d)',
  );
  const many = Array.from({ length: 200 }, (_, i) =>
    finding('run-as-non-root', 'deny', `container "c${i}" may run as root: set securityContext.runAsNonRoot: true`),
  );
  const text = formatDenial('Pod a/b', many);
  t.ok(text.length <= 3072, `${text.length} characters`);
  t.match(text, /^Pod a\/b violates 1 policy: /);
  t.match(text, /; \.\.\. and \d+ more: run practice-gate audit for the full list$/);
});

t.test('audit annotations: one valid key per policy, short values', async (t) => {
  const annotations = formatAuditAnnotations([
    { finding: finding('run-as-non-root', 'deny', 'm', { container: 'a', path: 'p.a' }), outcome: 'deny' },
    { finding: finding('run-as-non-root', 'deny', 'm', { container: 'b', path: 'p.b' }), outcome: 'deny' },
    { finding: finding('memory-limit', 'warn', 'm', { configuredAction: 'warn' }), outcome: 'audit' },
    { finding: finding('image-tag', 'warn', 'm', { exempt: true, exemptReason: 'vendor image' }), outcome: 'exempt' },
  ]);
  t.same(annotations, {
    'run-as-non-root': 'deny: container a: p.a; deny: container b: p.b',
    'memory-limit': 'audit (configured warn): container app: spec.containers[0].image',
    exempt: 'image-tag: vendor image',
  });
  for (const key of Object.keys(annotations ?? {})) t.match(`validate.practice-gate.io/${key}`, QUALIFIED, key);
  const flood = Array.from({ length: 50 }, (_, i) => ({
    finding: finding('p', 'deny', 'm', { path: `spec.containers[${i}].image` }),
    outcome: 'deny' as const,
  }));
  const value = formatAuditAnnotations(flood)?.p ?? '';
  t.ok(value.length <= ANNOTATION_VALUE_MAX);
  t.match(value, /; \+\d+ more$/);
  t.equal(formatAuditAnnotations([]), undefined);
});

t.test('keys from odd policy ids are still valid', async (t) => {
  t.equal(annotationKey('-Weird/id with spaces-'), 'Weird-id-with-spaces');
  t.equal(annotationKey('x'.repeat(100)).length, 63);
  t.equal(subjectOf('Pod', '', ''), 'Pod (unnamed)');
});

t.test('audit annotations count each distinct entry once, however many repeat', async (t) => {
  const repeated = Array.from({ length: 120 }, (_, i) => ({
    finding: finding('p', 'deny', 'm', { container: `c${i % 40}`, path: `spec.containers[${i % 40}].image` }),
    outcome: 'deny' as const,
  }));
  const value = formatAuditAnnotations(repeated)?.p ?? '';
  const shown = value.replace(/; \+\d+ more$/, '').split('; ').length;
  t.equal(shown + Number(/\+(\d+) more$/.exec(value)?.[1]), 40, 'shown plus counted is the 40 distinct entries');
  const exempt = Array.from({ length: 30 }, (_, i) => ({
    finding: finding(`p${i % 3}`, 'warn', 'm', { exempt: true, exemptReason: 'vendor' }),
    outcome: 'exempt' as const,
  }));
  t.same(formatAuditAnnotations(exempt), { exempt: 'p0: vendor; p1: vendor; p2: vendor' });
});

t.test('warnings stop at the first line that would pass 4 KiB of UTF-8, multibyte or not', async (t) => {
  for (const [char, count] of [
    ['x', 60],
    ['é', 60],
    ['…', 60],
    ['𝄞', 60],
    ['…', 12],
    ['x', 30],
  ] as const) {
    const many = Array.from({ length: count }, (_, i) => finding(`policy-${i}`, 'warn', `container "c${i}" ${char.repeat(40)}`));
    const lines = formatWarnings('Pod a/b', many);
    const summarised = /and (\d+) more findings/.exec(lines.at(-1) ?? '');
    const shown = summarised ? lines.slice(0, -1) : lines;
    const bytes = shown.reduce((n, l) => n + Buffer.byteLength(l), 0);
    t.ok(bytes <= 4000, `${char} x ${count}: ${bytes} bytes shown`);
    if (!summarised) {
      t.equal(shown.length, count, `${char} x ${count}: all fit`);
      continue;
    }
    const next = formatWarnings('Pod a/b', many.slice(shown.length, shown.length + 1))[0] ?? '';
    t.ok(bytes + Buffer.byteLength(next) > 4000, `${char} x ${count}: the next line would not have fitted`);
    t.equal(Number(summarised[1]), count - shown.length);
  }
});
