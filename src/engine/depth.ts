// How deep a parsed value nests, without copying any of it: the body parser refuses bodies past
// its limit (src/server/json.ts), and custom rules refuse objects past theirs (src/rules/values.ts).

/**
 * True when objects and arrays in `value` nest deeper than `limit`. The walk allocates nothing
 * and stops at `limit` levels, so even a value that nests a hundred thousand levels is safe to ask.
 */
export function valueNestsDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (valueNestsDeeperThan(value[i], limit - 1)) return true;
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) if (valueNestsDeeperThan(record[key], limit - 1)) return true;
  return false;
}
