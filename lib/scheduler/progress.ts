/**
 * Hands a task's progress reports to its `onProgress` listener, latest first: reports that
 * arrive while the listener is still busy (an async listener not yet settled, or reports
 * that came in one burst) are coalesced, and the listener next gets the latest of them.
 * So a slow listener never builds up a backlog.
 */
export class ProgressRelay {
  readonly #listener: (value: unknown) => unknown;
  #latest: unknown = undefined;
  #pending = false;
  /** A delivery is scheduled or the listener's promise is pending. */
  #busy = false;
  /** The listener returned a promise that has not settled yet. */
  #inListener = false;
  #closed = false;

  constructor(listener: (value: unknown) => unknown) {
    this.#listener = listener;
  }

  push(value: unknown): void {
    if (this.#closed) return;
    this.#latest = value;
    this.#pending = true;
    if (this.#busy) return;
    this.#busy = true;
    // After the I/O of this turn: reports in the same burst are coalesced first.
    setImmediate(this.#deliver);
  }

  /**
   * The task settles: a report not yet handed over goes now, before the outcome (unless the
   * listener is still on an earlier one: then the outcome supersedes it); then no more.
   */
  close(): void {
    if (this.#closed) return;
    if (this.#pending && !this.#inListener) this.#call();
    this.#closed = true;
    this.#pending = false;
    this.#latest = undefined;
  }

  #deliver = (): void => {
    if (this.#closed || !this.#pending) {
      this.#busy = false;
      return;
    }
    const returned = this.#call();
    if (returned !== null && typeof returned === 'object' && typeof (returned as PromiseLike<unknown>).then === 'function') {
      this.#inListener = true;
      (returned as PromiseLike<unknown>).then(this.#next, this.#next);
    } else this.#next();
  };

  #next = (): void => {
    this.#inListener = false;
    if (this.#pending && !this.#closed) setImmediate(this.#deliver);
    else this.#busy = false;
  };

  /** Calls the listener with the latest report. What it throws or rejects is its own affair. */
  #call(): unknown {
    const value = this.#latest;
    this.#pending = false;
    this.#latest = undefined;
    try {
      return this.#listener(value);
    } catch {
      return undefined;
    }
  }
}
