/**
 * pool.map(): an async iterable of `name(item)` for each input item (Python's `imap` and
 * `imap_unordered`). Items travel in chunks, as with Python's `chunksize`: a chunk is one
 * task whose worker runs `name` on each of its items, so the scheduler's cost is paid per
 * chunk. Chunks are sized from what earlier ones took, small for long tasks (the work stays
 * spread over the workers) and large for tiny ones. The input is read lazily, at most
 * `concurrency` items ahead of what the loop has taken, and there is no promise per item.
 */
import { ChunkSizer } from './chunk-sizer.js';
import { AbortError, deserializeError, InvalidArgumentError, QueueFullError } from './errors.js';
import { MapError, type ResolvedMapOptions } from './map-options.js';
import { describe } from './options.js';
import type { Scheduler } from './scheduler/scheduler.js';
import type { Sink } from './scheduler/task.js';
import { parseChunkOutcome } from './worker/batch.js';
import { packNumbers } from './worker/packed.js';

/**
 * Chunks in flight while sized chunks are still growing toward what fits (before any has
 * come back, each is one item): filling `concurrency` with them would send it all small.
 */
const GROWING_AHEAD = 64;

type Input = Iterable<unknown> | AsyncIterable<unknown>;

/** The input's iterator; a plain (sync) one is read without awaiting each item. */
function iteratorOf(input: Input): { iterator: Iterator<unknown> | AsyncIterator<unknown>; sync: boolean } {
  if (input !== null && typeof input === 'object' && Symbol.asyncIterator in input) {
    return { iterator: input[Symbol.asyncIterator](), sync: false };
  }
  if (input !== null && (typeof input === 'object' || typeof input === 'string') && Symbol.iterator in Object(input)) {
    return { iterator: (input as Iterable<unknown>)[Symbol.iterator](), sync: true };
  }
  throw new InvalidArgumentError(`map(): items must be an iterable or an async iterable; got ${describe(input)}`);
}

/** A chunk from submission until the loop has taken its last item. */
class Chunk {
  /** Each item's value, or undefined when the whole chunk failed (`error`). */
  values: ArrayLike<unknown> | undefined = undefined;
  /** Indexes of failed items, ascending. */
  failed: readonly number[] | undefined = undefined;
  error: Error | undefined = undefined;

  constructor(
    /** Input index of its first item. */
    readonly first: number,
    readonly count: number,
  ) {}

  get settled(): boolean {
    return this.values !== undefined || this.error !== undefined;
  }
}

const DONE: IteratorReturnResult<void> = { value: undefined, done: true };
/** #take() found no item ready. */
const NONE = Symbol('none');

/**
 * The iterator pool.map() returns. A hand-written AsyncGenerator rather than an `async
 * function*`: an item already back is handed over with one resolved promise, which costs a
 * fraction of a generator's step.
 */
export class MapIterator<R> implements AsyncGenerator<R | MapError, void, undefined>, Sink {
  readonly #scheduler: Scheduler;
  readonly #name: string;
  readonly #options: ResolvedMapOptions;
  readonly #runOptions: { timeout: number } | undefined;
  readonly #iterator: Iterator<unknown> | AsyncIterator<unknown>;
  readonly #sync: boolean;
  /** Chunks submitted, by sequence number, until they settle. */
  readonly #inFlight = new Map<number, Chunk>();
  /** Chunks to read, in input order (ordered) or as they settled (unordered). */
  #queue: Chunk[] = [];
  #queueHead = 0;
  #current: Chunk | undefined = undefined;
  /** The next item of #current to hand over, and the next of its failures. */
  #k = 0;
  #f = 0;
  #seq = 0;
  #submitted = 0;
  #taken = 0;
  #exhausted = false;
  #finished = false;
  readonly #sizer: ChunkSizer;
  /** Calls of next() waiting for a chunk to settle, or for the input to end or fail. */
  #wakers: (() => void)[] = [];
  /** The input is being read (#refill): one reader at a time keeps items in order. */
  #reading = false;
  /** Items read for the next chunk, and how many it takes. */
  #partial: unknown[] = [];
  #chunkSize = 1;
  /** Sends a chunk of a slow async input as it is when its next item has not come by the next turn. */
  #flushTimer: NodeJS.Immediate | undefined = undefined;
  /** Chunks the pool's queue had no room for (`maxQueue`), in order: they go when it drains. */
  #blocked: { seq: number; items: ArrayLike<unknown> }[] = [];
  /** What reading the input threw: thrown at its place, after the items read before it. */
  #inputError: { error: unknown } | undefined = undefined;

