import { EventEmitter } from 'eventemitter3';
import type { TransferListItem } from 'node:worker_threads';
import {
  AbortError, deserializeError, PoolClosedError, PoolDestroyedError, QueueFullError, serializeError, TimeoutError, UnknownTaskError,
  type SerializedError,
} from '../errors.js';
import { mayRetire, reviewRetirement } from '../backends/recycling.js';
import { batchIds, type ActorCall, type Backend, type BackendHost, type Batch, type LostReason, type Results } from '../backends/types.js';
import { BatchBuilder, failures, resultId } from '../worker/batch.js';
import { atTurnEnd, MAX_DELAY_MS } from '../timers.js';
import { TO_QUEUE } from '../worker/calls.js';
import { IdTable } from './id-table.js';
import { KnownNames } from './known-names.js';
import { fates, lossReasons } from './losses.js';
import { TaskQueue } from './task-queue.js';
import {
  DONE, Extras, fulfil, promiseFor, QUEUED, refuse, RUNNING, Slot, Task, type Sink, type Stamp,
} from './task.js';
import { Latency } from './stats.js';
import { utilization } from './utilization.js';
import type {
  ActorTraffic, Host, QueueTraffic, RunOptions, SchedulerEvents, SchedulerOptions, SchedulerStats, WorkerStats,
} from './types.js';

export type { ActorTraffic, Host, QueueTraffic, RunOptions, SchedulerEvents, SchedulerOptions, SchedulerStats, WorkerStats };

/**
 * Owns every task from `submit()` until its one settlement: queued → running on a
 * backend (under a fresh wire id each attempt) → done. Knows backends only through the
 * Backend interface, and does no I/O of its own.
 */
export class Scheduler extends EventEmitter<SchedulerEvents> implements BackendHost {
  readonly #options: SchedulerOptions;
  readonly #queue = new TaskQueue();
  readonly #running = new IdTable<Task>();
  readonly #slots = new Map<Backend, Slot>();
  #slotList: Slot[] = [];
  #parallelism = 0;
  readonly #names = new KnownNames();
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
  readonly #windowTime = new Latency();
  #actors: ActorTraffic | undefined;
  #queueCalls: QueueTraffic | undefined;

  constructor(options: SchedulerOptions) {
    super();
    this.#options = options;
  }

  get closed(): boolean {
    return this.#closed;
  }

