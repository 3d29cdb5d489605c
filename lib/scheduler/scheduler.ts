import { EventEmitter } from 'eventemitter3';
import type { TransferListItem } from 'node:worker_threads';
import {
  AbortError, deserializeError, PoolClosedError, PoolDestroyedError, QueueFullError, TimeoutError, UnknownTaskError,
  WorkerLostError, type SerializedError,
} from '../errors.js';
import { batchIds, OK, type Backend, type BackendHost, type LostReason, type Results } from '../backends/types.js';
import { TaskQueue } from './task-queue.js';
import { DONE, Extras, MAX_TIMER_MS, promiseFor, QUEUED, RUNNING, Slot, Task, type Stamp } from './task.js';
import { Latency } from './stats.js';
import type { RunOptions, SchedulerEvents, SchedulerOptions, SchedulerStats } from './types.js';

export type { RunOptions, SchedulerEvents, SchedulerOptions, SchedulerStats };


/**
 * Owns every task from `submit()` until its one settlement: queued → running on a
 * backend (under a fresh wire id each attempt) → done. Knows backends only through the
 * Backend interface, and does no I/O of its own.
 */
export class Scheduler extends EventEmitter<SchedulerEvents> implements BackendHost {
  readonly #options: SchedulerOptions;
  readonly #queue = new TaskQueue();
  readonly #running = new Map<number, Task>();
  readonly #slots = new Map<Backend, Slot>();
  #slotList: Slot[] = [];
  #parallelism = 0;
  readonly #knownNames = new Set<string>();
  #acceptsAnyName = false;
  #nextWireId = 0;
  #pumping = false;
  #flushScheduled = false;
  /** When the tasks submitted in the current turn were submitted. */
  #turn: Stamp | undefined;
  #needDrain = false;
  #closed = false;
  #idleWaiters: (() => void)[] = [];
  #completed = 0;
  #failed = 0;
  #retried = 0;
  readonly #waitTime = new Latency();
  readonly #runTime = new Latency();

  constructor(options: SchedulerOptions) {
    super();
    this.#options = options;
  }

  get closed(): boolean {
    return this.#closed;
  }

  attach(backend: Backend): void {
    const slot = new Slot(backend);
    this.#slots.set(backend, slot);
    this.#slotsChanged();
    if (backend.names === null) this.#acceptsAnyName = true;
    else for (const name of backend.names) this.#knownNames.add(name);
    backend.attach(this);
    this.#queue.unpark((name) => slot.accepts(name));
    this.#pump();
  }

