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

/** A latency histogram in microseconds (perf_hooks), read out in milliseconds. */
export class Latency {
  readonly #histogram: RecordableHistogram = createHistogram();

  record(ms: number): void {
    this.#histogram.record(ms >= 0.001 ? Math.round(ms * 1000) : 1);
  }

  read(): Percentiles {
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