  attach(backend: Backend): void {
    const slot = new Slot(backend, this.#options.initialWindow ?? 1);
    this.#slots.set(backend, slot);
    this.#slotsChanged();
    this.#names.attached(backend);
    backend.attach(this);
    this.#queue.unpark((name) => slot.accepts(name));
    this.#pump();
    this.#actors?.attached(backend);
  }

  /** Hands actor traffic to `actors`. */
  carry(actors: ActorTraffic): void {
    this.#actors = actors;
  }

  /** Reserves `count` consecutive wire ids; returns the first. */
  reserveIds(count: number): number {
    const base = this.#nextWireId + 1;
    this.#nextWireId += count;
    return base;
  }

  /** Backends that export `name` and can take work now, with their load. */
  hostsFor(name: string): Host[] {
    return this.#slotList
      .filter((slot) => !slot.gone && slot.backend.ready && slot.accepts(name))
      .map((slot) => ({ backend: slot.backend, load: slot.inFlight / slot.backend.parallelism }));
  }

  /** Whether some attached backend exports `name`, or one may still come to (an agent). */
  mayExport(name: string): boolean {
    return this.#options.waitForBackends || this.#names.has(name);
  }

  /** Whether actor entries on `backend` are awaited: the backend keeps this process alive while they are, as while it runs tasks. */
  awaitActors(backend: Backend, awaited: boolean): void {
    const slot = this.#slots.get(backend);
    if (slot === undefined) return;
    slot.actorsAwaited = awaited;
    this.#updateBusy(slot);
  }

  /** The actors `backend` hosts changed: a worker due to be recycled may go once it hosts none. */
  actorsMoved(backend: Backend): void {
    const slot = this.#slots.get(backend);
    if (slot !== undefined) this.#updateBusy(slot);
  }

  /** Sends an actor's batch straight to its backend, outside the task queue and windows. */
  sendDirect(backend: Backend, batch: Batch): void {
    try {
      backend.dispatch(batch, undefined, false);
    } catch (error) {
      for (const id of batchIds(batch)) this.#actors?.lost(backend, id, error as Error);
    }
  }

  /** Hands calls from workers to queues to `queues`, and tells it of backends that go. */
  carryQueueCalls(queues: QueueTraffic): void {
    this.#queueCalls = queues;
  }

  call(backend: Backend, call: ActorCall): void {
    if (call.kind === TO_QUEUE) {
      if (this.#queueCalls !== undefined) this.#queueCalls.call(backend, call);
      else backend.reply({ id: call.id, ok: false, value: serializeError(new Error('this pool has no queues')) });
    } else if (this.#actors !== undefined) this.#actors.call(backend, call);
    else if (!call.tell) backend.reply({ id: call.id, ok: false, value: serializeError(new Error('this pool hosts no actors')) });
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

  /**
   * Submits a task whose outcome goes to `sink` under `index`, with no promise of its own:
   * a map chunk (pool.map), which runs `name` on each of `items`. Returns the refusal
   * instead of throwing it.
   */
  submitChunk(sink: Sink, index: number, name: string, items: ArrayLike<unknown>, options?: RunOptions): Error | undefined {
    const refusal = this.#refusal(name, options?.signal);
    if (refusal) return refusal;
    const task = this.#newTask(name, [items], options);
    task.markChunk();
    task.sink = sink;
    task.index = index;
    this.#enqueue(task);
    return undefined;
  }

  /**
   * Forgets the tasks of `sink` that are still queued (they never run, and it hears
   * nothing of them); those already running finish and are reported as usual.
   */
  drop(sink: Sink): void {
    for (const task of this.#queue.removeWhere((t) => t.sink === sink)) this.#settle(task);
    this.#drainIfEmpty();
    this.#afterChange();
  }

  #refusal(name: string, signal: AbortSignal | undefined): Error | undefined {
    if (this.#closed) return new PoolClosedError();
    if (!this.#options.waitForBackends && !this.#names.has(name)) return new UnknownTaskError(name);
    if (this.#options.maxQueue !== Infinity && this.#waiting() >= this.#options.maxQueue) {
      this.#needDrain = true;
      return new QueueFullError(this.#options.maxQueue);
    }
    if (signal?.aborted) return new AbortError(signal.reason);
    return undefined;
  }

  /** Tasks queued beyond what the workers' windows can take now: what `maxQueue` bounds. */
  #waiting(): number {
    const queued = this.#queue.size;
    if (queued === 0) return 0;
    let room = 0;
    for (const slot of this.#slotList) if (this.#usable(slot)) room += slot.room;
    return Math.max(0, queued - room);
  }

  /** While true, `run()` refuses with QueueFullError: wait for 'drain'. */
  get needsDrain(): boolean {
    return this.#waiting() >= this.#options.maxQueue;
  }

  #usable(slot: Slot): boolean {
    return !slot.gone && slot.backend.ready && !slot.quarantined && slot.room > 0;
  }

  #newTask(name: string, args: unknown[], options: RunOptions | undefined): Task {
    // One timestamp serves every task submitted in this turn (see #flush).
    const enqueued = (this.#turn ??= { at: performance.now() });
    const signal = options?.signal;
    const timeout = options?.timeout ?? this.#options.timeout;
    const transfer = options?.transfer;
    const onProgress = options?.onProgress;
    const cancellable = signal !== undefined || timeout !== Infinity;
    if (!cancellable && transfer === undefined && onProgress === undefined) return new Task(name, args, enqueued, undefined, false);
    const task = new Task(name, args, enqueued, new Extras(signal, timeout, transfer, onProgress), cancellable);
    if (signal) {
      const extras = task.extras!;
      extras.onAbort = () => this.#cancel(task, new AbortError(signal.reason));
      signal.addEventListener('abort', extras.onAbort, { once: true });
    }
    return task;
  }

  #enqueue(task: Task): void {
    this.#queue.push(task);
    if (this.#options.maxQueue !== Infinity && this.#waiting() >= this.#options.maxQueue) this.#needDrain = true;
    this.#schedulePump();
  }

  /**
   * A lone task goes out at once; tasks submitted in the same turn while workers are
   * busy wait for the end of the turn and travel together.
   */
  #schedulePump(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    atTurnEnd(this.#flush);
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
    if (this.#options.onDemand !== undefined && this.#queue.size > 0) {
      const waiting = this.#waiting();
      if (waiting > 0) this.#options.onDemand(waiting);
    }
  }

  #drainIfEmpty(): void {
    if (this.#queue.size === 0 && this.#needDrain) {
      this.#needDrain = false;
      this.emit('drain');
    }
  }

  /**
   * Water-filling: the least loaded backend with room gets a batch, as large as its room
   * and `batchSize` allow; then the next least loaded, until the queue or the room runs out.
   * A backend still holding much of its window waits for room for a good batch rather than
   * being topped up a task at a time, which would shrink every later batch.
   */
  #pumpRound(): number {
    const slots = this.#slotList;
    let sent = 0;
    let skip: Set<Slot> | undefined;
    while (this.#queue.size > 0) {
      let best: Slot | undefined;
      let lowest = Infinity;
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i];
        if (!this.#usable(slot) || skip?.has(slot)) continue;
        const load = slot.inFlight / slot.backend.parallelism;
        if (load < lowest) {
          lowest = load;
          best = slot;
        }
      }
      if (best === undefined) break;
      const room = best.room;
      // A batch runs on one worker: a backend with several (an agent) gets one worker's share
      // per batch, so that its batches spread over all of them.
      const share = Math.ceil(best.window / best.backend.parallelism);
      const good = Math.min(this.#options.batchSize, this.#queue.size, Math.ceil(share / 4));
      const starving = best.inFlight - best.waiting < best.backend.parallelism;
      const taken = room >= good || starving ? this.#dispatch(best, Math.min(room, share, this.#options.batchSize)) : 0;
      if (taken === 0) (skip ??= new Set()).add(best);
      sent += taken;
    }
    return sent;
  }

  #dispatch(slot: Slot, limit: number): number {
    // A worker due to be recycled after so many tasks is sent no more than that.
    limit = Math.min(limit, slot.backend.recycling?.budget ?? Infinity);
    let transfer: TransferListItem[] | undefined;
    let cancellable = false;
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
    const taken = tasks.length;
    if (taken === 0) return 0;
    // In the turn tasks were submitted, that turn's moment will do: the clock costs per call.
    const now = this.#turn?.at ?? performance.now();
    const stamp: Stamp = { at: now };
    const builder = new BatchBuilder(this.#nextWireId + 1);
    // Wait time is from run() to the first dispatch, sampled once per batch.
    if (tasks[0].wireId === 0) this.#waitTime.record(now - tasks[0].enqueued.at);
    for (let i = 0; i < taken; i++) {
      const task = tasks[i];
      task.state = RUNNING;
      task.slot = slot;
      task.wireId = ++this.#nextWireId;
      task.dispatched = stamp;
      this.#running.set(task.wireId, task);
      const extras = task.extras;
      if (extras !== undefined) {
        // setTimeout fires at once past 2^31-1 ms; so long a timeout is as good as none.
        if (extras.timeout <= MAX_DELAY_MS) extras.timer = setTimeout(this.#onTimeout, extras.timeout, task).unref();
        if (extras.transfer) (transfer ??= []).push(...extras.transfer);
        if (task.cancellable) cancellable = true;
      }
      builder.add(task.name, task.args, task.chunk);
      if (this.#isolates(slot, task)) slot.isolating = task;
    }
    slot.inFlight += taken;
    this.#updateBusy(slot);
    const batch = builder.build();
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
    const unknown = !this.#options.waitForBackends && !this.#names.has(task.name);
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
      refuse(task, error);
      this.#drainIfEmpty();
      this.#afterChange();
    } else if (task.state === RUNNING) {
      const slot = task.slot!;
      this.#running.delete(task.wireId);
      slot.release(task);
      this.#settle(task);
      this.#failed++;
      refuse(task, error);
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
    extras.progress?.close();
  }

  results(backend: Backend, results: Results): void {
    const slot = this.#slots.get(backend);
    if (slot === undefined) return;
    const { values } = results;
    const failed = failures(results);
    // Before the values: a task's last report comes before its outcome.
    if (results.progress !== undefined) this.#progress(slot, results.progress);
    let first: Task | undefined;
    for (let i = 0; i < values.length; i++) {
      const id = resultId(results, i);
      const task = this.#running.get(id);
      if (task === undefined) {
        this.#actors?.settled(backend, id, !failed.has(i), values[i]);
        continue;
      }
      // A result for an attempt that was cancelled or re-queued elsewhere is stale: drop it.
      if (task.slot !== slot) continue;
      this.#running.delete(task.wireId);
      first ??= task;
      slot.release(task);
      this.#settle(task);
      if (failed.has(i)) {
        this.#failed++;
        refuse(task, deserializeError(values[i]));
      } else {
        this.#completed++;
        fulfil(task, values[i]);
      }
    }
    const now = performance.now();
    slot.work.record(results.busy, now);
    if (first !== undefined) {
      // Stats per message, not per task: the mean run time the worker measured, and the
      // rest of the round trip, spent waiting in the worker's window.
      const run = results.run / values.length;
      this.#runTime.record(run);
      this.#windowTime.record(Math.max(0, now - first.dispatched.at - run));
    }
    for (const id of results.started ?? []) {
      const task = this.#running.get(id);
      if (task === undefined) this.#actors?.started(backend, id);
      if (task === undefined || task.slot !== slot || task.async) continue;
      task.async = true;
      slot.waiting++;
    }
    slot.adapt(results.busy, values.length);
    this.#updateBusy(slot, now);
    this.#pump();
    this.#afterChange();
  }

  #progress(slot: Slot, reports: readonly (readonly [number, unknown])[]): void {
    for (const [id, value] of reports) {
      const task = this.#running.get(id);
      if (task !== undefined && task.slot === slot) task.extras?.progress?.push(value);
    }
  }

  lost(backend: Backend, ids: readonly number[], reason: LostReason, error: Error): void {
    const slot = this.#slots.get(backend);
    if (slot !== undefined) this.#requeue(slot, ids, reason, error);
  }

  #requeue(slot: Slot, ids: readonly number[], reason: LostReason, error: Error): void {
    const lost: Task[] = [];
    // An agent may name a task twice: it must not be released, and queued, twice.
    const seen = new Set<Task>();
    for (const id of ids) {
      const task = this.#running.get(id);
      if (task === undefined) this.#actors?.lost(slot.backend, id, error);
      else if (task.slot === slot && !seen.has(task)) {
        seen.add(task);
        lost.push(task);
      }
    }
    const fate = fates(lost, lossReasons(lost, reason, slot.backend.parallelism === 1), error, this.#options.retries);
    const again: Task[] = [];
    for (let i = 0; i < lost.length; i++) {
      const task = lost[i];
      this.#running.delete(task.wireId);
      slot.release(task);
      const extras = task.extras;
      if (extras?.timer !== undefined) {
        clearTimeout(extras.timer);
        extras.timer = undefined;
      }
      task.slot = undefined;
      task.state = QUEUED;
      const next = fate[i];
      if (next instanceof Error) {
        this.#fail(task, next);
        continue;
      }
      if (next === 'retry') {
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
    for (const task of this.#running.values()) if (task.slot === slot) ids.push(task.wireId);
    slot.gone = true;
    this.#requeue(slot, ids, reason, error);
    this.#slots.delete(backend);
    this.#slotsChanged();
    this.#names.detached(backend);
    if (slot.busy) backend.setBusy(false);
    this.#actors?.exited(backend, error);
    this.#queueCalls?.exited(backend);
    this.#pump();
  }

  /** Whether `backend` has held no task for `idleMs` and may be stopped now for being idle. */
  retirable(backend: Backend, idleMs: number): boolean {
    const slot = this.#slots.get(backend);
    if (slot === undefined || slot.gone || slot.busy) return false;
    return performance.now() - slot.idleSince >= idleMs && mayRetire(slot.inFlight, this.#actors?.hosted(backend) ?? 0);
  }

  writable(_backend: Backend): void {
    this.#pump();
  }

  #fail(task: Task, error: Error): void {
    this.#settle(task);
    this.#failed++;
    refuse(task, error);
  }

  /** After any change of what `slot` holds: its busy state, and its retirement once it is due and may go. */
  #updateBusy(slot: Slot, now?: number): void {
    const busy = slot.inFlight > 0 || slot.actorsAwaited;
    if (busy !== slot.busy) {
      slot.busy = busy;
      if (!busy) slot.idleSince = now ?? performance.now();
      slot.backend.setBusy(busy);
    }
    if (!slot.gone) reviewRetirement(slot.backend, slot.inFlight, this.#actors?.hosted(slot.backend) ?? 0);
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
      slot.waiting = 0;
      this.#updateBusy(slot);
    }
    for (const task of pending) if (task.state !== DONE) this.#fail(task, error);
    this.#afterChange();
  }

  stats(): SchedulerStats {
    const now = performance.now();
    let busy = 0;
    let capacity = 0;
    const workers = this.#slotList.flatMap((slot): WorkerStats[] => {
      const { parallelism } = slot.backend;
      const window = slot.work.read(now);
      busy += window.busy;
      capacity += window.span * parallelism;
      const share = utilization(window.busy, window.span, parallelism);
      return slot.backend.info(slot.inFlight).map((info) => ({ ...info, utilization: share }));
    });
    const oldest = this.#queue.head();
    return {
      workers,
      utilization: utilization(busy, capacity, 1),
      queueAge: oldest === undefined ? 0 : now - oldest.enqueued.at,
      queued: this.#queue.size,
      running: this.#running.size,
      completed: this.#completed,
      failed: this.#failed,
      retried: this.#retried,
      waitTime: this.#waitTime.read(),
      runTime: this.#runTime.read(),
      windowTime: this.#windowTime.read(),
    };
  }
}
