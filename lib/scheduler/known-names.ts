import type { Backend } from '../backends/types.js';

/**
 * The task and class names some backend exports, for refusing a name nobody does. An
 * agent's names stay known while an agent that exports them is attached, and no longer
 * (agents come and go, each announcing up to MAX_NAMES). The pool's own workers all load
 * its one module, and one that dies is replaced: their names stay known for good, so a
 * task is not refused in the gap.
 */
export class KnownNames {
  readonly #agents = new Map<string, number>();
  readonly #local = new Set<string>();
  /** Backends attached that run whatever their module exports, not known yet. */
  #acceptAll = 0;

  attached(backend: Backend): void {
    this.#count(backend, 1);
  }

  detached(backend: Backend): void {
    this.#count(backend, -1);
  }

  has(name: string): boolean {
    return this.#acceptAll > 0 || this.#local.has(name) || this.#agents.has(name);
  }

  #count(backend: Backend, delta: 1 | -1): void {
    if (backend.names === null) {
      this.#acceptAll += delta;
      return;
    }
    if (backend.kind !== 'agent') {
      for (const name of backend.names) this.#local.add(name);
      return;
    }
    for (const name of backend.names) {
      const count = (this.#agents.get(name) ?? 0) + delta;
      if (count > 0) this.#agents.set(name, count);
      else this.#agents.delete(name);
    }
  }
}
