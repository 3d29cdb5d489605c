/**
 * The one worker runtime: loads the task module, runs the entries of batches and sends
 * their results as they settle. Threads and processes run it behind a small channel (their
 * entry files); an agent's router forwards batches to it unchanged.
 */
import { getHeapStatistics } from 'node:v8';
import { cloneable, DataCloneError, serializeError, UnknownTaskError } from '../errors.js';
import { entryArgs, entryCount, entryName, ERR, OK, type Batch, type Results } from './batch.js';
import { RESERVED_NAMES } from './hooks.js';
import { progressRegistry } from './progress.js';
import { ResultBuffer } from './result-buffer.js';

/** Progress reports leave a worker at most this often (the latest of each task is kept). */
const PROGRESS_FLUSH_MS = 5;

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
    if (typeof value === 'function' && !RESERVED_NAMES.has(name)) table.set(name, value as TaskFunction);
  }
  // A CommonJS module or `export default { … }`: its function properties are tasks too.
  const fallback = mod.default;
  if (fallback !== null && typeof fallback === 'object') {
    for (const [name, value] of Object.entries(fallback)) {
      if (typeof value === 'function' && !table.has(name) && !RESERVED_NAMES.has(name)) table.set(name, value as TaskFunction);
    }
  }
  return table;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * Runs batches as they arrive. A batch's synchronous results leave as soon as the batch
 * has run (batches that came in one read run in one turn, and if a later one gets stuck
 * these must already be out); asynchronous results that settle in the same turn leave
 * together. Busy and run times go with them, so the scheduler learns what tasks cost.
 */
export class WorkerRuntime {
  readonly #tasks: TaskTable;
  readonly #buffer: ResultBuffer;
  #pending = 0;
  #lastProgressFlush = -Infinity;

  /**
   * `post` sends results on the worker's channel; it throws when a value does not clone.
   * With `reportHeap`, results say how large the JS heap is (for maxMemoryPerWorker).
   */
  constructor(tasks: TaskTable, post: (results: Results) => void, reportHeap = false) {
    this.#tasks = tasks;
    this.#buffer = new ResultBuffer((results) => {
      if (reportHeap) results = { ...results, heap: getHeapStatistics().used_heap_size };
      if (results.progress !== undefined) this.#lastProgressFlush = performance.now();
      try {
        post(results);
      } catch {
        // One value that does not clone fails its own task, not the whole message.
        post(cloneableResults(results));
      }
    });
  }

  /** Tasks that began and await a promise: while any do, the worker's event loop has work. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * A task reported progress. It leaves at once, even from the middle of a synchronous task
   * (with whatever results are ready), but at most every PROGRESS_FLUSH_MS: reports in
   * between are coalesced, the latest kept, and sent at the next chance.
   */
  #progress = (id: number, value: unknown): void => {
    this.#buffer.progress(id, value);
    if (performance.now() - this.#lastProgressFlush >= PROGRESS_FLUSH_MS) this.#buffer.flush();
    else this.#buffer.flushSoon();
  };

  get names(): string[] {
    return [...this.#tasks.keys()];
  }

  run(batch: Batch): void {
    const buffer = this.#buffer;
    const started = performance.now();
    const count = entryCount(batch);
    const tracking = progressRegistry();
    tracking.sink = this.#progress;
    const context = tracking.context;
    let sync = 0;
    for (let i = 0; i < count; i++) {
      const id = batch.base + i;
      const name = entryName(batch, i);
      const fn = this.#tasks.get(name);
      if (fn === undefined) {
        buffer.push(id, ERR, serializeError(new UnknownTaskError(name)));
        continue;
      }
      try {
        tracking.current = id;
        const value = context === undefined ? fn(...entryArgs(batch, i)) : context.run(id, fn, ...entryArgs(batch, i));
        if (isThenable(value)) {
          buffer.started(id);
          this.#pending++;
          value.then(
            (v) => this.#settled(id, OK, v, started),
            (e) => this.#settled(id, ERR, serializeError(e), started),
          );
        } else {
          buffer.push(id, OK, value);
          sync++;
        }
      } catch (error) {
        buffer.push(id, ERR, serializeError(error));
        sync++;
      }
    }
    tracking.current = 0;
    const busy = performance.now() - started;
    buffer.time(busy, sync > 0 ? busy : 0);
    buffer.flush();
  }

  #settled(id: number, status: number, value: unknown, started: number): void {
    this.#pending--;
    this.#buffer.push(id, status, value);
    this.#buffer.time(0, performance.now() - started);
    this.#buffer.flushSoon();
  }
}

/**
 * The same results with each value that cannot be cloned replaced by a DataCloneError, so
 * one bad return value fails its own task instead of the whole message.
 */
function cloneableResults(results: Results): Results {
  const failed = new Set(results.failed);
  const values = results.values.map((value, i) => {
    if (failed.has(i) || cloneable(value)) return value;
    failed.add(i);
    return serializeError(new DataCloneError("a task's return value could not be cloned"));
  });
  const progress = results.progress?.filter(([, value]) => cloneable(value));
  return { ...results, values, failed: [...failed].sort((a, b) => a - b), progress };
}
