// What the webhook knows that can change while it runs: the engine config (file reloads), the
// cluster context (informers, later) and readiness. Each is one reference, swapped whole, so a
// review that read it once sees a consistent value to its end.
import { EMPTY_CONTEXT } from '../engine/index.js';
import type { ClusterContext, EngineConfig } from '../engine/index.js';
import type { ReviewState } from './review.js';

/** Readiness conditions: `certificates` once TLS is loaded; later `caches` once informers synced. */
export type ConditionName = 'certificates' | 'caches' | (string & {});

export interface Readiness {
  ready: boolean;
  shuttingDown: boolean;
  conditions: Record<string, boolean>;
}

export class GateState implements ReviewState {
  #engineConfig: EngineConfig;
  #context: ClusterContext;
  readonly #conditions = new Map<string, boolean>();
  #shuttingDown = false;

  readonly #clock: () => number;

  constructor(
    engineConfig: EngineConfig,
    options: { context?: ClusterContext; conditions?: readonly ConditionName[]; now?: () => number } = {},
  ) {
    this.#engineConfig = engineConfig;
    this.#clock = options.now ?? Date.now;
    this.#context = options.context ?? EMPTY_CONTEXT;
    for (const name of options.conditions ?? []) this.#conditions.set(name, false);
  }

  get engineConfig(): EngineConfig {
    return this.#engineConfig;
  }

  set engineConfig(config: EngineConfig) {
    this.#engineConfig = config;
  }

  /** The time reviews judge deadlines and expiries by. */
  now(): number {
    return this.#clock();
  }

  get context(): ClusterContext {
    return this.#context;
  }

  /** What a review reads, judged under `engineConfig` (the config a large body's fields were kept for). */
  judgedUnder(engineConfig: EngineConfig): ReviewState {
    return { engineConfig, context: this.#context, now: () => this.now() };
  }

  set context(context: ClusterContext) {
    this.#context = context;
  }

  /** Declares or updates a condition; readiness needs every declared one to be true. */
  setCondition(name: ConditionName, value: boolean): void {
    this.#conditions.set(name, value);
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** One way: once shutting down, the pod never becomes ready again. */
  beginShutdown(): void {
    this.#shuttingDown = true;
  }

  readiness(): Readiness {
    const conditions = Object.fromEntries(this.#conditions);
    const allTrue = [...this.#conditions.values()].every(Boolean);
    return { ready: allTrue && !this.#shuttingDown, shuttingDown: this.#shuttingDown, conditions };
  }
}
