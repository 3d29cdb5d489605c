import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export interface Percentiles {
  /** Milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  count: number;
}

/** Samples a Latency keeps before it records them. */
const PENDING = 1_024;

/**
 * A latency histogram in microseconds (perf_hooks), read out in milliseconds. Samples are
 * recorded into it in runs, not one by one: a lone record() from the scheduler's path cost
 * about 0.5 µs (cold, per call into the native histogram), a run of them a few ns each.
 */
export class Latency {
  readonly #histogram: RecordableHistogram = createHistogram();
  readonly #pending = new Float64Array(PENDING);
  #count = 0;

  record(ms: number): void {
    this.#pending[this.#count++] = ms;
    if (this.#count === PENDING) this.#recordPending();
  }

  #recordPending(): void {
    const h = this.#histogram;
    for (let i = 0; i < this.#count; i++) {
      // Times come from workers and agents: one that reports an absurd time must not make the
      // native histogram throw (it takes 1 to 2^53 - 1), here or in stats().
      const us = Math.round(this.#pending[i] * 1000);
      h.record(us >= 1 ? Math.min(us, Number.MAX_SAFE_INTEGER) : 1);
    }
    this.#count = 0;
  }

  read(): Percentiles {
    this.#recordPending();
    const h = this.#histogram;
    const ms = (us: number) => (h.count === 0 ? 0 : us / 1000);
    return {
      p50: ms(h.percentile(50)),
      p90: ms(h.percentile(90)),
      p99: ms(h.percentile(99)),
      max: ms(h.max),
      mean: ms(h.mean),
      count: h.count,
    };
  }
}
