/**
 * The one worker runtime: loads the task module, runs the entries of batches and sends
 * their results as they settle. Threads and processes run it behind a small channel (their
 * entry files); an agent's router forwards batches to it unchanged.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import { getHeapStatistics } from 'node:v8';
import { cloneable, DataCloneError, serializeError, UnknownTaskError } from '../errors.js';
import { ActorHost, type ActorClass } from './actor-host.js';
import { installCallPort } from './actor-ref.js';
import { entryArgs, entryCount, entryName, ERR, OK, type Batch, type ChunkOutcome, type Results } from './batch.js';
import type { ActorCall, CallReply } from './calls.js';
import { RESERVED_NAMES } from './hooks.js';
import { OutgoingCalls } from './outgoing-calls.js';
import { packNumbers } from './packed.js';
import { progressRegistry } from './progress.js';
import { ResultBuffer } from './result-buffer.js';
import { isThenable } from './values.js';

/** Progress reports leave a worker at most this often (the latest of each task is kept). */
const PROGRESS_FLUSH_MS = 5;

export type TaskFunction = (...args: unknown[]) => unknown;

/** What a task module exports: functions are tasks, classes are actors. */
export interface TaskModule {
  readonly tasks: ReadonlyMap<string, TaskFunction>;
  readonly classes: ReadonlyMap<string, ActorClass>;
}

/** What a worker's channel to its pool carries up: results, and calls its code makes to actors. */
export interface WorkerChannel {
  /** Throws when a value does not clone. */
  results(results: Results): void;
  call(call: ActorCall): void;
}

function isClass(value: Function): value is ActorClass {
  return Function.prototype.toString.call(value).startsWith('class');
}

/**
 * Loads the task module: its exported functions are the tasks, its exported classes (class
 * syntax) the actors it can host. The module is named by the pool's own options on this
 * machine, never by anything received from a peer.
 */
export async function loadTasks(href: string): Promise<TaskModule> {
  const mod = (await import(href)) as Record<string, unknown>;
  const tasks = new Map<string, TaskFunction>();
  const classes = new Map<string, ActorClass>();
  const add = (name: string, value: unknown) => {
    if (typeof value !== 'function' || tasks.has(name) || classes.has(name) || RESERVED_NAMES.has(name)) return;
    if (isClass(value)) classes.set(name, value);
    else tasks.set(name, value as TaskFunction);
  };
  for (const [name, value] of Object.entries(mod)) add(name, value);
  // A CommonJS module or `export default { … }`: its function properties are tasks too.
  const fallback = mod.default;
  if (fallback !== null && typeof fallback === 'object') {
    for (const [name, value] of Object.entries(fallback)) add(name, value);
  }
  return { tasks, classes };
}

/**
 * Runs batches as they arrive. A batch's synchronous results leave as soon as the batch
 * has run (batches that came in one read run in one turn, and if a later one gets stuck
 * these must already be out); asynchronous results that settle in the same turn leave
 * together. Busy and run times go with them, so the scheduler learns what tasks cost.
 */
export class WorkerRuntime {
  readonly #tasks: ReadonlyMap<string, TaskFunction>;
  readonly #classes: ReadonlyMap<string, ActorClass>;
  readonly #buffer: ResultBuffer;
  readonly #actors: ActorHost;
  readonly #calls: OutgoingCalls;
  #pending = 0;
  #lastProgressFlush = -Infinity;

