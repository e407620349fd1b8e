/**
 * Durations on the command line (`--audit-interval 10m`, `--cert-renew-before 30d`): Go-style
 * units plus days and years, because certificate lifetimes are spoken of in those.
 */
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  y: 365 * 86_400_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|y)/gy;

export class DurationError extends Error {
  override name = 'DurationError';
}

/** `1h30m` -> 5400000. A bare `0` is allowed (it switches periodic work off). */
export function parseDuration(text: string, what = 'duration'): number {
  const value = text.trim();
  if (value === '0') return 0;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = PART.exec(value); match; match = PART.exec(value)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    consumed = PART.lastIndex;
  }
  if (value === '' || consumed !== value.length || !Number.isFinite(total)) {
    throw new DurationError(`${what}: "${text}" is not a duration; write it like 90s, 10m, 1h30m, 30d or 1y (or 0)`);
  }
  return Math.round(total);
}

/** The largest unit that divides it exactly, for messages and logs: 5400000 -> "90m". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  for (const unit of ['y', 'd', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit] ?? 1;
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
