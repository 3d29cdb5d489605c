import type { TransferListItem } from 'node:worker_threads';
import type { ActorCall, Backend, WorkerInfo } from '../backends/types.js';
import type { Percentiles } from './stats.js';

export interface SchedulerOptions {
  retries: number;
  maxQueue: number;
  /** Default per-task timeout in ms (Infinity for none). */
  timeout: number;
  batchSize: number;
  /** Tasks in flight per worker before any run time is known (slow start begins there). @default 1 */
  initialWindow?: number;
  /** Keep tasks whose name no backend exports queued (agents may bring it) instead of rejecting them. */
  waitForBackends: boolean;
  /** Tasks wait with no room for them anywhere: `waiting` of them (more workers may start). */
  onDemand?: (waiting: number) => void;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** ms from dispatch; overrides the pool's `timeout`. */
  timeout?: number;
  /** Values to move rather than copy (worker threads only; elsewhere they are copied). */
  transfer?: readonly TransferListItem[];
  /**
   * Receives what the task passes to `progress()` (troupe/worker), in order; a slow (or
   * async) listener gets the latest report rather than a backlog. None after the task settles.
   */
  onProgress?: (value: unknown) => unknown;
}

/** A worker as stats() shows it. */
export interface WorkerStats extends WorkerInfo {
  /**
   * Share of its capacity (its workers' time) its event loop spent running task code over
   * the last UTILIZATION_WINDOW_MS (less while it is younger), from 0 to 1.
   */
  utilization: number;
}

export interface SchedulerStats {
  workers: WorkerStats[];
  /** The workers' busy time ÷ their capacity over the same window, all together. */
  utilization: number;
  /** ms the oldest queued task has waited since `run()`; 0 with an empty queue. */
  queueAge: number;
  queued: number;
  running: number;
  completed: number;
  failed: number;
  retried: number;
  /** From `run()` to dispatch (sampled once per batch). */
  waitTime: Percentiles;
  /** How long tasks ran, as their worker measured it: from start to settlement (a sample per results message: their mean). */
  runTime: Percentiles;
  /** From dispatch to the start of running: time spent in transit and waiting in a worker's window. */
  windowTime: Percentiles;
}

export interface SchedulerEvents {
  /** The queue was full, or a task was refused, and it is empty again. */
  drain: [];
  /** Nothing queued, nothing running. */
  idle: [];
  /** A task's worker died and the task runs again. */
  retry: [info: { name: string; attempt: number; error: Error }];
}

/**
 * Traffic for actors, which the scheduler carries but does not own: entries it does not
 * know as tasks, calls from workers, and backends coming and going (lib/actors/).
 */
export interface ActorTraffic {
  settled(backend: Backend, id: number, ok: boolean, value: unknown): void;
  started(backend: Backend, id: number): void;
  lost(backend: Backend, id: number, error: Error): void;
  /** The backend is gone: every actor it hosted is lost. */
  exited(backend: Backend, error: Error): void;
  attached(backend: Backend): void;
  call(backend: Backend, call: ActorCall): void;
  /** How many actors live on `backend`. */
  hosted(backend: Backend): number;
}

/** A backend an actor could be placed on, with its load (tasks in flight per worker). */
export interface Host {
  backend: Backend;
  load: number;
}

/** Calls that code on backends makes to the pool's named queues (lib/queues/worker-calls.ts). */
export interface QueueTraffic {
  call(backend: Backend, call: ActorCall): void;
  /** The backend is gone: what its code held goes back. */
  exited(backend: Backend): void;
}
