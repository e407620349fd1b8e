// Counter increments summed on the hot path. prom-client's Counter.inc turns its labels into a
// fresh string and looks it up in a dictionary on every call: a review's ten increments cost
// about 35,000 instructions. A tally finds one entry per label set through Maps of the label
// values (strings the code already holds) and adds what it summed to the Counter whenever the
// Counter is read, from the Counter's collect(), so a scrape or get() sees every increment.
import type { Counter } from 'prom-client';

interface Entry<L extends string> {
  readonly labels: Record<L, string>;
  n: number;
}

class Node<L extends string> {
  readonly next = new Map<string, Node<L>>();
  entry: Entry<L> | undefined = undefined;
}

export class Tally<L extends string> {
  readonly #names: readonly L[];
  readonly #root = new Node<L>();
  readonly #entries: Array<Entry<L>> = [];

  constructor(names: readonly L[]) {
    this.#names = names;
  }

  /** Adds `n` for one label set; `values` are in the order of the names. */
  add(values: readonly string[], n: number): void {
    let node = this.#root;
    for (const value of values) {
      let next = node.next.get(value);
      if (next === undefined) {
        next = new Node<L>();
        node.next.set(value, next);
      }
      node = next;
    }
    let entry = node.entry;
    if (entry === undefined) {
      const labels = {} as Record<L, string>;
      this.#names.forEach((name, i) => {
        labels[name] = values[i] ?? '';
      });
      entry = { labels, n: 0 };
      node.entry = entry;
      this.#entries.push(entry);
    }
    entry.n += n;
  }

  /** Moves the sums into `counter`; label sets that were never added stay absent, as before. */
  drainInto(counter: Counter<L>): void {
    for (const entry of this.#entries) {
      if (entry.n === 0) continue;
      counter.inc(entry.labels, entry.n);
      entry.n = 0;
    }
  }
}
