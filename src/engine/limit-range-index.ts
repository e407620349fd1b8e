import { nameOf } from './k8s.js';
import type { KubeObject } from './k8s.js';
import { limitRangeDefaults } from './limit-range.js';
import type { LimitRangeDefaults } from './limit-range.js';

/**
 * The LimitRanges of each namespace, as the defaults they set. The plugin applies every one of a
 * namespace's LimitRanges to a pod, in no defined order; they are listed by name here so that a
 * message naming them is stable.
 */
export class LimitRangeIndex {
  private readonly byNamespace = new Map<string, Map<string, LimitRangeDefaults>>();
  private readonly lists = new Map<string, readonly LimitRangeDefaults[]>();

  upsert(object: KubeObject, namespace: string): void {
    const defaults = limitRangeDefaults(object, namespace);
    if (!defaults) return;
    let inner = this.byNamespace.get(namespace);
    if (!inner) {
      inner = new Map();
      this.byNamespace.set(namespace, inner);
    }
    inner.set(defaults.name, defaults);
    this.lists.delete(namespace);
  }

  remove(object: KubeObject, namespace: string): void {
    const inner = this.byNamespace.get(namespace);
    if (!inner?.delete(nameOf(object))) return;
    this.lists.delete(namespace);
    if (inner.size === 0) this.byNamespace.delete(namespace);
  }

  in(namespace: string): readonly LimitRangeDefaults[] {
    let list = this.lists.get(namespace);
    if (!list) {
      list = [...(this.byNamespace.get(namespace)?.values() ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      this.lists.set(namespace, list);
    }
    return list;
  }
}
