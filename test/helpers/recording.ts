// An object seen through proxies that log every field read and every key listing, by path: what
// evaluate() touches of an object (test/engine/inputs.test.ts, test/server/body-scan.test.ts).

export type Read = { path: string[]; keys: boolean };

/** The object seen through proxies that log every property read and key listing, by path. */
export function recording(value: unknown, path: string[], reads: Read[]): unknown {
  if (typeof value !== 'object' || value === null) return value;
  return new Proxy(value, {
    get(target, key, receiver) {
      const v: unknown = Reflect.get(target, key, receiver);
      if (typeof key === 'symbol') return typeof v === 'function' ? v : recording(v, path, reads);
      reads.push({ path: [...path, key], keys: false });
      return typeof v === 'function' ? v : recording(v, [...path, key], reads);
    },
    has(target, key) {
      if (typeof key === 'string') reads.push({ path: [...path, key], keys: false });
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      reads.push({ path, keys: true });
      return Reflect.ownKeys(target);
    },
    getOwnPropertyDescriptor(target, key) {
      if (typeof key === 'string') reads.push({ path: [...path, key], keys: false });
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
  });
}