  #slotsChanged(): void {
    this.#slotList = [...this.#slots.values()];
    this.#parallelism = this.#slotList.reduce((sum, slot) => sum + slot.backend.parallelism, 0);
  }

  get backends(): Backend[] {
    return this.#slotList.map((slot) => slot.backend);
  }

  submit<T>(name: string, args: unknown[], options?: RunOptions): Promise<T> {
    const refusal = this.#refusal(name, options?.signal);
    if (refusal) return Promise.reject(refusal);
    const task = this.#newTask(name, args, options);
    const promise = promiseFor<T>(task);
    this.#enqueue(task);
    return promise;
  }

  #refusal(name: string, signal: AbortSignal | undefined): Error | undefined {
    if (this.#closed) return new PoolClosedError();
    if (!this.#acceptsAnyName && !this.#options.waitForBackends && !this.#knownNames.has(name)) {
      return new UnknownTaskError(name);
    }
    if (this.#queue.size >= this.#options.maxQueue) {
      // Tasks of this same turn may still be waiting for the end of the turn: send what fits first.
      this.#pump();
      if (this.#queue.size >= this.#options.maxQueue) {
        this.#needDrain = true;
        return new QueueFullError(this.#options.maxQueue);
      }
    }
    if (signal?.aborted) return new AbortError(signal.reason);
    return undefined;
  }

  #newTask(name: string, args: unknown[], options: RunOptions | undefined): Task {
    // One timestamp serves every task submitted in this turn (see #flush).
    const enqueued = (this.#turn ??= { at: performance.now() });
    const signal = options?.signal;
    const timeout = options?.timeout ?? this.#options.timeout;
    const transfer = options?.transfer;
    const cancellable = signal !== undefined || timeout !== Infinity;
    if (!cancellable && transfer === undefined) return new Task(name, args, enqueued, undefined, false);
    const task = new Task(name, args, enqueued, new Extras(signal, timeout, transfer), cancellable);
    if (signal) {
      const extras = task.extras!;
      extras.onAbort = () => this.#cancel(task, new AbortError(signal.reason));
      signal.addEventListener('abort', extras.onAbort, { once: true });
    }
    return task;
  }

  #enqueue(task: Task): void {
    this.#queue.push(task);
    if (this.#queue.size >= this.#options.maxQueue) this.#needDrain = true;
    this.#schedulePump();
  }

  /**
   * A lone task goes out at once; tasks submitted in the same turn while workers are
   * busy wait for the end of the turn and travel together.
   */
  #schedulePump(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(this.#flush);
    if (this.#running.size < this.#parallelism) this.#pump();
  }

  #flush = (): void => {
    this.#flushScheduled = false;
    this.#turn = undefined;
    this.#pump();
  };

  #pump(): void {
    if (this.#pumping || this.#queue.size === 0) return;
    this.#pumping = true;
    try {
      while (this.#queue.size > 0) {
        if (this.#pumpRound() > 0) continue;
        if (!this.#parkHead()) break;
      }
    } finally {
      this.#pumping = false;
    }
    this.#drainIfEmpty();
  }

  #drainIfEmpty(): void {
    if (this.#queue.size === 0 && this.#needDrain) {
      this.#needDrain = false;
      this.emit('drain');
    }
  }

  /** Hands each backend with room its share of the queue, least loaded first. */
  #pumpRound(): number {
    const slots = this.#slotList;
    let freeParallelism = 0;
    let start = 0;
    let lowest = Infinity;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      if (slot.gone || !slot.backend.ready || slot.inFlight >= slot.window || slot.quarantined) continue;
      freeParallelism += slot.backend.parallelism;
      const load = slot.inFlight / slot.backend.parallelism;
      if (load < lowest) {
        lowest = load;
        start = i;
      }
    }
    if (freeParallelism === 0) return 0;
    const share = Math.min(this.#options.batchSize, Math.ceil(this.#queue.size / freeParallelism));
    let sent = 0;
    for (let j = 0; j < slots.length && this.#queue.size > 0; j++) {
      const slot = slots[(start + j) % slots.length];
      for (let b = 0; b < slot.backend.parallelism && !slot.gone && !slot.quarantined && slot.backend.ready; b++) {
        const free = slot.window - slot.inFlight;
        // A backend with half its window still busy can wait for room for a full share:
        // topping it up with each few freed places would shrink every later batch too.
        if (free < share && slot.inFlight * 2 >= slot.window && slot.inFlight >= slot.backend.parallelism) break;
        const n = Math.min(share, free);
        const taken = n > 0 ? this.#dispatch(slot, n) : 0;
        sent += taken;
        if (taken === 0) break;
      }
    }
    return sent;
  }

  #dispatch(slot: Slot, limit: number): number {
    const batch: unknown[] = [];
    let transfer: TransferListItem[] | undefined;
    let cancellable = false;
    const now = performance.now();
    const stamp: Stamp = { at: now };
    const tasks = this.#queue.take(limit, (task, taken) => {
      if (!slot.accepts(task.name)) return 'skip';
      // A task that may be stopped travels alone: stopping it stops its worker, and
      // neighbours in its batch would lose results they already have and run again.
      const alone = task.solo || task.cancellable;
      if (alone && taken > 0) return 'stop';
      // Where batches share a worker (a backend with one worker, or an agent), "alone" must
      // mean alone on the backend, or a poison task would take its suspected neighbours
      // down with it again.
      if (this.#isolates(slot, task) && slot.inFlight > 0) return 'stop';
      return alone ? 'last' : 'take';
    });
    for (const task of tasks) {
      task.state = RUNNING;
      task.slot = slot;
      // Wait time is from run() to the first dispatch; a retry does not count again.
      if (task.wireId === 0) this.#waitTime.record(now - task.enqueued.at);
      task.wireId = ++this.#nextWireId;
      task.dispatched = stamp;
      this.#running.set(task.wireId, task);
      const extras = task.extras;
      if (extras !== undefined) {
        // setTimeout fires at once past 2^31-1 ms; so long a timeout is as good as none.
        if (extras.timeout < MAX_TIMER_MS) extras.timer = setTimeout(this.#onTimeout, extras.timeout, task).unref();
        if (extras.transfer) (transfer ??= []).push(...extras.transfer);
        if (task.cancellable) cancellable = true;
      }
      batch.push(task.wireId, task.name, task.args);
      if (this.#isolates(slot, task)) slot.isolating = task;
    }
    const taken = tasks.length;
    if (taken === 0) return 0;
    slot.inFlight += taken;
    this.#updateBusy(slot);
    try {
      slot.backend.dispatch(batch, transfer, cancellable);
    } catch (error) {
      this.lost(slot.backend, batchIds(batch), 'isolate', error as Error);
    }
    return taken;
  }

  #isolates(slot: Slot, task: Task): boolean {
    return task.suspect && (slot.backend.parallelism === 1 || slot.backend.kind === 'agent');
  }

  /** The head of the queue fits no backend with room. Parks it if no backend exports it at all. */
  #parkHead(): boolean {
    const task = this.#queue.head();
    if (task === undefined) return false;
    if (this.#slotList.some((slot) => slot.accepts(task.name))) return false;
    if (this.#slotList.length === 0 && !this.#options.waitForBackends) return false;
    const unknown = !this.#options.waitForBackends && !this.#acceptsAnyName && !this.#knownNames.has(task.name);
    this.#queue.dropHead(!unknown);
    if (unknown) this.#fail(task, new UnknownTaskError(task.name));
    return true;
  }

  #onTimeout = (task: Task): void => {
    task.extras!.timer = undefined;
    this.#cancel(task, new TimeoutError(task.extras!.timeout));
  };

  #cancel(task: Task, error: Error): void {
    if (task.state === QUEUED) {
      this.#queue.remove(task);
      this.#settle(task);
      this.#failed++;
      task.reject(error);
      this.#drainIfEmpty();
      this.#afterChange();
    } else if (task.state === RUNNING) {
      const slot = task.slot!;
      this.#running.delete(task.wireId);
      slot.inFlight--;
      this.#settle(task);
      this.#failed++;
      task.reject(error);
      slot.backend.cancel([task.wireId]);
      this.#updateBusy(slot);
      this.#pump();
      this.#afterChange();
    }
  }

  #settle(task: Task): void {
    task.state = DONE;
    task.slot = undefined;
    const extras = task.extras;
    if (extras === undefined) return;
    if (extras.timer !== undefined) clearTimeout(extras.timer);
    if (extras.onAbort !== undefined) extras.signal!.removeEventListener('abort', extras.onAbort);
  }

  results(backend: Backend, results: Results, busyMs: number): void {
    const slot = this.#slots.get(backend);
    if (slot === undefined) return;
    const now = performance.now();
    let settled = 0;
    for (let i = 0; i < results.length; i += 3) {
      const task = this.#running.get(results[i] as number);
      // A result for an attempt that was cancelled or re-queued elsewhere is stale: drop it.
      if (task === undefined || task.slot !== slot) continue;
      this.#running.delete(task.wireId);
      settled++;
      this.#settle(task);
      this.#runTime.record(now - task.dispatched.at);
      if (results[i + 1] === OK) {
        this.#completed++;
        task.resolve(results[i + 2]);
      } else {
        this.#failed++;
        task.reject(deserializeError(results[i + 2] as SerializedError));
      }
    }
    slot.inFlight -= settled;
    slot.adapt(busyMs, results.length / 3);
    this.#updateBusy(slot);
    this.#pump();
    this.#afterChange();
  }

  lost(backend: Backend, ids: readonly number[], reason: LostReason, error: Error): void {
    const slot = this.#slots.get(backend);
    if (slot !== undefined) this.#requeue(slot, ids, reason, error);
  }

  #requeue(slot: Slot, ids: readonly number[], reason: LostReason, error: Error): void {
    const again: Task[] = [];
    for (const id of ids) {
      const task = this.#running.get(id);
      if (task === undefined || task.slot !== slot) continue;
      this.#running.delete(id);
      slot.inFlight--;
      const extras = task.extras;
      if (extras?.timer !== undefined) {
        clearTimeout(extras.timer);
        extras.timer = undefined;
      }
      task.slot = undefined;
      task.state = QUEUED;
      if (reason === 'stopped') {
        again.push(task);
        continue;
      }
      if (reason === 'isolate' && task.solo) {
        this.#fail(task, error);
        continue;
      }
      if (reason === 'died' && ++task.attempts > this.#options.retries) {
        this.#fail(task, new WorkerLostError(task.attempts, error));
        continue;
      }
      // Whatever killed the batch may be one of its tasks: from now on each runs alone.
      task.isolate(reason === 'died');
      if (reason === 'died') {
        this.#retried++;
        this.emit('retry', { name: task.name, attempt: task.attempts + 1, error });
      }
      again.push(task);
    }
    this.#queue.requeue(again);
    this.#updateBusy(slot);
    this.#pump();
    this.#afterChange();
  }

  exited(backend: Backend, reason: LostReason, error: Error): void {
    const slot = this.#slots.get(backend);
    if (slot === undefined) return;
    const ids: number[] = [];
    for (const [id, task] of this.#running) if (task.slot === slot) ids.push(id);
    slot.gone = true;
    this.#requeue(slot, ids, reason, error);
    this.#slots.delete(backend);
    this.#slotsChanged();
    if (slot.busy) backend.setBusy(false);
    this.#pump();
  }

  writable(_backend: Backend): void {
    this.#pump();
  }

  #fail(task: Task, error: Error): void {
    this.#settle(task);
    this.#failed++;
    task.reject(error);
  }

  #updateBusy(slot: Slot): void {
    const busy = slot.inFlight > 0;
    if (busy !== slot.busy) {
      slot.busy = busy;
      slot.backend.setBusy(busy);
    }
  }

  #afterChange(): void {
    if (this.#queue.size !== 0 || this.#running.size !== 0) return;
    this.#drainIfEmpty();
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
    this.emit('idle');
  }

  /** Resolves when nothing is queued or running. */
  onIdle(): Promise<void> {
    if (this.#queue.size === 0 && this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Refuses new tasks; resolves once the ones already submitted have settled. Tasks that no
   * backend exports (waiting for an agent that may bring them) are refused now.
   */
  close(): Promise<void> {
    this.#closed = true;
    for (const task of this.#queue.drainParked()) this.#fail(task, new PoolClosedError());
    this.#afterChange();
    return this.onIdle();
  }

  /** Refuses new tasks and rejects every pending one now. */
  destroy(): void {
    this.#closed = true;
    const error = new PoolDestroyedError();
    const pending = [...this.#queue.clear(), ...this.#running.values()];
    this.#running.clear();
    for (const slot of this.#slotList) {
      slot.inFlight = 0;
      this.#updateBusy(slot);
    }
    for (const task of pending) if (task.state !== DONE) this.#fail(task, error);
    this.#afterChange();
  }

  stats(): SchedulerStats {
    return {
      workers: this.#slotList.flatMap((slot) => slot.backend.info(slot.inFlight)),
      queued: this.#queue.size,
      running: this.#running.size,
      completed: this.#completed,
      failed: this.#failed,
      retried: this.#retried,
      waitTime: this.#waitTime.read(),
      runTime: this.#runTime.read(),
    };
  }
}
