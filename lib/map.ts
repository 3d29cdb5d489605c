/**
 * pool.map(): a task per input item, results as an async iterable (Python's `imap` and
 * `imap_unordered`). Items are read lazily, at most `concurrency` ahead of what the
 * caller has taken; outcomes go to one sink, with no promise per task.
 */
import { AbortError, InvalidArgumentError } from './errors.js';
import { describe, milliseconds } from './options.js';
import type { Scheduler } from './scheduler/scheduler.js';
import type { Sink } from './scheduler/task.js';

export interface MapOptions {
  /** Yield results in input order (`imap`), or as they settle (`imap_unordered`). @default true */
  ordered?: boolean;
  /** Items read from the input and submitted together. @default 256 */
  chunkSize?: number;
  /** Most items submitted and not yet taken by the loop. @default 2048 */
  concurrency?: number;
  /** Stops the iteration: it throws ERR_TROUPE_ABORTED, and items not yet started never run. */
  signal?: AbortSignal;
  /** Per-task timeout in ms, as for run(). */
  timeout?: number;
  /**
   * 'throw' (the default, as Python's imap): a failed item throws its error at its place and
   * the rest is dropped. 'yield': failures are yielded as `MapError` values and iteration goes on.
   */
  errors?: 'throw' | 'yield';
}

/** A failed item, yielded in place of its result when `errors: 'yield'`. */
export class MapError {
  constructor(
    readonly index: number,
    readonly error: Error,
  ) {}
}

const PENDING = 0;
const OK = 1;
const FAILED = 2;

/** Outcomes by index (ordered), or in settlement order (unordered), read from `#head` on. */
class Outcomes implements Sink {
  #status: number[] = [];
  #values: unknown[] = [];
  #indexes: number[] = [];
  /** The index of the item at position 0 (ordered). */
  #base = 0;
  #head = 0;
  #wake: (() => void) | undefined;

  constructor(readonly ordered: boolean) {}

  settled(index: number, ok: boolean, value: unknown): void {
    if (this.ordered) {
      this.#status[index - this.#base] = ok ? OK : FAILED;
      this.#values[index - this.#base] = value;
    } else {
      this.#status.push(ok ? OK : FAILED);
      this.#values.push(value);
      this.#indexes.push(index);
    }
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The next outcome, if it is there: [ok, value, index]. */
  take(): [boolean, unknown, number] | undefined {
    const head = this.#head;
    const status = this.#status[head];
    if (status === undefined || status === PENDING) return undefined;
    const outcome: [boolean, unknown, number] = [status === OK, this.#values[head], this.ordered ? this.#base + head : this.#indexes[head]];
    this.#values[head] = undefined;
    this.#head++;
    // What was taken is dropped now and then, not for every item.
    if (this.#head >= 1024 && this.#head * 2 >= this.#status.length) {
      this.#status = this.#status.slice(this.#head);
      this.#values = this.#values.slice(this.#head);
      if (!this.ordered) this.#indexes = this.#indexes.slice(this.#head);
      this.#base += this.#head;
      this.#head = 0;
    }
    return outcome;
  }

  /** Makes room for an item submitted under `index` (ordered). */
  expect(index: number): void {
    if (this.ordered) this.#status[index - this.#base] = PENDING;
  }

  wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      this.#wake = wake;
      signal?.addEventListener('abort', wake, { once: true });
    });
  }
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new InvalidArgumentError(`map(): options.${name} must be an integer >= 1; got ${describe(value)}`);
  }
  return value as number;
}

/** Map options with their defaults filled in. */
export interface ResolvedMapOptions {
  ordered: boolean;
  chunkSize: number;
  concurrency: number;
  errors: 'throw' | 'yield';
  signal: AbortSignal | undefined;
  timeout: number | undefined;
}

export function checkMapOptions(options: MapOptions | undefined): ResolvedMapOptions {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new InvalidArgumentError(`map(): options must be an object; got ${describe(options)}`);
  }
  const { ordered = true, signal, timeout, errors = 'throw' } = options ?? {};
  if (typeof ordered !== 'boolean') throw new InvalidArgumentError(`map(): options.ordered must be a boolean; got ${describe(ordered)}`);
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`map(): options.signal must be an AbortSignal; got ${describe(signal)}`);
  }
  if (errors !== 'throw' && errors !== 'yield') {
    throw new InvalidArgumentError(`map(): options.errors must be 'throw' or 'yield'; got ${describe(errors)}`);
  }
  let checkedTimeout: number | undefined;
  try {
    checkedTimeout = timeout === undefined ? undefined : milliseconds('timeout', timeout, Infinity);
  } catch (error) {
    throw new InvalidArgumentError(`map(): ${(error as Error).message}`);
  }
  return {
    ordered,
    chunkSize: positive('chunkSize', options?.chunkSize, 256),
    concurrency: positive('concurrency', options?.concurrency, 2048),
    errors,
    signal,
    timeout: checkedTimeout,
  };
}

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

export async function* mapTasks<R>(
  scheduler: Scheduler, name: string, input: Input, options: ResolvedMapOptions,
): AsyncGenerator<R | MapError, void, undefined> {
  const { iterator, sync } = iteratorOf(input);
  const outcomes = new Outcomes(options.ordered);
  const { signal, concurrency, chunkSize } = options;
  const runOptions = options.timeout === undefined ? undefined : { timeout: options.timeout };
  let submitted = 0;
  let taken = 0;
  let exhausted = false;
  try {
    for (;;) {
      if (signal?.aborted) throw new AbortError(signal.reason);
      // Read ahead a whole chunk at a time, once there is room for one (or nothing is left
      // in flight): refilling a task at a time would send batches of one.
      while (!exhausted && (concurrency - (submitted - taken) >= chunkSize || submitted === taken)) {
        const room = Math.min(chunkSize, concurrency - (submitted - taken));
        for (let i = 0; i < room; i++) {
          const next = sync ? (iterator as Iterator<unknown>).next() : await iterator.next();
          if (next.done) {
            exhausted = true;
            break;
          }
          const index = submitted++;
          outcomes.expect(index);
          const refusal = scheduler.submitTo(outcomes, index, name, [next.value], runOptions);
          if (refusal) outcomes.settled(index, false, refusal);
        }
      }
      if (exhausted && taken === submitted) return;
      const outcome = outcomes.take();
      if (outcome === undefined) {
        await outcomes.wait(signal);
        continue;
      }
      taken++;
      const [ok, value, index] = outcome;
      if (ok) yield value as R;
      else if (options.errors === 'yield') yield new MapError(index, value as Error);
      else throw value;
    }
  } finally {
    // break, return, a throw or an abort: what has not started never will.
    scheduler.drop(outcomes);
    if (!exhausted) await (iterator as AsyncIterator<unknown>).return?.();
  }
}
