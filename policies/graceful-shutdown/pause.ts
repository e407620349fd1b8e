// How long a container's preStop hook holds the pod before the kubelet sends SIGTERM, as far
// as the manifest shows it: the `sleep` action (KEP-3960), or an exec of `sleep N` (directly or
// as the first step of a shell script). Anything else (an httpGet, a script) takes a time the
// manifest does not show.
import { isRecord } from '../../src/engine/index.js';

export type Pause =
  /** No preStop hook at all. */
  | { kind: 'none' }
  /** A hook whose length the manifest does not show. */
  | { kind: 'unknown' }
  /** A hook the API server would refuse (wrong types): it pauses nothing anyone can rely on. */
  | { kind: 'invalid' }
  /** A hook that holds the pod at least this many seconds (Infinity for `sleep infinity`). */
  | { kind: 'sleep'; seconds: number; how: string };

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh']);
const UNIT: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };
// GNU and busybox sleep take a number with an optional unit.
const DURATION = /^(\d+(?:\.\d+)?)([smhd]?)$/;
// A script that starts with `sleep N` and then goes on (`;`, `&&`) holds the pod at least N seconds.
const SCRIPT = /^\s*(?:exec\s+)?sleep\s+(\S+?)\s*(?:$|;|&&|\n)/;

const basename = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

function seconds(text: string): number | undefined {
  if (text === 'infinity') return Infinity;
  const match = DURATION.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * (UNIT[match[2] ?? ''] ?? 1);
}

function execPause(command: unknown): Pause {
  if (!Array.isArray(command) || command.length === 0 || !command.every((arg) => typeof arg === 'string')) return { kind: 'invalid' };
  const args = command as string[];
  const program = basename(args[0] ?? '');
  if (program === 'sleep' && args.length === 2) {
    const n = seconds(args[1] ?? '');
    return n === undefined ? { kind: 'unknown' } : { kind: 'sleep', seconds: n, how: `exec sleep ${args[1]}` };
  }
  if (SHELLS.has(program) && args[1] === '-c' && args.length >= 3) {
    const match = SCRIPT.exec(args[2] ?? '');
    const n = match ? seconds(match[1] ?? '') : undefined;
    if (n !== undefined) return { kind: 'sleep', seconds: n, how: `exec sleep ${match?.[1] ?? ''}` };
  }
  return { kind: 'unknown' };
}

/** The pause of a container's `lifecycle.preStop`. */
export function preStopPause(container: unknown): Pause {
  const lifecycle = isRecord(container) ? container.lifecycle : undefined;
  const hook = isRecord(lifecycle) ? lifecycle.preStop : undefined;
  if (hook === undefined || hook === null) return { kind: 'none' };
  if (!isRecord(hook)) return { kind: 'invalid' };
  if (hook.sleep !== undefined) {
    const n = isRecord(hook.sleep) ? hook.sleep.seconds : undefined;
    return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? { kind: 'sleep', seconds: n, how: `sleep ${n}s` } : { kind: 'invalid' };
  }
  if (hook.exec !== undefined) return isRecord(hook.exec) ? execPause(hook.exec.command) : { kind: 'invalid' };
  return isRecord(hook.httpGet) || isRecord(hook.tcpSocket) ? { kind: 'unknown' } : { kind: 'invalid' };
}
