import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { spawnNode } from '../helpers/node-child.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/practice-gate.js');

// The test runs the built CLI, as users do; a missing or stale build would test the wrong code.
const sources = [join(ROOT, 'src/cli/certs.ts'), ...readdirSync(join(ROOT, 'src/tls')).map((f) => join(ROOT, 'src/tls', f))];
for (const source of sources.filter((s) => s.endsWith('.ts'))) {
  const built = source.replace(`${ROOT}src/`, `${ROOT}dist/src/`).replace(/\.ts$/, '.js');
  if (!existsSync(built) || statSync(built).mtimeMs < statSync(source).mtimeMs) {
    throw new Error(`${built} is missing or older than ${source}: run \`npm run build\` first`);
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function certs(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawnNode([BIN, 'certs', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const mode = (path: string) => statSync(path).mode & 0o777;

t.test('writes the CA and serving pair and prints only the caBundle', async (t) => {
  const out = join(t.testdir(), 'certs', 'nested');
  const run = await certs(
    '--service',
    'practice-gate',
    '--namespace',
    'gate',
    '--dns',
    'webhook.example.com',
    '--ip',
    '10.96.0.12',
    '--ip',
    'fd00::12',
    '--out',
    out,
  );
  t.equal(run.code, 0, run.stderr);

  t.equal(mode(join(out, 'ca.key')), 0o600, 'CA key readable by the owner only');
  t.equal(mode(join(out, 'tls.key')), 0o600, 'serving key readable by the owner only');
  t.equal(mode(join(out, 'ca.crt')), 0o644);
  t.equal(mode(join(out, 'tls.crt')), 0o644);

  t.match(run.stdout, /^[A-Za-z0-9+/]+=*\n$/, 'stdout is one line of base64');
  const caPem = readFileSync(join(out, 'ca.crt'), 'utf8');
  t.equal(Buffer.from(run.stdout.trim(), 'base64').toString('utf8'), caPem, 'the bundle is ca.crt');
  t.match(run.stderr, /kubectl -n gate create secret tls practice-gate-tls/, 'the human note goes to stderr');

  const ca = new X509Certificate(caPem);
  const leaf = new X509Certificate(readFileSync(join(out, 'tls.crt')));
  t.ok(ca.ca);
  t.ok(leaf.verify(ca.publicKey), 'tls.crt is signed by ca.crt');
  t.ok(leaf.checkPrivateKey(createPrivateKey(readFileSync(join(out, 'tls.key')))), 'tls.key matches tls.crt');
  t.ok(ca.checkPrivateKey(createPrivateKey(readFileSync(join(out, 'ca.key')))), 'ca.key matches ca.crt');
  t.equal(
    leaf.subjectAltName,
    'DNS:practice-gate, DNS:practice-gate.gate, DNS:practice-gate.gate.svc, DNS:practice-gate.gate.svc.cluster.local, ' +
      'DNS:webhook.example.com, IP Address:10.96.0.12, IP Address:FD00:0:0:0:0:0:0:12',
  );
});

t.test('--validity-days sets the serving certificate lifetime', async (t) => {
  const out = t.testdir();
  const run = await certs('--service', 'pg', '--namespace', 'gate', '--out', out, '--validity-days', '30');
  t.equal(run.code, 0, run.stderr);
  const notAfter = new Date(new X509Certificate(readFileSync(join(out, 'tls.crt'))).validTo).getTime();
  const days = (notAfter - Date.now()) / (24 * 60 * 60 * 1000);
  t.ok(days > 29 && days <= 30, `expires in ${days.toFixed(2)} days`);
});

t.test('existing files are kept unless --force', async (t) => {
  const out = t.testdir({ 'ca.key': 'the CA key in use\n' });
  const refused = await certs('--service', 'pg', '--namespace', 'gate', '--out', out);
  t.equal(refused.code, 2);
  t.equal(refused.stdout, '', 'no bundle for files that were not written');
  t.match(refused.stderr, /ca\.key already exists; pass --force/);
  t.equal(readFileSync(join(out, 'ca.key'), 'utf8'), 'the CA key in use\n', 'the old key is untouched');
  t.notOk(existsSync(join(out, 'tls.crt')), 'and nothing else was written');

  const forced = await certs('--service', 'pg', '--namespace', 'gate', '--out', out, '--force');
  t.equal(forced.code, 0, forced.stderr);
  t.match(readFileSync(join(out, 'ca.key'), 'utf8'), /BEGIN RSA PRIVATE KEY/);
  t.equal(mode(join(out, 'ca.key')), 0o600);
});

t.test('bad input exits 2 with a message and no bundle', async (t) => {
  const dir = t.testdir({ 'a-file': 'not a directory\n' });
  const svc = ['--service', 'pg', '--namespace', 'gate'];
  const cases: [string, string[], RegExp][] = [
    ['missing --service', ['--namespace', 'gate', '--out', dir], /required option '--service <name>' not specified/],
    ['empty service', ['--service', '', '--namespace', 'gate', '--out', dir], /service name "" is not a Kubernetes Service/],
    ['bad namespace', ['--service', 'pg', '--namespace', 'Gate', '--out', dir], /namespace "Gate"/],
    ['invalid IP', [...svc, '--ip', '10.0.0.256', '--out', dir], /"10\.0\.0\.256" is not an IPv4 or IPv6 address/],
    ['invalid DNS name', [...svc, '--dns', 'a..b', '--out', dir], /"a\.\.b" is not a DNS name/],
    ['zero validity', [...svc, '--validity-days', '0', '--out', dir], /whole number of days/],
    [
      'serving outlives CA',
      [...svc, '--validity-days', '400', '--ca-validity-days', '365', '--out', dir],
      /--validity-days 400 is longer than --ca-validity-days 365/,
    ],
    ['unwritable directory', [...svc, '--out', join(dir, 'a-file', 'certs')], /cannot create output directory .*: ENOTDIR/],
  ];
  for (const [name, args, message] of cases) {
    const run = await certs(...args);
    t.equal(run.code, 2, `${name}: exit 2`);
    t.equal(run.stdout, '', `${name}: nothing on stdout`);
    t.match(run.stderr, message, `${name}: says what is wrong`);
  }
  t.same(readdirSync(dir), ['a-file'], 'nothing was written');
});
