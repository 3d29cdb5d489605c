import { OK, type Results } from './batch.js';
import { packNumbers } from './packed.js';
import { atTurnEnd } from '../timers.js';

/**
 * Results gathered until they are sent: whatever settles in one turn goes out as one
 * message. Ids stay implicit (`base + i`) while they come in order, which they do for the
 * synchronous entries of a batch.
 */
export class ResultBuffer {
  readonly #emit: (results: Results) => void;
  #base = 0;
  #ids: number[] | undefined = undefined;
  #values: unknown[] = [];
  #failed: number[] | undefined = undefined;
  #started: number[] | undefined = undefined;
  /** The latest progress report of each task since the last message. */
  #progress: Map<number, unknown> | undefined = undefined;
  #busy = 0;
  #run = 0;
  #scheduled = false;

  constructor(emit: (results: Results) => void) {
    this.#emit = emit;
  }

  get size(): number {
    return this.#values.length;
  }

  push(id: number, status: number, value: unknown): void {
    const index = this.#values.length;
    if (index === 0) this.#base = id;
    else if (this.#ids !== undefined) this.#ids.push(id);
    else if (id !== this.#base + index) {
      this.#ids = Array.from({ length: index }, (_, i) => this.#base + i);
      this.#ids.push(id);
    }
    this.#values.push(value);
    if (status !== OK) (this.#failed ??= []).push(index);
  }

  /** An entry began and waits on a promise: its value comes later. */
  started(id: number): void {
    (this.#started ??= []).push(id);
  }

  /** A running task's progress: only its latest report waits to be sent. */
  progress(id: number, value: unknown): void {
    (this.#progress ??= new Map()).set(id, value);
  }

  /** Adds task time: `busy` ms of the event loop, `run` ms from start to settlement (summed). */
  time(busy: number, run: number): void {
    this.#busy += busy;
    this.#run += run;
  }

  /** Sends at the end of this turn, with whatever else settles in it. */
  flushSoon(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    atTurnEnd(this.flush);
  }

  /** Sends what is gathered; with `always`, an empty message too (it says the batches before it were handled). */
  flush = (always = false): void => {
    this.#scheduled = false;
    if (!always && this.#values.length === 0 && this.#started === undefined && this.#progress === undefined) return;
    // Fields that are absent are left out, not sent as undefined: every one costs on the channel.
    const results: { -readonly [K in keyof Results]: Results[K] } = { base: this.#base, values: packNumbers(this.#values), busy: this.#busy, run: this.#run };
    if (this.#progress !== undefined) results.progress = [...this.#progress];
    if (this.#ids !== undefined) results.ids = this.#ids;
    if (this.#failed !== undefined) results.failed = this.#failed;
    if (this.#started !== undefined) results.started = this.#started;
    this.clear();
    this.#emit(results);
  };

  clear(): void {
    this.#ids = undefined;
    this.#values = [];
    this.#failed = undefined;
    this.#started = undefined;
    this.#progress = undefined;
    this.#busy = 0;
    this.#run = 0;
  }
}
