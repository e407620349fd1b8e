/**
 * Objects by namespace and key (a name, or kind/name where kinds share the map), with each
 * namespace's list kept until it changes: a lookup costs the size of one namespace, and a
 * namespace that empties leaves nothing behind (CI and preview namespaces come and go).
 */
export class NamespacedObjects<T> {
  private readonly byNamespace = new Map<string, Map<string, T>>();
  private readonly lists = new Map<string, readonly T[]>();

  set(namespace: string, name: string, object: T): void {
    let inner = this.byNamespace.get(namespace);
    if (!inner) {
      inner = new Map();
      this.byNamespace.set(namespace, inner);
    }
    inner.set(name, object);
    this.lists.delete(namespace);
  }

  delete(namespace: string, name: string): void {
    const inner = this.byNamespace.get(namespace);
    if (!inner?.delete(name)) return;
    this.lists.delete(namespace);
    if (inner.size === 0) this.byNamespace.delete(namespace);
  }

  get(namespace: string, name: string): T | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  in(namespace: string): readonly T[] {
    let list = this.lists.get(namespace);
    if (!list) {
      const inner = this.byNamespace.get(namespace);
      if (!inner) return EMPTY;
      list = [...inner.values()];
      this.lists.set(namespace, list);
    }
    return list;
  }
}

const EMPTY: readonly never[] = Object.freeze([]);