  constructor(scheduler: Scheduler, name: string, input: Input, options: ResolvedMapOptions) {
    const { iterator, sync } = iteratorOf(input);
    this.#scheduler = scheduler;
    this.#name = name;
    this.#options = options;
    this.#runOptions = options.timeout === undefined ? undefined : { timeout: options.timeout };
    this.#iterator = iterator;
    this.#sync = sync;
    this.#sizer = new ChunkSizer(options.chunkSize, options.concurrency);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<R | MapError, void>> {
    // The common case: an item is here, and no refill is due or one is under way.
    if (!this.#finished && (this.#reading || !this.#refillDue()) && this.#options.signal?.aborted !== true) {
      const item = this.#take();
      if (item !== NONE) return item;
    }
    return this.#advance();
  }

  async return(): Promise<IteratorResult<R | MapError, void>> {
    await this.#finish();
    return DONE;
  }

  async throw(error: unknown): Promise<IteratorResult<R | MapError, void>> {
    await this.#finish();
    throw error;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#finish();
  }

  /** Sink: a chunk settled (its task's value is the chunk's outcome) or failed as a whole. */
  settled(seq: number, ok: boolean, value: unknown): void {
    const chunk = this.#inFlight.get(seq);
    if (chunk === undefined) return;
    this.#inFlight.delete(seq);
    if (!ok) chunk.error = value as Error;
    else {
      try {
        const outcome = parseChunkOutcome(value, chunk.count);
        chunk.values = outcome.values;
        chunk.failed = outcome.failed;
        this.#sizer.measured(outcome.ms, chunk.count);
      } catch (error) {
        chunk.error = error as Error;
      }
    }
    if (!this.#options.ordered) this.#queue.push(chunk);
    this.#wakeAll();
  }

  #wakeAll(): void {
    const wakers = this.#wakers;
    if (wakers.length === 0) return;
    this.#wakers = [];
    for (const wake of wakers) wake();
  }

