// The pod as rendered, run here: the e2e API server has no nodes, so nothing else runs the
// Deployment's command line. The built `practice-gate serve` gets exactly the chart's
// command and args (only file paths and ports remapped, plus --no-cluster), the config
// from the ConfigMap and the certificates from the Secret; then the `helm test` pod's
// own script checks it the way the API server will call it.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { nodeFlags } from '../../bench/lib/chart-command.js';
import { waitUntil } from '../helpers/poll.js';
import { FULLNAME, NAMESPACE, REPO, one, render } from './helm.js';

type Obj = Record<string, any>;

const CLI = join(REPO, 'dist/cli/practice-gate.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Up to 60 s: a loaded CI machine can take tens of seconds to start node and load the server. */
async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const ready = async (): Promise<boolean> => {
    if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}:\n${log()}`);
    return fetch(url).then(
      (r) => r.ok,
      () => false,
    );
  };
  await waitUntil('serve to become ready', ready, { timeoutMs: 60_000, intervalMs: 100 }).catch((err: Error) => {
    throw err.message.startsWith('serve exited') ? err : new Error(`serve never became ready:\n${log()}`);
  });
}

/** Replaces `from` (which must occur) with `to`, so a changed template fails loudly here. */
function swap(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`the rendered text no longer contains ${from}`);
  return text.split(from).join(to);
}

t.test('the rendered pod serves, and the helm test pod passes against it', async (t) => {
  t.ok(existsSync(CLI), `the CLI is built (npm run test:e2e builds it; or run npm run build): ${CLI}`);
  const objects = render();
  const dir = mkdtempSync(join(tmpdir(), 'pg-chart-serve-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const secret = one(objects, 'Secret');
  for (const key of ['ca.crt', 'tls.crt', 'tls.key']) writeFileSync(join(dir, key), Buffer.from(secret.data[key], 'base64'));
  writeFileSync(join(dir, 'config.yaml'), one(objects, 'ConfigMap').data['config.yaml']);

  const pod = one<Obj>(objects, 'Deployment').spec.template.spec;
  const container = pod.containers[0];
  t.same(
    container.command,
    ['node', '--enable-source-maps', '--max-semi-space-size=16', '--heap-growing-percent=200', '/app/dist/cli/practice-gate.js', 'serve'],
    'the image runs node on the bundled CLI',
  );
  const [port, probePort] = [await freePort(), await freePort()];
  const remap: Record<string, string> = {
    '--port=8443': `--port=${port}`,
    '--probe-port=8080': `--probe-port=${probePort}`,
    '--host=0.0.0.0': '--host=127.0.0.1',
    '--config=/etc/practice-gate/config/config.yaml': `--config=${join(dir, 'config.yaml')}`,
    '--tls-cert=/etc/practice-gate/tls/tls.crt': `--tls-cert=${join(dir, 'tls.crt')}`,
    '--tls-key=/etc/practice-gate/tls/tls.key': `--tls-key=${join(dir, 'tls.key')}`,
  };
  const chartArgs: string[] = container.args;
  for (const arg of Object.keys(remap)) t.ok(chartArgs.includes(arg), `the chart passes ${arg}`);
  // The chart's Node flags too: node refuses to start on one it does not know.
  const args = [...nodeFlags(container.command), CLI, 'serve', ...chartArgs.map((a) => remap[a] ?? a), '--no-cluster'];

  // The chart's fixed variables as it sets them (glibc's tunables among them), the pod's own as the kubelet would.
  const fixedEnv = Object.fromEntries(
    (container.env as { name: string; value?: string }[]).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])),
  );
  t.ok(Object.keys(fixedEnv).length > 0, 'the chart sets variables of its own');
  let output = '';
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...fixedEnv, NODE_ENV: 'production', POD_NAME: `${FULLNAME}-0`, POD_NAMESPACE: NAMESPACE },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  await waitReady(`http://127.0.0.1:${probePort}/readyz`, child, () => output);
  const healthz = await fetch(`http://127.0.0.1:${probePort}/healthz`);
  t.equal(healthz.status, 200, 'the liveness path answers on the probe port');

  // The test pod's script, pointed at this process; it still verifies the certificate
  // for the Service's DNS name (servername), against the CA from the Secret.
  const testPod = one<Obj>(objects, 'Pod');
  const host = `${FULLNAME}.${NAMESPACE}.svc`;
  let script: string = testPod.spec.containers[0].args[0];
  script = swap(script, `http://${host}:8080/readyz`, `http://127.0.0.1:${probePort}/readyz`);
  script = swap(script, `host: '${host}', port: 443`, `host: '127.0.0.1', port: ${port}`);
  script = swap(script, '/etc/practice-gate/ca/ca.crt', join(dir, 'ca.crt'));
  t.match(script, `servername: '${host}'`, 'the check verifies the name the API server uses');
  t.same(testPod.spec.containers[0].command, ['node', '--input-type=module', '-e']);
  const check = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  t.equal(check.status, 0, 'the helm test script passes', { stdout: check.stdout, stderr: check.stderr, serve: output });
  t.match(check.stdout, 'ok /validate over TLS, certificate verified');

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM: drains and exits 0');
});
