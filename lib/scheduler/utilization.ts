/**
 * Busy time over a sliding window, kept in a few buckets so that recording costs an add.
 * The clock is passed in (`now`, ms), so tests need no sleeps.
 */
export class BusyWindow {
  readonly #bucketMs: number;
  readonly #sums: Float64Array;
  /** Which bucket number (time / bucketMs) each slot holds now. */
  readonly #stamps: Float64Array;
  readonly #since: number;

  constructor(readonly windowMs: number, now: number, buckets = 10) {
    this.#bucketMs = windowMs / buckets;
    this.#sums = new Float64Array(buckets);
    this.#stamps = new Float64Array(buckets).fill(-1);
    this.#since = now;
  }

  record(busyMs: number, now: number): void {
    const bucket = Math.floor(now / this.#bucketMs);
    const i = bucket % this.#sums.length;
    if (this.#stamps[i] !== bucket) {
      this.#stamps[i] = bucket;
      this.#sums[i] = 0;
    }
    this.#sums[i] += busyMs;
  }

  /** Busy ms recorded within the window, and how many ms of time the window covers (less while young). */
  read(now: number): { busy: number; span: number } {
    const current = Math.floor(now / this.#bucketMs);
    let busy = 0;
    for (let i = 0; i < this.#sums.length; i++) if (this.#stamps[i] > current - this.#sums.length) busy += this.#sums[i];
    return { busy, span: Math.min(this.windowMs, now - this.#since) };
  }
}

/** Busy ÷ capacity: `busy` ms over `span` ms on `parallelism` workers, within [0, 1]. */
export function utilization(busy: number, span: number, parallelism: number): number {
  if (span <= 0 || parallelism <= 0) return 0;
  return Math.min(1, busy / (span * parallelism));
}