  /**
   * Results are handed over while the input is still being read: a slow async input must
   * not hold back what has come back, nor an abort.
   */
  async #advance(): Promise<IteratorResult<R | MapError, void>> {
    const { signal } = this.#options;
    try {
      for (;;) {
        if (this.#finished) return DONE;
        if (signal?.aborted) throw new AbortError(signal.reason);
        if (!this.#reading && this.#refillDue()) void this.#refill();
        const item = this.#take();
        if (item !== NONE) return await item;
        if (!this.#reading && this.#taken === this.#submitted) {
          if (this.#inputError !== undefined) throw this.#inputError.error;
          if (this.#exhausted) {
            await this.#finish();
            return DONE;
          }
        }
        await this.#wait(signal);
      }
    } catch (error) {
      await this.#finish(true);
      throw error;
    }
  }

  /** Room for a chunk (or nothing in flight), and input left. */
  #refillDue(): boolean {
    if (this.#exhausted || this.#inputError !== undefined) return false;
    const inFlight = this.#submitted - this.#taken;
    if (inFlight === 0) return true;
    if (this.#sizer.growing && this.#inFlight.size >= GROWING_AHEAD) return false;
    return this.#options.concurrency - inFlight >= this.#sizer.size;
  }

  /**
   * Reads the input and submits chunks while one is due. A plain iterator is read at once;
   * an async one item by item, and a chunk whose next item has not come by the next turn
   * goes as it is, so that a slow input's items do not wait for a full chunk.
   */
  async #refill(): Promise<void> {
    const iterator = this.#iterator;
    this.#reading = true;
    try {
      while (!this.#finished && (this.#partial.length > 0 || this.#refillDue())) {
        const next = this.#sync ? (iterator as Iterator<unknown>).next() : await iterator.next();
        if (this.#finished) return;
        if (next.done) {
          this.#exhausted = true;
          break;
        }
        const partial = this.#partial;
        if (partial.length === 0) this.#chunkSize = Math.max(1, Math.min(this.#sizer.size, this.#options.concurrency - (this.#submitted - this.#taken)));
        partial.push(next.value);
        if (partial.length >= this.#chunkSize) this.#submitPartial();
        else if (!this.#sync) this.#flushTimer ??= setImmediate(this.#submitPartial);
      }
    } catch (error) {
      this.#inputError = { error };
    } finally {
      this.#submitPartial();
      this.#reading = false;
      this.#wakeAll();
    }
  }

  #stopFlushTimer(): void {
    if (this.#flushTimer !== undefined) clearImmediate(this.#flushTimer);
    this.#flushTimer = undefined;
  }

  /** Submits the items read for the next chunk, if any. */
  readonly #submitPartial = (): void => {
    this.#stopFlushTimer();
    const items = this.#partial;
    if (items.length === 0 || this.#finished) return;
    this.#partial = [];
    const seq = this.#seq++;
    const chunk = new Chunk(this.#submitted, items.length);
    this.#submitted += items.length;
    this.#inFlight.set(seq, chunk);
    if (this.#options.ordered) this.#queue.push(chunk);
    this.#blocked.push({ seq, items: packNumbers(items) });
    if (this.#blocked.length === 1) this.#submitBlocked();
  };

  /**
   * Submits the chunks waiting, in order. One the pool's queue is full for waits, with those
   * after it, for the queue to drain: a map is bounded by its `concurrency`, and paces itself
   * to the pool rather than failing its items.
   */
  readonly #submitBlocked = (): void => {
    const blocked = this.#blocked;
    while (blocked.length > 0 && !this.#finished) {
      const { seq, items } = blocked[0];
      const refusal = this.#scheduler.submitChunk(this, seq, this.#name, items, this.#runOptions);
      if (refusal instanceof QueueFullError) {
        this.#scheduler.once('drain', this.#submitBlocked);
        return;
      }
      blocked.shift();
      if (refusal) this.settled(seq, false, refusal);
    }
  };

  /** The next item's result if it is back, as a promise (rejected for a failure when errors are thrown). */
  #take(): Promise<IteratorResult<R | MapError, void>> | typeof NONE {
    let chunk = this.#current;
    while (chunk === undefined || this.#k >= chunk.count) {
      chunk = this.#queue[this.#queueHead];
      if (chunk === undefined || !chunk.settled) return NONE;
      this.#queue[this.#queueHead++] = undefined!;
      if (this.#queueHead >= 1024) {
        this.#queue = this.#queue.slice(this.#queueHead);
        this.#queueHead = 0;
      }
      this.#current = chunk;
      this.#k = 0;
      this.#f = 0;
    }
    const k = this.#k++;
    this.#taken++;
    let error = chunk.error;
    if (error === undefined) {
      const failed = chunk.failed;
      if (failed === undefined || failed[this.#f] !== k) return Promise.resolve({ value: chunk.values![k] as R, done: false });
      this.#f++;
      error = deserializeError(chunk.values![k]);
    }
    if (this.#options.errors === 'yield') return Promise.resolve({ value: new MapError(chunk.first + k, error), done: false });
    return this.#finish(true).then(() => Promise.reject(error));
  }

  #wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      this.#wakers.push(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  /**
   * break, return, a throw, a failure or an abort: what has not started never will. The
   * input is closed, and on the loop's own break, return or throw its cleanup is awaited. A
   * failure or an abort does not wait for an input still busy with a read (which may never
   * end): its close comes when the read does.
   */
  async #finish(ending = false): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#stopFlushTimer();
    this.#scheduler.drop(this);
    this.#inFlight.clear();
    this.#queue = [];
    this.#current = undefined;
    this.#partial = [];
    this.#blocked = [];
    this.#scheduler.off('drain', this.#submitBlocked);
    this.#wakeAll();
    if (this.#exhausted || this.#inputError !== undefined) return;
    const closing = (this.#iterator as AsyncIterator<unknown>).return?.();
    if (ending && this.#reading && !this.#sync) Promise.resolve(closing).catch(() => {});
    else await closing;
  }
}
