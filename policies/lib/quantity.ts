/**
 * True when a resource quantity is present and above zero. A zero request reserves nothing
 * and the kubelet ignores a zero limit, so both count as unset. A string the API server
 * would reject as a quantity counts as set: the server will refuse it with a better message.
 */
export function quantitySet(value: unknown): boolean {
  if (typeof value === 'number') return value > 0;
  if (typeof value !== 'string' || value.trim() === '') return false;
  const amount = Number.parseFloat(value);
  return Number.isNaN(amount) || amount > 0;
}
