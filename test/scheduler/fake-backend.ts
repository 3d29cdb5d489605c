/**
 * A Backend that runs nothing: it records what the scheduler dispatches and lets a test
 * answer it (results, lost, exited, congestion), so scheduler behaviour can be checked
 * without threads, processes or timing.
 */
import type { TransferListItem } from 'node:worker_threads';
import { ERR, OK, type Backend, type BackendHost, type Batch, type LostReason, type WorkerInfo } from '../../lib/backends/types.js';
import { entryArgs, entryCount, entryName, parseResults } from '../../lib/worker/batch.js';
import { serializeError } from '../../lib/errors.js';
import { Scheduler, type SchedulerOptions } from '../../lib/scheduler/scheduler.js';

export interface SentTask {
  id: number;
  name: string;
  args: unknown[];
}

export interface SentBatch {
  tasks: SentTask[];
  transfer: TransferListItem[] | undefined;
  /** performance.now() when dispatch() was called. */
  at: number;
}

export interface FakeOptions {
  id?: string;
  names?: readonly string[] | null;
  parallelism?: number;
  capacity?: number;
  /** Structured-clone every batch in dispatch(), as a real channel would (throws DataCloneError). */
  clone?: boolean;
  /** Turn `ready` false after every dispatch (a congested channel). */
  congest?: boolean;
}

let counter = 0;

export class FakeBackend implements Backend {
  readonly id: string;
  readonly kind = 'thread' as const;
  readonly names: ReadonlySet<string> | null;
  readonly parallelism: number;
  readonly capacity: number;
  ready = true;
  host: BackendHost | undefined;

  readonly clone: boolean;
  readonly congest: boolean;
  /** Every batch accepted by dispatch(), in order. */
  readonly batches: SentBatch[] = [];
  /** Batches whose dispatch() threw. */
  readonly refused: Batch[] = [];
  /** Tasks dispatched and not yet answered, lost or cancelled here: wire id → task. */
  readonly pending = new Map<number, SentTask>();
  /** Most tasks ever pending at once. */
  maxPending = 0;
  /** Each cancel() call's ids. */
  readonly cancelled: number[][] = [];
  /** Each setBusy() call's argument. */
  readonly busyCalls: boolean[] = [];
  /** inFlight values info() was asked about. */
  readonly infoCalls: number[] = [];

  constructor(options: FakeOptions = {}) {
    this.id = options.id ?? `fake-${++counter}`;
    this.names = options.names === null || options.names === undefined ? null : new Set(options.names);
    this.parallelism = options.parallelism ?? 1;
    this.capacity = options.capacity ?? 1024;
    this.clone = options.clone ?? false;
    this.congest = options.congest ?? false;
  }

  // --- Backend ---------------------------------------------------------------------------

  attach(host: BackendHost): void {
    this.host = host;
  }

  dispatch(batch: Batch, transfer?: TransferListItem[]): void {
    if (this.clone) {
      try {
        structuredClone(batch);
      } catch (error) {
        this.refused.push(batch);
        throw error;
      }
    }
    const tasks: SentTask[] = [];
    for (let i = 0; i < entryCount(batch); i++) {
      const task = { id: batch.base + i, name: entryName(batch, i), args: [...entryArgs(batch, i)] };
      tasks.push(task);
      this.pending.set(task.id, task);
    }
    this.batches.push({ tasks, transfer, at: performance.now() });
    this.maxPending = Math.max(this.maxPending, this.pending.size);
    if (this.congest) this.ready = false;
  }

  cancel(ids: readonly number[]): void {
    this.cancelled.push([...ids]);
    for (const id of ids) this.pending.delete(id);
  }

  drop(): void {}

  reply(): void {}

  setBusy(busy: boolean): void {
    this.busyCalls.push(busy);
  }

  info(inFlight: number): WorkerInfo[] {
    this.infoCalls.push(inFlight);
    return [{ id: this.id, kind: this.kind, state: inFlight > 0 ? 'busy' : 'idle', inFlight }];
  }

  async close(): Promise<void> {}

  async destroy(): Promise<void> {}

  // --- Driving it from a test --------------------------------------------------------------

  get sent(): SentTask[] {
    return this.batches.flatMap((b) => b.tasks);
  }

  get lastBatch(): SentTask[] {
    return this.batches[this.batches.length - 1]?.tasks ?? [];
  }

  get pendingIds(): number[] {
    return [...this.pending.keys()];
  }

