import { cloneable, serializeError, UnknownTaskError } from '../errors.js';
import { ERR, OK, type Batch, type Results } from './protocol.js';
import { encode } from './values.js';

export type TaskFunction = (...args: unknown[]) => unknown;
export type TaskTable = ReadonlyMap<string, TaskFunction>;

/**
 * Loads the task module: its exported functions are the tasks. The module is named by
 * the pool's own options on this machine, never by anything received from a peer.
 */
export async function loadTasks(href: string): Promise<TaskTable> {
  const mod = (await import(href)) as Record<string, unknown>;
  const table = new Map<string, TaskFunction>();
  for (const [name, value] of Object.entries(mod)) {
    if (typeof value === 'function') table.set(name, value as TaskFunction);
  }
  // A CommonJS module or `export default { … }`: its function properties are tasks too.
  const fallback = mod.default;
  if (fallback !== null && typeof fallback === 'object') {
    for (const [name, value] of Object.entries(fallback)) {
      if (typeof value === 'function' && !table.has(name)) table.set(name, value as TaskFunction);
    }
  }
  return table;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * Runs every task of a batch. Synchronous outcomes are pushed onto `results`; each
 * asynchronous one is handed to `settled` when it settles. Returns how many are pending.
 */
export function runBatch(
  tasks: TaskTable,
  batch: Batch,
  results: Results,
  settled: (id: unknown, status: number, value: unknown) => void,
): number {
  let pending = 0;
  for (let i = 0; i < batch.length; i += 3) {
    const id = batch[i];
    const fn = tasks.get(batch[i + 1] as string);
    if (fn === undefined) {
      results.push(id, ERR, serializeError(new UnknownTaskError(String(batch[i + 1]))));
      continue;
    }
    try {
      const value = fn(...(batch[i + 2] as unknown[]));
      if (isThenable(value)) {
        pending++;
        value.then(
          (v) => settled(id, OK, v),
          (e) => settled(id, ERR, serializeError(e)),
        );
      } else {
        results.push(id, OK, value);
      }
    } catch (error) {
      results.push(id, ERR, serializeError(error));
    }
  }
  return pending;
}

/**
 * Runs batches as they arrive and sends results in as few messages as possible: a batch's
 * synchronous results as soon as it has run, and async results that settle in the same
 * turn together. `busyMs` is the time the event loop was held by task code, which tells
 * the scheduler how long tasks really take.
 */
export class BatchRunner {
  readonly #tasks: TaskTable;
  readonly #emit: (results: Results, busyMs: number) => void;
  #results: Results = [];
  #busyMs = 0;
  #scheduled = false;

  constructor(tasks: TaskTable, emit: (results: Results, busyMs: number) => void) {
    this.#tasks = tasks;
    this.#emit = emit;
  }

  run(batch: Batch): void {
    const started = performance.now();
    runBatch(this.#tasks, batch, this.#results, this.#settled);
    this.#busyMs += performance.now() - started;
    // Sent now, not at the end of the turn: batches that came in the same read run in the
    // same turn, and if a later one gets stuck, these results must already be out.
    this.#flush();
  }

  #settled = (id: unknown, status: number, value: unknown): void => {
    this.#results.push(id, status, value);
    this.#schedule();
  };

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(this.#flush);
  }

  #flush = (): void => {
    this.#scheduled = false;
    if (this.#results.length === 0) return;
    const results = this.#results;
    const busyMs = this.#busyMs;
    this.#results = [];
    this.#busyMs = 0;
    this.#emit(results, busyMs);
  };
}

function dataCloneError(value: unknown): Error {
  try {
    encode(value);
  } catch (error) {
    if (error instanceof Error) return error;
  }
  return new DOMException('the result could not be cloned', 'DataCloneError');
}

/**
 * Replaces each result value that cannot be cloned by a DataCloneError, so one bad
 * return value fails its own task instead of the whole batch.
 */
export function cloneableResults(results: Results): Results {
  const out: Results = [];
  for (let i = 0; i < results.length; i += 3) {
    if (cloneable(results[i + 2])) out.push(results[i], results[i + 1], results[i + 2]);
    else out.push(results[i], ERR, serializeError(dataCloneError(results[i + 2])));
  }
  return out;
}
