// The peer tools (kube-score, Polaris) from bench/peers/ensure-peers.sh, which builds them
// into a cache outside the repository. A peer that cannot be had is reported as missing,
// with the script's reason on stderr: benchmarks report figures, they never fail on a peer.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Peers {
  kubeScore?: string;
  polaris?: string;
}

// From the source (bench/lib) or the build (dist/bench/lib): the script stays in bench/peers.
const SCRIPT = fileURLToPath(
  new URL(import.meta.url.includes('/dist/bench/') ? '../../../bench/peers/ensure-peers.sh' : '../peers/ensure-peers.sh', import.meta.url),
);

export function ensurePeers(): Peers {
  const run = spawnSync('bash', [SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 30 * 60_000 });
  if (run.status !== 0) {
    process.stderr.write(`bench: ${SCRIPT} exited ${run.status ?? run.signal}; running without peers\n`);
    return {};
  }
  const vars = new Map<string, string>();
  for (const line of run.stdout.split('\n')) {
    const m = /^([A-Z_]+)=(.+)$/.exec(line.trim());
    if (m?.[1] && m[2]) vars.set(m[1], m[2]);
  }
  const peers: Peers = {};
  const ks = vars.get('KUBE_SCORE');
  const po = vars.get('POLARIS');
  if (ks) peers.kubeScore = ks;
  if (po) peers.polaris = po;
  return peers;
}
