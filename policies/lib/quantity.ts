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

/**
 * quantitySet in CEL, over the expression `value` (null when absent), for `practice-gate vap`.
 * Written out, not bound with cel.bind, and isGreaterThan, not sign(): the API server's CEL (Kubernetes 1.33)
 * has neither.
 */
export function quantitySetCel(value: string): string {
  const text = `${value}.trim()`;
  return (
    `(type(${value}) == string ? (${text} != '' && (!isQuantity(${text}) || quantity(${text}).isGreaterThan(quantity('0')))) : ` +
    `((type(${value}) == int || type(${value}) == double) && double(${value}) > 0.0))`
  );
}
