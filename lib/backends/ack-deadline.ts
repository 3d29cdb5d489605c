/**
 * The deadline an agent has to acknowledge each batch it is sent. An agent acknowledges on
 * receipt (not when the work is done; at most the welcome's ackWithinMs later, so that the ack
 * rides with quick results), so only a peer that takes work and sits on it, or one whose event
 * loop is stuck, misses it.
 */
export class AckDeadline {
  readonly #timeoutMs: number;
  readonly #onExpired: () => void;
  readonly #now: () => number;
  /** Bases of batches sent and not yet acknowledged, oldest first, with when they were sent. */
  #bases: number[] = [];
  #times: number[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, onExpired: () => void, now: () => number = () => performance.now()) {
    this.#timeoutMs = timeoutMs;
    this.#onExpired = onExpired;
    this.#now = now;
  }

  get pending(): number {
    return this.#bases.length - this.#head;
  }

  sent(base: number): void {
    this.#bases.push(base);
    this.#times.push(this.#now());
    if (this.#timer === undefined) this.#arm();
  }

  /**
   * Every batch with a base up to `upTo` has arrived. The timer stays armed when none is left
   * (it then finds nothing and stops): a lone round trip would otherwise make and clear one
   * per batch.
   */
  acked(upTo: number): void {
    while (this.#head < this.#bases.length && this.#bases[this.#head] <= upTo) this.#head++;
    if (this.#head === this.#bases.length) {
      this.#bases.length = 0;
      this.#times.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#bases.length) {
      this.#bases = this.#bases.slice(this.#head);
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Whether the oldest batch still unacknowledged is past its deadline. */
  get expired(): boolean {
    return this.pending > 0 && this.#now() - this.#times[this.#head] >= this.#timeoutMs;
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    const due = this.#times[this.#head] + this.#timeoutMs - this.#now();
    this.#timer = setTimeout(this.#fire, Math.max(0, due)).unref();
  }

  #fire = (): void => {
    this.#timer = undefined;
    if (this.pending === 0) return;
    if (this.expired) this.#onExpired();
    else this.#arm();
  };
}
