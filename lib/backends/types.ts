import type { TransferListItem } from 'node:worker_threads';
export { ERR, OK, type Batch, type Results } from '../worker/batch.js';
import { entryCount, type Batch, type Results } from '../worker/batch.js';
import type { ActorCall, CallReply } from '../worker/calls.js';
export type { ActorCall, CallReply };

/** The wire ids of a batch's entries. */
export function batchIds(batch: Batch): number[] {
  return Array.from({ length: entryCount(batch) }, (_, i) => batch.base + i);
}

/**
 * The one interface every place that runs tasks implements: a thread pool, a worker
 * process, a remote agent. The scheduler sees nothing else of them.
 */

/** What became of a batch's tasks when the backend could not run them to the end. */
export type LostReason =
  /** The worker died while they ran: each counts as a failed attempt. */
  | 'died'
  /** Troupe stopped the worker itself (a cancelled or timed-out neighbour): run them again, no penalty. */
  | 'stopped'
  /** The batch as a whole could not be sent or answered (a value that does not clone): run each alone. */
  | 'isolate';

export interface WorkerInfo {
  /** 'thread-<threadId>', 'process-<pid>', 'agent-<agent id>' */
  id: string;
  kind: 'thread' | 'process' | 'agent';
  pid?: number;
  threadId?: number;
  state: 'idle' | 'busy' | 'stopping';
  inFlight: number;
}

/** Calls a backend makes into whoever attached it (the scheduler). */
export interface BackendHost {
  results(backend: Backend, results: Results): void;
  lost(backend: Backend, ids: readonly number[], reason: LostReason, error: Error): void;
  /** The backend is gone for good; whatever it still held counts as lost with `reason`. */
  exited(backend: Backend, reason: LostReason, error: Error): void;
  /** The backend can take work again after saying it could not (`ready` was false). */
  writable(backend: Backend): void;
  /** Code running on the backend calls an actor; the answer goes back through `backend.reply()`. */
  call(backend: Backend, call: ActorCall): void;
}

/** What the pool reads of a worker's recycling (backends/recycling.ts keeps it). */
export interface RecyclingState {
  /** Tasks it may still be sent. */
  readonly budget: number;
  /** It takes nothing new and waits to be retired once `mayRetire` allows. */
  readonly due: boolean;
  /** It hosts actors, so it is not recycled: it serves on with a fresh budget. */
  reprieve(): void;
}

export interface Backend {
  readonly id: string;
  readonly kind: WorkerInfo['kind'];
  /** Task names it can run; null when it runs whatever its module exports and that is not known yet. */
  readonly names: ReadonlySet<string> | null;
  /** How many batches it runs at once (workers behind it). */
  readonly parallelism: number;
  /** Most tasks it accepts in flight; the scheduler may keep fewer. */
  readonly capacity: number;
  /** False while its channel is congested (a send returned false). */
  readonly ready: boolean;
  attach(host: BackendHost): void;
  /**
   * Sends a batch. `cancellable` says whether `cancel()` may be asked for one of its tasks
   * (some have a signal or timeout): backends where that costs something pay it only then.
   */
  dispatch(batch: Batch, transfer: TransferListItem[] | undefined, cancellable: boolean): void;
  /** Stops the given running tasks at once (the worker running them may be replaced). */
  cancel(ids: readonly number[]): void;
  /**
   * Forgets the given actor messages if they have not started, and ends at once the actors
   * whose spawn entries are given. Never stops a worker: it hosts other actors.
   */
  drop(ids: readonly number[]): void;
  /** Answers a call that code running on it made to an actor. */
  reply(reply: CallReply): void;
  /** Its tasks are holding work: keep the process alive (true) or not (false). */
  setBusy(busy: boolean): void;
  info(inFlight: number): WorkerInfo[];
  /** When it is due to be replaced (local workers only; see backends/recycling.ts). */
  readonly recycling?: RecyclingState;
  /** Stops it on purpose (teardown runs); whoever started it starts a replacement. */
  retire?(): void;
  /** Stops after its in-flight tasks (the scheduler has drained it first). */
  close(): Promise<void>;
  /** Stops now. */
  destroy(): Promise<void>;
}
