// `npm run test:e2e` runs ensure-tools.sh once and each e2e file runs it again: its notes
// about which kubectl it uses must be said once per run, not three or four times.
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const SCRIPT = fileURLToPath(new URL('../e2e/tools/ensure-tools.sh', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };

t.test('the kubectl note is said by the first run and not by the runs the test files make', async (t) => {
  const dir = t.testdir({
    bin: { kubectl: '#!/bin/sh\necho "Client Version: v1.33.0"\n' },
    etcd: '#!/bin/sh\n',
    'kube-apiserver': '#!/bin/sh\n',
    helm: '#!/bin/sh\n',
  });
  for (const f of ['bin/kubectl', 'etcd', 'kube-apiserver', 'helm']) chmodSync(join(dir, f), 0o755);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`,
    TEST_ASSET_ETCD: join(dir, 'etcd'),
    TEST_ASSET_KUBE_APISERVER: join(dir, 'kube-apiserver'),
    TEST_ASSET_HELM: join(dir, 'helm'),
    PRACTICE_GATE_CACHE: join(dir, 'cache'),
  };
  delete env.KUBEBUILDER_ASSETS;
  delete env.TEST_ASSET_KUBECTL;
  delete env.PRACTICE_GATE_TOOLS_NOTED;
  const first = spawnSync('bash', [SCRIPT], { env, encoding: 'utf8' });
  t.equal(first.status, 0, first.stderr);
  t.match(first.stdout, `KUBECTL=${join(dir, 'bin', 'kubectl')}`);
  t.match(first.stderr, /using kubectl v1\.33\.0 from PATH/);
  const again = spawnSync('bash', [SCRIPT], { env: { ...env, PRACTICE_GATE_TOOLS_NOTED: '1' }, encoding: 'utf8' });
  t.equal(again.status, 0);
  t.equal(again.stdout, first.stdout, 'the same tools');
  t.notMatch(again.stderr, /kubectl/, 'no second note');
  t.match(
    pkg.scripts['test:e2e'],
    /ensure-tools\.sh > \/dev\/null && PRACTICE_GATE_TOOLS_NOTED=1 tap /,
    'npm run test:e2e notes once, then runs the files quietly',
  );
});
