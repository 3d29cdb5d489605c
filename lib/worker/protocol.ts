/**
 * Control messages between a pool and its local workers, beside the batches and results
 * of batch.ts. A worker process starts over Node's IPC (init, ready), then batches,
 * results, calls and their replies go on a pipe of their own (transport/pipe.ts), in v8's
 * format where they are not plain JSON values, so values keep the same semantics as on
 * threads and agents.
 */

import { MAX_ENTRIES } from './batch.js';
import { parseCallReply, type CallReply } from './calls.js';
import { denseArray, isRecord, taskNames, wireIds } from './parse.js';
import type { FlatBatch } from './compact-forms.js';

/** Process worker → primary: loaded, with these task names. */
export const MSG_READY = 1;
/** Process worker → primary: the task module failed to load. */
export const MSG_START_FAILED = 2;
/** Primary → process worker: a batch. */
export const MSG_RUN = 3;
/** Process worker → primary: results. */
export const MSG_RESULTS = 4;
/** Worker thread → pool, first message on its port. */
export const THREAD_READY = 5;
/**
 * Process worker → primary, first message: `{ t }`, asking for its init (IPC messages sent
 * before the worker listens are lost, so it asks). Primary → worker, the answer:
 * `{ t, workerData }`, what setup() gets.
 */
export const MSG_INIT = 6;
/** Pool → worker thread: run teardown(), then say THREAD_STOPPED. */
export const THREAD_STOP = 7;
/** Worker thread → pool: teardown() has run; the thread may go. */
export const THREAD_STOPPED = 8;
/** Pool → worker (process or thread): `ids` of actor messages to forget if not started, and of actors to end now. */
export const MSG_DROP = 9;
/** Worker → pool: a call its code makes to an actor (calls.ts). */
export const MSG_CALL = 10;
/** Pool → worker: the reply to such a call. */
export const MSG_REPLY = 11;
/**
 * Pool → worker thread: `{ t, list }`, several messages of one turn (actor batches, drops)
 * in one, so that they run in one turn and their results leave together.
 */
export const MSG_MANY = 12;

/** A batch goes as text or a FlatBatch (compact-forms.ts) when it can, else as MSG_RUN. */
export type ToWorker =
  | string
  | FlatBatch
  | { t: typeof MSG_RUN; b: unknown }
  | { t: typeof MSG_INIT; workerData: unknown; reportHeap: boolean }
  | { t: typeof MSG_DROP; ids: readonly number[] }
  | { t: typeof MSG_REPLY; r: CallReply };
/** Results go as text or FlatResults (compact-forms.ts) when they can, else as MSG_RESULTS. */
export type FromWorker =
  | { t: typeof MSG_RESULTS; r: unknown }
  | { t: typeof MSG_CALL; c: unknown }
  | { t: typeof MSG_READY; names: string[] }
  | { t: typeof MSG_START_FAILED; error: unknown }
  | { t: typeof MSG_INIT };

export interface ThreadReady {
  t: typeof THREAD_READY;
  names: string[];
  threadId: number;
}

/** The environment variable that names the task module for a worker process. */
export const TASKS_ENV = 'TROUPE_TASKS';
/** A worker process's descriptor of its pipe for batches and results (after stdin, stdout, stderr and IPC). */
export const PIPE_FD = 4;
/** Set to '1' for a worker process whose primary's reaper ends it if the primary dies: it needs no watchdog thread. */
export const REAPED_ENV = 'TROUPE_REAPED';

/** The names a worker announces, or undefined if they are not such. */
function names(value: unknown): string[] | undefined {
  try {
    return taskNames(value, 'names');
  } catch {
    return undefined;
  }
}

/** Parses a message from a worker process; undefined for anything else. */
export function parseFromWorker(value: unknown): FromWorker | undefined {
  if (!isRecord(value)) return undefined;
  if (value.t === MSG_RESULTS) return { t: MSG_RESULTS, r: value.r };
  if (value.t === MSG_CALL) return { t: MSG_CALL, c: value.c };
  if (value.t === MSG_READY) {
    const announced = names(value.names);
    return announced && { t: MSG_READY, names: announced };
  }
  if (value.t === MSG_START_FAILED) return { t: MSG_START_FAILED, error: value.error };
  if (value.t === MSG_INIT) return { t: MSG_INIT };
  return undefined;
}

export function parseThreadReady(value: unknown): ThreadReady | undefined {
  if (!isRecord(value) || value.t !== THREAD_READY || !Number.isInteger(value.threadId)) return undefined;
  const announced = names(value.names);
  return announced && { t: THREAD_READY, names: announced, threadId: value.threadId as number };
}

/**
 * An actor control message from the pool to a worker (a drop or a reply): parsed, or
 * undefined when `value` is not one. Throws ProtocolError for one that is malformed.
 */
export function parseControl(value: unknown): { t: typeof MSG_DROP; ids: readonly number[] } | { t: typeof MSG_REPLY; r: CallReply } | undefined {
  if (!isRecord(value)) return undefined;
  if (value.t === MSG_DROP) return { t: MSG_DROP, ids: wireIds(value.ids, MAX_ENTRIES, 'drop.ids') };
  if (value.t === MSG_REPLY) return { t: MSG_REPLY, r: parseCallReply(value.r) };
  return undefined;
}

/** Whether a message on a thread's port is the control message `t` (batches and results have no `t`). */
export function isControl(value: unknown, t: typeof THREAD_STOP | typeof THREAD_STOPPED): boolean {
  return isRecord(value) && value.t === t;
}

/** The messages a MSG_MANY carries, or undefined when `value` is not one. */
export function manyOf(value: unknown): readonly unknown[] | undefined {
  if (!isRecord(value) || value.t !== MSG_MANY) return undefined;
  return denseArray(value.list, MAX_ENTRIES, 'many.list');
}