  #host(): BackendHost {
    if (this.host === undefined) throw new Error(`${this.id} is not attached`);
    return this.host;
  }

  /** Sends a results message made of flat `[id, status, value, …]` triples. */
  results(triples: unknown[], busyMs = 0): void {
    const ids: number[] = [];
    const values: unknown[] = [];
    const failed: number[] = [];
    for (let i = 0; i < triples.length; i += 3) {
      this.pending.delete(triples[i] as number);
      if (triples[i + 1] !== OK) failed.push(values.length);
      ids.push(triples[i] as number);
      values.push(triples[i + 2]);
    }
    this.#host().results(this, parseResults({ base: 0, ids, values, failed, busy: busyMs, run: busyMs }));
  }

  /** Answers the given ids OK, in one message. */
  ok(entries: ReadonlyArray<readonly [id: number, value: unknown]>, busyMs = 0): void {
    this.results(entries.flatMap(([id, value]) => [id, OK, value]), busyMs);
  }

  /** Answers one id with an error, as a worker would send it. */
  fail(id: number, error: unknown, busyMs = 0): void {
    this.results([id, ERR, structuredClone(serializeError(error))], busyMs);
  }

  /**
   * Answers everything pending OK in one message, each with `value(task)` (by default
   * its first argument). Returns how many it answered.
   */
  answerAll(value: (task: SentTask) => unknown = (t) => t.args[0], busyMs = 0): number {
    const tasks = [...this.pending.values()];
    if (tasks.length > 0) this.ok(tasks.map((t) => [t.id, value(t)] as const), busyMs);
    return tasks.length;
  }

  lose(ids: readonly number[], reason: LostReason, error: Error = new Error(`lost: ${reason}`)): void {
    for (const id of ids) this.pending.delete(id);
    this.#host().lost(this, ids, reason, error);
  }

  /** The backend is gone. By default it stops being ready first, as ProcessBackend does. */
  exit(reason: LostReason, error: Error = new Error('exited'), { stayReady = false } = {}): void {
    if (!stayReady) this.ready = false;
    this.pending.clear();
    this.#host().exited(this, reason, error);
  }

  /** The channel drained: ready again, and say so. */
  drained(): void {
    this.ready = true;
    this.#host().writable(this);
  }
}

export const defaults: SchedulerOptions = {
  retries: 2,
  maxQueue: Infinity,
  timeout: Infinity,
  batchSize: 8,
  // Most tests here are about what happens to tasks in flight, not about slow start: they
  // begin with room for several per worker (dispatch.test.ts checks slow start itself).
  initialWindow: 16,
  waitForBackends: false,
};

export function makeScheduler(options: Partial<SchedulerOptions> = {}, ...backends: FakeBackend[]): Scheduler {
  const scheduler = new Scheduler({ ...defaults, ...options });
  for (const backend of backends) scheduler.attach(backend);
  return scheduler;
}

/** Lets every queued microtask (the scheduler's flush among them) run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Real time, for the few tests about timers; always small. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Tracked<T> {
  promise: Promise<T>;
  state: 'pending' | 'resolved' | 'rejected';
  value: T | undefined;
  error: (Error & { code?: string }) | undefined;
  /** How many times a handler ran (a promise settles at most once, so 0 or 1). */
  settlements: number;
}

/** Watches a promise without awaiting it (and without leaving a rejection unhandled). */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const t: Tracked<T> = { promise, state: 'pending', value: undefined, error: undefined, settlements: 0 };
  promise.then(
    (value) => {
      t.state = 'resolved';
      t.value = value;
      t.settlements++;
    },
    (error: Error) => {
      t.state = 'rejected';
      t.error = error;
      t.settlements++;
    },
  );
  return t;
}

const TIMED_OUT = Symbol('timed out');

/** Settles like `promise`, or rejects if it has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms = 1000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    const outcome = await Promise.race([promise, deadline]);
    if (outcome === TIMED_OUT) throw new Error(`did not settle within ${ms} ms`);
    return outcome as T;
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with the promise's rejection; fails if it resolves or does not settle within `ms`. */
export async function rejection(promise: Promise<unknown>, ms = 1000): Promise<Error & { code?: string }> {
  const settled = within(
    promise.then(
      () => ({ resolved: true as const }),
      (error: Error & { code?: string }) => ({ resolved: false as const, error }),
    ),
    ms,
  );
  const outcome = await settled;
  if (outcome.resolved) throw new Error('expected a rejection, but the promise resolved');
  return outcome.error;
}
