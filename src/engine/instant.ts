// Deadlines and expiries are written by admins as dates. One reading of them, shared by the
// config loader and the engine (object annotations), so that `2027-01-15` means the same
// instant everywhere: midnight UTC unless the text names an offset. Pure: no clock here, the
// current time is always handed in by the caller.

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Milliseconds since the epoch for `YYYY-MM-DD` (00:00 UTC that day) or an ISO 8601 time
 * `YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]` (UTC when no offset is given); undefined for anything else.
 */
export function parseInstant(text: string): number | undefined {
  const m = INSTANT.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  const zone = m[7];
  if (zone !== undefined && zone !== 'Z') {
    const [h, min] = zone.slice(1).split(':').map(Number) as [number, number];
    if (h > 23 || min > 59) return undefined;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (h * 60 + min);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000;
}

export const DAY_MS = 86_400_000;
