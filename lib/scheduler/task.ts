import type { TransferListItem } from 'node:worker_threads';
import type { Backend } from '../backends/types.js';
import { BusyWindow } from './utilization.js';
import { ProgressRelay } from './progress.js';

/** The window over which stats() measures utilization. */
export const UTILIZATION_WINDOW_MS = 10_000;

export const QUEUED = 0;
export const RUNNING = 1;
export const DONE = 2;

/** Workers an agent is taken to have before its results show more (it may announce up to 4,096). */
const UNPROVEN_WORKERS = 64;

/** How much work, in ms of task time, a worker is given beyond the task it runs. */
const TARGET_BACKLOG_MS = 5;

/** A moment shared by every task submitted in one turn, or sent in one batch. */
export interface Stamp {
  readonly at: number;
}

export const NEVER: Stamp = { at: 0 };

const SOLO = 1;
const SUSPECT = 2;
const CANCELLABLE = 4;
const ASYNC = 8;
const CHUNK = 16;

/** What only some tasks need, kept out of Task so that the common one stays small. */
export class Extras {
  timer: NodeJS.Timeout | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  readonly progress: ProgressRelay | undefined;

  constructor(
    readonly signal: AbortSignal | undefined,
    readonly timeout: number,
    readonly transfer: readonly TransferListItem[] | undefined,
    onProgress?: (value: unknown) => unknown,
  ) {
    this.progress = onProgress && new ProgressRelay(onProgress);
  }
}

/**
 * One task from submit to settlement. Millions pass through a busy pool each second, so
 * it holds no per-task closures, timestamps or rarely used fields: those are shared stamps
 * and the optional Extras.
 */
export class Task {
  state = QUEUED;
  wireId = 0;
  attempts = 0;
  #flags = 0;
  slot: Slot | undefined = undefined;
  dispatched: Stamp = NEVER;
  resolve: (value: unknown) => void = noop;
  reject: (error: Error) => void = noop;
  /** Where the outcome goes instead of a promise (pool.map), and this task's place there. */
  sink: Sink | undefined = undefined;
  index = 0;

  constructor(
    readonly name: string,
    readonly args: unknown[],
    readonly enqueued: Stamp,
    readonly extras: Extras | undefined,
    cancellable: boolean,
  ) {
    if (cancellable) this.#flags = CANCELLABLE;
  }

  /** Goes alone in its batch: it was in a batch that failed as a whole. */
  get solo(): boolean {
    return (this.#flags & SOLO) !== 0;
  }

  /** Was running when its worker died: on a single-worker backend it runs with nothing beside it. */
  get suspect(): boolean {
    return (this.#flags & SUSPECT) !== 0;
  }

  /** May have to be stopped while it runs (it has a signal or a timeout). */
  get cancellable(): boolean {
    return (this.#flags & CANCELLABLE) !== 0;
  }

  /** Began and waits on a promise in its worker: it holds a place in flight, not in the window. */
  get async(): boolean {
    return (this.#flags & ASYNC) !== 0;
  }

  set async(value: boolean) {
    this.#flags = value ? this.#flags | ASYNC : this.#flags & ~ASYNC;
  }

  /** A map chunk: its one argument lists items, and its task runs once per item (pool.map). */
  get chunk(): boolean {
    return (this.#flags & CHUNK) !== 0;
  }

  markChunk(): void {
    this.#flags |= CHUNK;
  }

  isolate(suspect: boolean): void {
    this.#flags |= suspect ? SOLO | SUSPECT : SOLO;
  }
}

function noop(): void {}

/** Receives the outcomes of many tasks without a promise each. */
export interface Sink {
  settled(index: number, ok: boolean, value: unknown): void;
}

/** Hands a task's outcome to its promise or its sink. */
export function fulfil(task: Task, value: unknown): void {
  if (task.sink !== undefined) task.sink.settled(task.index, true, value);
  else task.resolve(value);
}

export function refuse(task: Task, error: Error): void {
  if (task.sink !== undefined) task.sink.settled(task.index, false, error);
  else task.reject(error);
}

let binding: Task | undefined;

function bindSettlers(resolve: (value: unknown) => void, reject: (error: Error) => void): void {
  binding!.resolve = resolve;
  binding!.reject = reject;
}

/** The task's promise, made without a closure per task. */
export function promiseFor<T>(task: Task): Promise<T> {
  binding = task;
  const promise = new Promise(bindSettlers) as Promise<T>;
  binding = undefined;
  return promise;
}

export class Slot {
  inFlight = 0;
  /** Of those, tasks that began and wait on a promise: they leave the worker free. */
  waiting = 0;
  busy = false;
  /** Actor messages sent to it are awaited (see Scheduler.awaitActors). */
  actorsAwaited = false;
  /** When it last became idle (performance.now()). */
  idleSince: number;
  /** Exited: takes nothing more, even while its remaining tasks are being re-queued. */
  gone = false;
  /** A suspect task running alone on this single-worker backend: nothing joins it until it settles. */
  isolating: Task | undefined = undefined;
  /** Most tasks it may hold now: one per worker at first, growing as run times are learnt (slow start). */
  window: number;
  avgTaskMs = -1;
  /** Busy time its worker reported, for utilization. */
  readonly work: BusyWindow;

  constructor(readonly backend: Backend, initialWindow: number, now = performance.now()) {
    this.work = new BusyWindow(UTILIZATION_WINDOW_MS, now);
    this.idleSince = now;
    // An agent's workers are only its word: until its results show them, it is sent work for
    // at most UNPROVEN_WORKERS (the window then grows with what it answers).
    const workers = backend.kind === 'agent' ? Math.min(backend.parallelism, UNPROVEN_WORKERS) : backend.parallelism;
    this.window = Math.min(backend.capacity, initialWindow * workers);
  }

  /** Room for more work: tasks that hold the worker stay within the window, all of them within capacity. */
  get room(): number {
    return Math.min(this.window - (this.inFlight - this.waiting), this.backend.capacity - this.inFlight);
  }

  /** A task of this slot leaves it (settled, lost or cancelled). */
  release(task: Task): void {
    this.inFlight--;
    if (task.async) {
      this.waiting--;
      task.async = false;
    }
  }

  /** Takes no new work while a suspect runs alone on its one worker. */
  get quarantined(): boolean {
    const task = this.isolating;
    return task !== undefined && task.state === RUNNING && task.slot === this;
  }

  accepts(name: string): boolean {
    const names = this.backend.names;
    return names === null || names.has(name);
  }

  /**
   * Learns from `count` results that held the worker's event loop `busyMs`. The window aims
   * at about TARGET_BACKLOG_MS of work per worker (deep for tiny tasks, one task for long
   * ones), and grows toward it by at most the tasks just settled (doubling per round trip),
   * so that work is never sent far ahead of what is known of its cost.
   */
  adapt(busyMs: number, count: number): void {
    if (count === 0) return;
    const perTask = busyMs / count;
    this.avgTaskMs = this.avgTaskMs < 0 ? perTask : this.avgTaskMs * 0.7 + perTask * 0.3;
    const perWorker = Math.max(1, Math.ceil(TARGET_BACKLOG_MS / Math.max(this.avgTaskMs, 1e-6)));
    const target = Math.min(this.backend.capacity, perWorker * this.backend.parallelism);
    this.window = Math.min(target, this.window + count);
  }
}
