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

export class Task {
  state = QUEUED;
  wireId = 0;
  slot: Slot | undefined = undefined;
  attempts = 0;
  /** Goes alone in its batch: it was in a batch that failed as a whole. */
  solo = false;
  /** Was running when its worker died: on a single-worker backend it runs with nothing beside it. */
  suspect = false;
  timer: NodeJS.Timeout | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  dispatchedAt = 0;
  /** May have to be stopped while it runs (it has a signal or a timeout, or is relayed). */
  cancellable = false;
  /** Its share of the event-loop time its worker reported for the batch it ran in. */
  busyMs = 0;

  constructor(
    readonly name: string,
    readonly args: unknown[],
    readonly transfer: readonly TransferListItem[] | undefined,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: Error) => void,
    readonly signal: AbortSignal | undefined,
    readonly timeout: number,
    readonly enqueuedAt: number,
  ) {}
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
