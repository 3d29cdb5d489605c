import type { TransferListItem } from 'node:worker_threads';
import { WorkerStartError } from '../errors.js';
import { loadHooks, type Hooks } from '../worker/hooks.js';
import { WorkerRuntime, loadTasks, type TaskModule } from '../worker/runtime.js';
import { CLOSE_GRACE_MS, withDeadline } from './local.js';
import type { Backend, BackendHost, Batch, CallReply, WorkerInfo } from './types.js';
import { atTurnEnd } from '../timers.js';

export interface InlineOptions {
  tasks: URL;
  maxInFlight: number;
  workerData: unknown;
  startTimeout: number;
}

/**
 * Whether an inline backend runs in this process. What task code reaches through
 * `troupe/worker` (the actor call port, progress, moved buffers) lives on globalThis, one per
 * process: a second runtime here would take the first one's calls and reports.
 */
let running = false;

/**
 * The worker runtime on this process's own event loop: an agent started with mode 'inline'
 * runs tasks here, so a task costs no hop to a worker between the connection and its code.
 * A task that blocks the loop blocks the agent's heartbeats too, so this suits tasks that
 * await (I/O) or finish well within the scheduler's heartbeat timeout.
 */
export class InlineBackend implements Backend {
  /** The agent's own process: only its router sees this backend, and it reports as an agent to the scheduler. */
  readonly kind = 'process';
  readonly parallelism = 1;
  readonly ready = true;
  readonly id = `inline-${process.pid}`;
  readonly names: ReadonlySet<string>;
  readonly capacity: number;
  readonly #runtime: WorkerRuntime;
  readonly #hooks: Hooks;
  #host: BackendHost | undefined;
  #closing: Promise<void> | undefined;

  private constructor(module: TaskModule, hooks: Hooks, capacity: number) {
    // Values go by reference: the agent's router encodes them for the wire, and fails on
    // its own any one that cannot go.
    this.#runtime = new WorkerRuntime(module, {
      results: (results) => this.#host?.results(this, results),
      call: (call) => this.#host?.call(this, call),
    });
    this.#hooks = hooks;
    this.names = new Set(this.#runtime.names);
    this.capacity = capacity;
  }

  /** Loads the task module and runs its setup(workerData) here. */
  static async start(options: InlineOptions): Promise<InlineBackend> {
    const href = options.tasks.href;
    if (running) {
      throw new WorkerStartError('an inline agent already runs in this process; start each in a process of its own (troupe agent --mode inline --size N starts N)');
    }
    running = true;
    const load = async () => {
      const backend = new InlineBackend(await loadTasks(href), await loadHooks(href), options.maxInFlight);
      await backend.#hooks.setup(options.workerData);
      return backend;
    };
    try {
      return await withDeadline(load(), options.startTimeout, 'the inline worker');
    } catch (error) {
      running = false;
      if (error instanceof WorkerStartError) throw error;
      throw new WorkerStartError(`inline worker could not load ${href}: ${(error as Error).message}`, error);
    }
  }

  attach(host: BackendHost): void {
    this.#host = host;
  }

  dispatch(batch: Batch, _transfer: TransferListItem[] | undefined, _cancellable: boolean): void {
    // After the router's bookkeeping for the batch, never inside it.
    atTurnEnd(() => this.#runtime.run(batch));
  }

  /** Nothing can stop code on this loop: the tasks are given up as stopped, and what they return later is dropped. */
  cancel(ids: readonly number[]): void {
    this.#host?.lost(this, ids, 'stopped', new Error('cancelled; an inline task runs on until it returns'));
  }

  drop(ids: readonly number[]): void {
    this.#runtime.drop(ids);
  }

  reply(reply: CallReply): void {
    this.#runtime.reply(reply);
  }

  setBusy(): void {
    // The agent's connection keeps this process alive.
  }

  info(inFlight: number): WorkerInfo[] {
    return [{ id: this.id, kind: 'process', pid: process.pid, state: inFlight > 0 ? 'busy' : 'idle', inFlight }];
  }

  close(): Promise<void> {
    this.#closing ??= withDeadline(this.#hooks.teardown(), CLOSE_GRACE_MS, 'teardown()')
      .catch(() => {})
      .finally(() => (running = false));
    return this.#closing;
  }

  destroy(): Promise<void> {
    return this.close();
  }
}
