import t from 'tap';
import { parse } from 'yaml';
import policy from './policy.js';
import { examples, judge } from '../../test/helpers/manifests.js';

const { good, bad, get } = examples('image-tag-pinned');

t.test('good examples pass: tags, digests, registry ports, latest pinned by digest', async (t) => {
  for (const [name, obj] of good) t.same(judge(policy, obj), [], name);
});

t.test('an untagged image warns at the image field', async (t) => {
  const findings = judge(policy, get('untagged'));
  t.equal(findings.length, 1);
  t.match(findings[0], {
    policy: 'image-tag-pinned',
    action: 'warn',
    container: 'app',
    path: 'spec.template.spec.containers[0].image',
  });
  t.match(findings[0]?.message, /container "app" image has no tag/);
  t.same(parse(findings[0]?.remediation ?? ''), { image: 'nginx:<version>' }, 'the fix names the same repository');
});

t.test(':latest warns', async (t) => {
  const findings = judge(policy, get('latest-tag'));
  t.same(
    findings.map((f) => f.path),
    ['spec.containers[0].image'],
  );
  t.match(findings[0]?.message, /:latest tag/);
  t.same(parse(findings[0]?.remediation ?? ''), { image: 'example/app:<version>' });
});

t.test('a registry port is not a tag', async (t) => {
  const findings = judge(policy, get('registry-port-no-tag'));
  t.same(
    findings.map((f) => f.path),
    ['spec.containers[0].image'],
  );
  t.match(findings[0]?.message, /no tag/);
  t.same(parse(findings[0]?.remediation ?? ''), { image: 'registry.local:5000/team/app:<version>' });
});

t.test('a missing or empty image is a finding with the general fix', async (t) => {
  const findings = judge(policy, get('missing-and-empty-image'));
  t.same(
    findings.map((f) => [f.container, f.path]),
    [
      ['no-image', 'spec.containers[0].image'],
      ['empty-image', 'spec.containers[1].image'],
    ],
  );
  t.match(findings[0]?.message, /has no image/);
  t.equal(findings[0]?.remediation, policy.fix);
});

t.test('a digest that is not one does not pin', async (t) => {
  t.match(judge(policy, get('malformed-digest'))[0]?.message, /malformed image digest/);
});

t.test('an empty tag is no tag', async (t) => {
  t.match(judge(policy, get('empty-tag'))[0]?.message, /has no tag/);
});

t.test('init containers, sidecars and ephemeral containers are checked', async (t) => {
  t.same(
    judge(policy, get('init-sidecar-and-ephemeral')).map((f) => [f.container, f.path]),
    [
      ['setup', 'spec.initContainers[0].image'],
      ['proxy', 'spec.initContainers[1].image'],
      ['debugger', 'spec.ephemeralContainers[0].image'],
    ],
  );
});

t.test('a tag without a version number floats like latest; one with a digit is pinned', async (t) => {
  const findings = judge(policy, get('floating-tags'));
  t.same(
    findings.map((f) => f.container),
    ['cache', 'web', 'tools', 'base'],
  );
  t.equal(findings[0]?.message, 'container "cache" tag "alpine" has no version number: pin a version or digest');
  t.match(findings[2]?.message, /tag "lts-slim" has no version number/);
  t.same(
    parse(findings[2]?.remediation ?? ''),
    { image: 'registry.local:5000/team/node:<version>' },
    'the fix keeps the registry port and repository',
  );
  const versioned = good.get('version-number-tags');
  if (!versioned) throw new Error('missing example version-number-tags');
  t.same(judge(policy, versioned), [], 'node:20, redis:7-alpine, nginx:1.27-alpine, a dated build and v2.14.2 count as pinned');
});

t.test('every bad example fails', async (t) => {
  for (const [name, obj] of bad) t.not(judge(policy, obj).length, 0, name);
});
