/**
 * Sizes pool.map()'s chunks from what earlier ones took: about CHUNK_TARGET_MS of work each,
 * so that tiny tasks go many to a message and long ones one each.
 */

/** Work per chunk that sized chunks aim at: the tail's imbalance over workers stays about this small. */
export const CHUNK_TARGET_MS = 2;
/**
 * Largest sized chunk. Each message costs its sender a write and its receiver a wakeup: for
 * `square` over 500,000 numbers, chunks of 4,096 (concurrency 16,384) ran 6.1–6.6M/s where
 * chunks of 1,024 (concurrency 4,096) ran 3.9–5.2M/s; chunks of 8,192 gained no more.
 */
export const MAX_SIZED_CHUNK = 4_096;
/**
 * Chunks that must come back before sized chunks count as settled: the first measures a
 * single item, and one preempted item would otherwise pass for slow and fill `concurrency`
 * with single-item chunks.
 */
export const SETTLE_CHUNKS = 8;

/** How many items go in a map chunk: fixed (`chunkSize`), or sized from what chunks took. */
export class ChunkSizer {
  /** Items in the next chunk. */
  size: number;
  /** Sized chunks are still smaller than what fits (or too few have come back to say), and double with each chunk back. */
  growing: boolean;
  #msPerItem = -1;
  #measuredChunks = 0;
  readonly #fixed: boolean;
  readonly #most: number;

  constructor(chunkSize: number | undefined, concurrency: number) {
    this.#fixed = chunkSize !== undefined;
    this.size = chunkSize ?? 1;
    this.growing = !this.#fixed;
    this.#most = Math.max(1, Math.min(MAX_SIZED_CHUNK, Math.floor(concurrency / 4)));
  }

  /**
   * A chunk of `count` items took `ms` in its worker. Sized chunks aim at CHUNK_TARGET_MS
   * each, growing at most twofold per chunk back. A worker preempted mid-chunk (three
   * threads on two cores) reports a chunk many times slower than it is: so a rise moves the
   * estimate a tenth of the way, a fall halfway.
   */
  measured(ms: number, count: number): void {
    if (this.#fixed) return;
    const perItem = ms / count;
    const previous = this.#msPerItem;
    this.#msPerItem = previous < 0 ? perItem : previous + (perItem - previous) * (perItem > previous ? 0.1 : 0.5);
    const fits = this.#msPerItem > 0 ? Math.floor(CHUNK_TARGET_MS / this.#msPerItem) : this.#most;
    const target = Math.max(1, Math.min(fits, this.#most));
    this.#measuredChunks++;
    this.size = Math.min(target, 2 * this.size);
    this.growing = this.size < target || this.#measuredChunks < SETTLE_CHUNKS;
  }
}
