// The webhook for the scale benchmark: startServer (what `practice-gate serve` runs) with a
// cluster context holding PDBS PodDisruptionBudgets spread over NAMESPACES namespaces (the
// reviewed workloads live in the first), logging one line per review to stdout as serve does.
// Prints {"port": N} once listening. Usage: node dist/bench/scale-server.js CERT KEY PDBS NAMESPACES
import pino from 'pino';
import { ContextIndex } from '../src/engine/index.js';
import type { KubeObject } from '../src/engine/index.js';
import { startServer } from '../src/server/run.js';
import { pdbsFor } from './lib/scale.js';

const [certFile, keyFile, pdbs, namespaces] = process.argv.slice(2);
if (!certFile || !keyFile || !pdbs || !namespaces) {
  process.stderr.write('usage: scale-server CERT KEY PDBS NAMESPACES\n');
  process.exit(2);
}
const context = ContextIndex.fromObjects(pdbsFor(Number(pdbs), Number(namespaces)) as KubeObject[]);
const handle = await startServer({
  tls: { files: { certFile, keyFile } },
  port: 0,
  host: '127.0.0.1',
  context,
  logger: pino(pino.destination({ dest: 2, sync: false })),
});
process.stdout.write(`${JSON.stringify({ port: handle.port })}\n`);
process.on('SIGTERM', () => void handle.close().then(() => process.exit(0)));
