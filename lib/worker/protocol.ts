/**
 * What crosses between the scheduler and a worker, on every medium.
 *
 * A batch is a flat array `[id, name, args, id, name, args, …]`; results come back as
 * `[id, status, value, …]` where status is OK, or ERR with a SerializedError as value.
 * Flat arrays keep one message per batch cheap to clone, post and decode.
 */

export const OK = 0;
export const ERR = 1;

export type Batch = unknown[];
export type Results = unknown[];

/** The wire ids of a batch's tasks. */
export function batchIds(batch: Batch): number[] {
  const ids: number[] = [];
  for (let i = 0; i < batch.length; i += 3) ids.push(batch[i] as number);
  return ids;
}

/**
 * Messages between a primary and a worker process over Node's JSON IPC channel. A batch or
 * results whose values are not all plain primitives travel as v8 bytes in `v` (base64):
 * see values.ts.
 */
export const MSG_RUN = 1;
export const MSG_RESULTS = 2;
export const MSG_READY = 3;
export const MSG_START_FAILED = 4;

export type ToWorker = { t: typeof MSG_RUN; b: Batch } | { t: typeof MSG_RUN; v: string };
export type FromWorker =
  | { t: typeof MSG_RESULTS; r: Results; busy: number }
  | { t: typeof MSG_RESULTS; v: string; busy: number }
  | { t: typeof MSG_READY; names: string[] }
  | { t: typeof MSG_START_FAILED; v: string };

/** The environment variable that names the task module for a worker process. */
export const TASKS_ENV = 'TROUPE_TASKS';