  /** With `reportHeap`, results say how large the JS heap is (for maxMemoryPerWorker). */
  constructor(module: TaskModule, channel: WorkerChannel, reportHeap = false) {
    this.#tasks = module.tasks;
    this.#classes = module.classes;
    this.#buffer = new ResultBuffer((results) => {
      if (reportHeap) results = { ...results, heap: getHeapStatistics().used_heap_size };
      if (results.progress !== undefined) this.#lastProgressFlush = performance.now();
      try {
        channel.results(results);
      } catch {
        // One value that does not clone fails its own task, not the whole message.
        channel.results(cloneableResults(results));
      }
    });
    this.#actors = new ActorHost(module.classes, this.#buffer);
    this.#calls = new OutgoingCalls((call) => channel.call(call));
    installCallPort(this.#calls);
  }

  /**
   * Work that goes on in this worker's event loop without a batch running: tasks and actor
   * methods that await, calls to actors waiting for replies, actors' queued messages.
   */
  get pending(): number {
    return this.#pending + this.#actors.pending + this.#calls.pending;
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

  /** What the worker announces: its tasks and its actor classes (the scheduler places by name). */
  get names(): string[] {
    return [...this.#tasks.keys(), ...this.#classes.keys()];
  }

  /** Forgets actor messages that have not started, and actors, by the ids of their entries. */
  drop(ids: readonly number[]): void {
    this.#actors.drop(ids);
  }

  /** The reply to a call this worker's code made to an actor. */
  reply(reply: CallReply): void {
    this.#calls.settle(reply);
  }

  /**
   * Runs a batch; its synchronous results leave at once, unless `flush` is false (the caller
   * runs several batches that came in one message and flushes once after the last).
   */
  run(batch: Batch, flush = true): void {
    const buffer = this.#buffer;
    if (batch.actor !== undefined) {
      const started = performance.now();
      this.#actors.deliver(batch);
      buffer.time(performance.now() - started, 0);
      if (flush) buffer.flush();
      return;
    }
    const started = performance.now();
    const count = entryCount(batch);
    const tracking = progressRegistry();
    tracking.sink = this.#progress;
    const context = tracking.context;
    let sync = 0;
    const each = batch.each;
    let chunkAt = 0;
    let nextChunk = each === undefined ? -1 : each[0];
    for (let i = 0; i < count; i++) {
      const id = batch.base + i;
      const isChunk = i === nextChunk;
      if (isChunk) nextChunk = ++chunkAt < each!.length ? each![chunkAt] : -1;
      const name = entryName(batch, i);
      const fn = this.#tasks.get(name);
      if (fn === undefined) {
        buffer.push(id, ERR, serializeError(new UnknownTaskError(name, this.#classes.has(name))));
        continue;
      }
      tracking.current = id;
      if (isChunk) {
        if (this.#runChunk(id, fn, entryArgs(batch, i)[0] as ArrayLike<unknown>, context)) sync++;
        continue;
      }
      try {
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
    if (flush) buffer.flush();
  }

  /** Sends the results gathered so far, as one message even if there are none: the pool's sign that what it sent was handled. */
  answer(): void {
    this.#buffer.flush(true);
  }

  /**
   * Runs a map chunk: its task once per item, the items' promises overlapping. Each item's
   * failure is its own (a SerializedError in its place); the chunk settles when its last
   * item does, and returns true if that was at once.
   */
  #runChunk(id: number, fn: TaskFunction, items: ArrayLike<unknown>, context: AsyncLocalStorage<number> | undefined): boolean {
    const started = performance.now();
    const values = new Array<unknown>(items.length);
    let failed: number[] | undefined;
    const outcome = (): ChunkOutcome => {
      const ms = performance.now() - started;
      return failed === undefined ? { values: packNumbers(values), ms } : { values, failed: failed.sort((a, b) => a - b), ms };
    };
    // The loop holds one count itself, so a thenable that settles synchronously cannot end the chunk early.
    let unsettled = 1;
    const fail = (k: number, error: unknown) => {
      values[k] = serializeError(error);
      (failed ??= []).push(k);
    };
    for (let k = 0; k < items.length; k++) {
      try {
        const value = context === undefined ? fn(items[k]) : context.run(id, fn, items[k]);
        if (!isThenable(value)) {
          values[k] = value;
          continue;
        }
        unsettled++;
        value.then(
          (v) => {
            values[k] = v;
            if (--unsettled === 0) this.#settled(id, OK, outcome(), started);
          },
          (e) => {
            fail(k, e);
            if (--unsettled === 0) this.#settled(id, OK, outcome(), started);
          },
        );
      } catch (error) {
        fail(k, error);
      }
    }
    if (--unsettled === 0) {
      this.#buffer.push(id, OK, outcome());
      return true;
    }
    this.#buffer.started(id);
    this.#pending++;
    return false;
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
  const values = Array.from(results.values, (value, i) => {
    if (failed.has(i) || cloneable(value)) return value;
    failed.add(i);
    return serializeError(new DataCloneError("a task's return value could not be cloned"));
  });
  const progress = results.progress?.filter(([, value]) => cloneable(value));
  return { ...results, values, failed: [...failed].sort((a, b) => a - b), progress };
}
