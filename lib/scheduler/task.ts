import type { TransferListItem } from 'node:worker_threads';
import type { Backend } from '../backends/types.js';

export const QUEUED = 0;
export const RUNNING = 1;
export const DONE = 2;

/** How much work, in ms of task time, a worker is given beyond the task it runs. */
const TARGET_BACKLOG_MS = 5;
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** Tasks in flight per worker before the first run times are known. */
const INITIAL_WINDOW = 16;

/** A moment shared by every task submitted in one turn, or sent in one batch. */
export interface Stamp {
  readonly at: number;
}

export const NEVER: Stamp = { at: 0 };

const SOLO = 1;
const SUSPECT = 2;
const CANCELLABLE = 4;

/** What only some tasks need, kept out of Task so that the common one stays small. */
export class Extras {
  timer: NodeJS.Timeout | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;

  constructor(
    readonly signal: AbortSignal | undefined,
    readonly timeout: number,
    readonly transfer: readonly TransferListItem[] | undefined,
  ) {}
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

  isolate(suspect: boolean): void {
    this.#flags |= suspect ? SOLO | SUSPECT : SOLO;
  }
}

function noop(): void {}

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
  busy = false;
  /** Exited: takes nothing more, even while its remaining tasks are being re-queued. */
  gone = false;
  /** A suspect task running alone on this single-worker backend: nothing joins it until it settles. */
  isolating: Task | undefined = undefined;
  window: number;
  avgTaskMs = -1;

  constructor(readonly backend: Backend) {
    this.window = Math.min(backend.capacity, INITIAL_WINDOW * backend.parallelism);
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

  /** Keeps about TARGET_BACKLOG_MS of work per worker: deep windows for tiny tasks, shallow for long ones. */
  adapt(busyMs: number, count: number): void {
    if (count === 0) return;
    const perTask = busyMs / count;
    this.avgTaskMs = this.avgTaskMs < 0 ? perTask : this.avgTaskMs * 0.7 + perTask * 0.3;
    const perWorker = Math.max(1, Math.ceil(TARGET_BACKLOG_MS / Math.max(this.avgTaskMs, 1e-6)));
    this.window = Math.min(this.backend.capacity, perWorker * this.backend.parallelism);
  }
}
