// The servers the webhook benchmarks load: practice-gate (the real CLI), the bare-HTTPS
// ceiling, and the Polaris webhook when ensure-peers.sh could build it. Each runs on core 1
// when pinning is possible; stop() ends only the process it started.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import type { Agent } from 'node:https';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { devCertificates } from '../../src/tls/dev.js';
import { spawnOnCore1 } from './proc.js';

export const BIN = fileURLToPath(new URL('../../../bin/practice-gate.js', import.meta.url));
const CEILING = fileURLToPath(new URL('../ceiling-server.js', import.meta.url));
const PARSE_CEILING = fileURLToPath(new URL('../parse-ceiling-server.js', import.meta.url));

export interface Server {
  name: string;
  port: number;
  path: string;
  child: ChildProcessWithoutNullStreams;
  stop(): Promise<void>;
}

export interface Certs {
  certFile: string;
  keyFile: string;
  dir: string;
}

/** A dev CA and serving pair for 127.0.0.1, written as tls.crt/tls.key (the names controller-runtime expects). */
export function writeCerts(dir: string): Certs {
  mkdirSync(dir, { recursive: true });
  const certs = devCertificates({ validityDays: 1 });
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  writeFileSync(certFile, certs.serving.cert);
  writeFileSync(keyFile, certs.serving.key);
  return { certFile, keyFile, dir };
}

function launch(
  name: string,
  command: string,
  args: string[],
  path: string,
  portOf: (line: string) => number | undefined,
  env?: NodeJS.ProcessEnv,
  pin = true,
): Promise<Server> {
  const child = pin ? spawnOnCore1(command, args, env) : spawn(command, args, { env: env ?? process.env });
  let output = '';
  return new Promise<Server>((resolve, reject) => {
    const onLine = (line: string) => {
      if (output.length < 20_000) output += `${line}\n`;
      let port: number | undefined;
      try {
        port = portOf(line);
      } catch {
        // not a line that says where it listens
      }
      if (port !== undefined) resolve({ name, port, path, child, stop: () => stop(child) });
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${output}`)));
  });
}

function stop(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  return exited.finally(() => clearTimeout(timer));
}

/** `practice-gate serve`, default config, logging one line per review to a pipe, as deployed. */
export function startGate(certs: Certs, extra: string[] = []): Promise<Server> {
  return launch(
    'practice-gate',
    process.execPath,
    [BIN, 'serve', '--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--port', '0', '--host', '127.0.0.1', ...extra],
    '/validate',
    (line) => {
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      return entry.msg === 'practice-gate listening' ? entry.port : undefined;
    },
  );
}

/**
 * `practice-gate serve` at --log-level warn: no line per review, to see what that line costs.
 * It then says nothing when it listens, so it gets a port and is waited for with a handshake.
 */
export async function startQuietGate(certs: Certs, port: number): Promise<Server> {
  const child = spawnOnCore1(process.execPath, [
    BIN,
    'serve',
    '--tls-cert',
    certs.certFile,
    '--tls-key',
    certs.keyFile,
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--log-level',
    'warn',
  ]);
  child.stdout.resume();
  child.stderr.resume();
  const server: Server = { name: 'practice-gate, --log-level warn', port, path: '/validate', child, stop: () => stop(child) };
  await untilHandshake(server);
  return server;
}

async function untilHandshake(server: Server): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await handshakes(server.port))) {
    if (Date.now() > deadline || server.child.exitCode !== null) {
      await server.stop();
      throw new Error(`${server.name}: no TLS listener on 127.0.0.1:${server.port} within 60 s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A bare Node HTTPS server answering one fixed AdmissionReview: what TLS and HTTP/1.1 alone cost. */
export function startCeiling(certs: Certs): Promise<Server> {
  return launch(
    'bare HTTPS ceiling',
    process.execPath,
    [CEILING, certs.certFile, certs.keyFile],
    '/validate',
    (line) => (JSON.parse(line) as { port?: number }).port,
  );
}

/**
 * The JSON floor: the bare server also decoding the body, `JSON.parse`-ing it and
 * `JSON.stringify`-ing the answer in `answerFile` (practice-gate's own answer to that body,
 * so both write the same bytes): the least any JSON webhook in Node.js does per review.
 */
export function startJsonFloor(certs: Certs, answerFile: string, name = 'JSON floor'): Promise<Server> {
  return launch(
    name,
    process.execPath,
    [CEILING, certs.certFile, certs.keyFile, answerFile, '--json'],
    '/validate',
    (line) => (JSON.parse(line) as { port?: number }).port,
  );
}

/** The ceiling plus JSON.parse of each body and its uid in the answer. */
export function startParseCeiling(certs: Certs): Promise<Server> {
  return launch(
    'HTTPS + JSON.parse ceiling',
    process.execPath,
    [PARSE_CEILING, certs.certFile, certs.keyFile],
    '/validate',
    (line) => (JSON.parse(line) as { port?: number }).port,
  );
}

/**
 * `polaris webhook` (validating only, its built-in default checks) with its certificate
 * directory and a kubeconfig: controller-runtime's manager wants one to start, though the
 * validating handler only calls the API server for objects with ownerReferences. Polaris
 * logs that it listens before its manager has bound the port, so this waits for a TLS
 * handshake to succeed too. `pin: false` leaves it unpinned, as the API-server benchmark
 * runs practice-gate.
 */
export async function startPolaris(binary: string, certs: Certs, port: number, kubeconfig: string, pin = true): Promise<Server> {
  const server = await launch(
    'Polaris webhook',
    binary,
    ['webhook', '--port', String(port), '--cert-dir', certs.dir, '--disable-webhook-config-installer', '--validate=true', '--mutate=false'],
    '/validate',
    (line) => (/webhook server listening on port/i.test(line) ? port : undefined),
    { ...process.env, KUBECONFIG: kubeconfig },
    pin,
  );
  await untilHandshake(server);
  return server;
}

function handshakes(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** A kubeconfig naming an API server that is not there (127.0.0.1:1). */
export function deadKubeconfig(dir: string): string {
  const file = join(dir, 'kubeconfig-nowhere');
  writeFileSync(
    file,
    'apiVersion: v1\nkind: Config\nclusters:\n  - name: none\n    cluster:\n      server: https://127.0.0.1:1\n      insecure-skip-tls-verify: true\n' +
      'users:\n  - name: none\n    user:\n      token: none\ncontexts:\n  - name: none\n    context:\n      cluster: none\n      user: none\ncurrent-context: none\n',
  );
  return file;
}

/** What the webhook answered: the status and the body as it came. */
export interface ReviewAnswer {
  status: number;
  body: Buffer;
}

/**
 * POSTs a body to the webhook's /validate and resolves with the answer, whatever its status: over
 * `agent`, or on a connection of its own that trusts any certificate (the bench's servers use
 * self-signed ones). A body sent many times is best given as bytes: the text of a large one is
 * encoded again at each call, in new memory (the API server sends bytes it already has).
 */
export function postReview(port: number, body: string | Buffer, agent?: Agent): Promise<ReviewAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/validate',
        method: 'POST',
        ...(agent ? { agent } : { rejectUnauthorized: false }),
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
