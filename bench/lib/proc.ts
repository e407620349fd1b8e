// What the benchmarks read about a server process: CPU seconds and peak RSS from /proc,
// and pinning to one core with taskset so the server and the load generator do not share.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

export const canPin = process.platform === 'linux' && cpus().length >= 2 && hasTaskset();

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Pins the calling process (the load generator) to core 0; servers go on core 1. */
export function pinSelf(): void {
  if (canPin) execFileSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });
}

/** Spawns a server on core 1; taskset execs in place, so the child's pid is the server's. */
export function spawnOnCore1(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcessWithoutNullStreams {
  return canPin ? spawn('taskset', ['-c', '1', command, ...args], { env }) : spawn(command, args, { env });
}

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** `read` of the /proc stat line of `pid`; undefined off Linux or once it has exited. */
function fromStat(pid: number | undefined, read: (stat: string) => number): number | undefined {
  if (pid === undefined) return undefined;
  try {
    return read(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** utime + stime of a process so far, in seconds; undefined off Linux. */
export const cpuSeconds = (pid: number | undefined): number | undefined => fromStat(pid, statCpuSeconds);

/** utime + stime of a /proc stat line, in seconds (the fields after the command name, which may hold ") "). */
function statCpuSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/**
 * `read` of each thread's /proc `file` (its stat line, or its schedstat) of `pid`, by thread name,
 * summed over threads of one name; {} off Linux.
 */
function perThread(pid: number | undefined, read: (text: string) => number, file = 'stat'): Record<string, number> {
  const out: Record<string, number> = {};
  if (pid === undefined) return out;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const key = tid === String(pid) ? 'main' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out[key] = (out[key] ?? 0) + read(readFileSync(`/proc/${pid}/task/${tid}/${file}`, 'utf8'));
    }
  } catch {
    // the process or a thread ended meanwhile
  }
  return out;
}

/**
 * Time on a CPU of each thread of `pid` by thread name, in seconds, from the scheduler's own count
 * (schedstat, in nanoseconds): utime + stime are counted in clock ticks, 10 ms each here, too coarse
 * to tell two builds apart by one review. {} off Linux or where the kernel keeps no schedstat.
 */
export const threadRunSeconds = (pid: number | undefined): Record<string, number> =>
  perThread(pid, (schedstat) => Number(schedstat.split(' ')[0]) / 1e9, 'schedstat');

/** threadRunSeconds summed over the threads the process has now (one that ended takes its time with it); undefined where there is none to read. */
export function runSeconds(pid: number | undefined): number | undefined {
  const threads = Object.values(threadRunSeconds(pid));
  return threads.length > 0 ? threads.reduce((a, b) => a + b, 0) : undefined;
}

/** Minor page faults in a /proc stat line: first writes to fresh 4 KiB pages. */
const statMinorFaults = (stat: string): number => Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[7]);

/** CPU seconds (user + system) of each thread of `pid` by thread name, summed over threads of one name; {} off Linux. */
export const threadCpuSeconds = (pid: number | undefined): Record<string, number> => perThread(pid, statCpuSeconds);

/** Minor page faults of each thread of `pid` by thread name, as threadCpuSeconds; {} off Linux. */
export const threadMinorFaults = (pid: number | undefined): Record<string, number> => perThread(pid, statMinorFaults);

/** A size field of /proc/<pid>/status (VmRSS, VmHWM) in MiB; undefined off Linux. */
function statusMiB(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size (VmRSS) in MiB; undefined off Linux. */
export const rssMiB = (pid: number | undefined): number | undefined => statusMiB(pid, 'VmRSS');

/** Minor page faults of `pid` so far, all its threads; undefined off Linux. */
export const minorFaults = (pid: number | undefined): number | undefined => fromStat(pid, statMinorFaults);

/** Peak resident set size (VmHWM) in MiB; undefined off Linux. */
export const peakRssMiB = (pid: number | undefined): number | undefined => statusMiB(pid, 'VmHWM');

/** Resets the peak resident set size (VmHWM) of `pid` to its current size; false where Linux does not allow it. */
export function resetPeakRss(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export function machine(): string {
  const model = cpus()[0]?.model ?? 'unknown CPU';
  let go = 'go: not found';
  try {
    go = execFileSync('go', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    // Go only builds the peers
  }
  return `${cpus().length} cores (${model}), Node.js ${process.version}, ${go}`;
}

/** CPU seconds (user + sys) of this process's finished, waited-for children so far; 0 off Linux. */
export function childCpuSeconds(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[13]) + Number(fields[14])) / clockTicks;
  } catch {
    return 0;
  }
}
