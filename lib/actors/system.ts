/**
 * The pool's actors: where each lives, what its mailbox holds, and what happens when its
 * worker dies. Messages go straight to the actor's worker, beside the task queue, in the
 * order they were sent; the worker runs them one at a time. Unlike tasks, a message is
 * run at most once: one pending when its worker dies is rejected, never sent again.
 */
import { EventEmitter } from 'eventemitter3';
import {
  AbortError, ActorDeadlockError, ActorLostError, ActorMailboxFullError, ActorNameTakenError, ActorNotFoundError,
  ActorStoppedError, DataCloneError, deserializeError, PoolClosedError, PoolDestroyedError, serializeError, TimeoutError,
  UnknownActorClassError,
} from '../errors.js';
import type { ActorCall, Backend, CallReply } from '../backends/types.js';
import type { ActorTraffic, Host, Scheduler } from '../scheduler/scheduler.js';
import { IdTable } from '../scheduler/id-table.js';
import { atTurnEnd, setDelay } from '../timers.js';
import { ACTOR_CREDIT, BatchBuilder, SPAWN, STOP } from '../worker/batch.js';
import { ActorRecord, LIVE, Message, PLACING, STOPPED, STOPPING, type Reply } from './record.js';
import type { ActorEvents, Placement, ResolvedSpawnOptions } from './types.js';

/** An actor's spawn or stop entry, in flight. */
class Lifecycle {
  host: Backend | undefined = undefined;
  awaited = false;
  constructor(
    readonly kind: 'spawn' | 'stop',
    readonly actor: ActorRecord,
    readonly id: number,
  ) {}
}

type Entry = Message | Lifecycle;

/** Most messages in one batch: a long mailbox goes in several. */
const MAX_BATCH = 4_096;

function fits(backend: Backend, place: Placement): boolean {
  if (place === 'any') return true;
  if (place === 'local') return backend.kind !== 'agent';
  return backend.id === `agent-${place.agent}`;
}

export class ActorSystem extends EventEmitter<ActorEvents> implements ActorTraffic {
  readonly #scheduler: Scheduler;
  readonly #byName = new Map<string, ActorRecord>();
  /** Every actor not stopped. */
  readonly #live = new Set<ActorRecord>();
  /** Entries sent and not settled, by wire id (a spawn entry, held for the actor's life, ends up a straggler). */
  readonly #entries = new IdTable<Entry>();
  /** Per backend, entries someone waits on: while any is, the backend keeps this process alive. */
  readonly #awaited = new Map<Backend, number>();
  /** Per backend, entries it holds (an actor's spawn entry for its whole life): at most its actor credit. */
  readonly #held = new Map<Backend, number>();
  /** Actors with messages waiting for a backend's credit. */
  readonly #starving = new Set<ActorRecord>();
  /** Actors hosted per backend, to place new ones where fewest live. */
  readonly #hosted = new Map<Backend, number>();
  readonly #dirty = new Set<ActorRecord>();
  #flushScheduled = false;
  #nextId = 0;
  /** Refusing calls and spawns from this process (close() or destroy() began). */
  #refusing: Error | undefined;

  constructor(scheduler: Scheduler) {
    super();
    this.#scheduler = scheduler;
    scheduler.carry(this);
  }

  byName(name: string): ActorRecord | undefined {
    return this.#byName.get(name);
  }

  spawn(className: string, args: readonly unknown[], options: ResolvedSpawnOptions): Promise<ActorRecord> {
    if (this.#refusing) return Promise.reject(this.#refusing);
    if (options.name !== undefined && this.#byName.has(options.name)) return Promise.reject(new ActorNameTakenError(options.name));
    if (!this.#scheduler.mayExport(className)) return Promise.reject(new UnknownActorClassError(className));
    const record = new ActorRecord(++this.#nextId, className, args, options);
    if (options.name !== undefined) this.#byName.set(options.name, record);
    this.#live.add(record);
    return new Promise((resolve, reject) => {
      record.onStarted = (error) => (error ? reject(error) : resolve(record));
      this.#place(record);
    });
  }

  #place(record: ActorRecord): void {
    let best: Host | undefined;
    let fewest = Infinity;
    for (const host of this.#scheduler.hostsFor(record.className)) {
      if (!fits(host.backend, record.options.place) || this.#credit(host.backend) < 1) continue;
      const hosted = this.#hosted.get(host.backend) ?? 0;
      if (hosted < fewest || (hosted === fewest && host.load < best!.load)) {
        best = host;
        fewest = hosted;
      }
    }
    if (best === undefined) return; // it waits for a backend to attach
    const backend = best.backend;
    const id = this.#scheduler.reserveIds(1);
    record.state = LIVE;
    record.incarnation = id;
    record.backend = backend;
    record.constructed = false;
    record.stopSent = false;
    this.#hosted.set(backend, fewest + 1);
    this.#enter(id, new Lifecycle('spawn', record, id), backend);
    this.#scheduler.sendDirect(backend, { base: id, name: record.className, args: [record.args], actor: id, op: SPAWN });
    if (record.unsent.length > 0) this.#markDirty(record);
  }

  hosted(backend: Backend): number {
    return this.#hosted.get(backend) ?? 0;
  }

  attached(_backend: Backend): void {
    for (const record of this.#live) if (record.state === PLACING) this.#place(record);
  }

  // ---- messages ----

  /** A call or tell from this process. */
  send(record: ActorRecord, method: string, args: readonly unknown[], reply: Reply, signal?: AbortSignal, timeout = Infinity): void {
    if (this.#refusing) return this.#fail(record, reply, method, this.#refusing);
    this.#submit(record, method, args, [], reply, signal, timeout);
  }

  /** A call or tell from code running on `backend`. */
  call(backend: Backend, call: ActorCall): void {
    this.request(call, (reply) => backend.reply(reply));
  }

  /**
   * A call or tell from elsewhere than this process (code on a backend, a connected
   * client): by name, with its chain; the outcome goes to `answer` (not for a tell).
   */
  request(call: ActorCall, answer: (reply: CallReply) => void, signal?: AbortSignal): void {
    const reply: Reply = call.tell ? { kind: 'tell' } : { kind: 'remote', id: call.id, answer };
    const record = this.#byName.get(call.actor);
    if (record === undefined) return this.#fail({ name: call.actor }, reply, call.method, new ActorNotFoundError(call.actor));
    this.#submit(record, call.method, call.args, call.chain, reply, signal, call.timeout);
  }

  #submit(
    record: ActorRecord, method: string, args: readonly unknown[], chain: readonly number[], reply: Reply,
    signal: AbortSignal | undefined, timeout: number,
  ): void {
    if (record.state === STOPPED || record.state === STOPPING) {
      return this.#fail(record, reply, method, new ActorStoppedError(record.label, record.lastError));
    }
    if (record.incarnation !== 0 && chain.includes(record.incarnation)) {
      return this.#fail(record, reply, method, new ActorDeadlockError(record.label));
    }
    if (record.options.overflow === 'reject' && record.queued >= record.options.mailbox) {
      return this.#fail(record, reply, method, new ActorMailboxFullError(record.label, record.options.mailbox));
    }
    if (signal?.aborted) return this.#fail(record, reply, method, new AbortError(signal.reason));
    const message = new Message(record, method, args, chain, reply);
    record.unsent.push(message);
    if (signal !== undefined) {
      message.signal = signal;
      message.onAbort = () => this.#abandon(message, new AbortError(signal.reason));
      signal.addEventListener('abort', message.onAbort, { once: true });
    }
    if (timeout !== Infinity) message.timer = setDelay(() => this.#abandon(message, new TimeoutError(timeout)), timeout);
    if (record.state === LIVE) this.#markDirty(record);
  }

  /** The caller stopped waiting: its message is dropped if it has not started; its actor goes on. */
  #abandon(message: Message, error: Error): void {
    if (message.settled) return;
    const record = message.actor;
    if (message.wireId === 0) record.unsent.splice(record.unsent.indexOf(message), 1);
    else {
      this.#take(message.wireId);
      record.inFlight--;
      record.backend?.drop([message.wireId]);
      if (record.unsent.length > 0) this.#markDirty(record);
    }
    this.#reject(message, error);
  }

  #markDirty(record: ActorRecord): void {
    this.#dirty.add(record);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // Messages sent in one turn travel together, in the order sent.
    atTurnEnd(() => {
      this.#flushScheduled = false;
      for (const dirty of this.#dirty) this.#flush(dirty);
      this.#dirty.clear();
    });
  }

  /**
   * Sends what waits to be sent, within the room its mailbox has for messages in flight and
   * the credit its backend has; a stopping actor's STOP goes once everything before it has.
   */
  #flush(record: ActorRecord): void {
    const backend = record.backend;
    if ((record.state !== LIVE && record.state !== STOPPING) || backend === undefined) return;
    while (record.unsent.length > 0) {
      const count = Math.min(record.unsent.length, record.options.mailbox - record.inFlight, this.#credit(backend), MAX_BATCH);
      if (count <= 0) break;
      const sending = record.unsent.splice(0, count);
      record.inFlight += count;
      const base = this.#scheduler.reserveIds(count);
      const builder = new BatchBuilder(base);
      let chains: (readonly number[])[] | undefined;
      for (let i = 0; i < count; i++) {
        const message = sending[i];
        message.wireId = base + i;
        this.#enter(message.wireId, message, backend);
        builder.add(message.method, message.args);
        if (message.chain.length > 0) chains ??= sending.slice(0, i).map(() => []);
        chains?.push(message.chain);
      }
      this.#scheduler.sendDirect(backend, builder.build(record.incarnation, chains));
    }
    if (record.unsent.length > 0 && this.#credit(backend) < 1) this.#starving.add(record);
    if (record.state === STOPPING && record.unsent.length === 0 && !record.stopSent && this.#credit(backend) >= 1) {
      record.stopSent = true;
      const id = this.#scheduler.reserveIds(1);
      this.#enter(id, new Lifecycle('stop', record, id), backend);
      this.#scheduler.sendDirect(backend, { base: id, name: 'stop', args: [[]], actor: record.incarnation, op: STOP });
    } else if (record.state === STOPPING && !record.stopSent) this.#starving.add(record);
  }

  /** How many more actor entries `backend` may hold (ACTOR_CREDIT per unit of its announced capacity). */
  #credit(backend: Backend): number {
    return backend.capacity * ACTOR_CREDIT - (this.#held.get(backend) ?? 0);
  }

  // ---- what the scheduler hands on ----

  settled(backend: Backend, id: number, ok: boolean, value: unknown): void {
    if (this.#heldBy(backend, id) === undefined) return;
    const entry = this.#take(id)!;
    const record = entry.actor;
    if (entry instanceof Message) {
      record.inFlight--;
      if (ok) this.#resolve(entry, value);
      else this.#rejectSerialized(entry, value);
      if (record.unsent.length > 0) this.#markDirty(record);
    } else if (entry.kind === 'stop') {
      if (!ok) record.lastError = deserializeError(value);
    } else {
      // A spawn entry settles when the actor's life ends: stopped, or its constructor threw.
      this.#unhost(record, backend);
      if (ok || record.state === STOPPING) this.#stopped(record, ok ? undefined : deserializeError(value));
      else if (!record.constructed && record.restarts === 0) this.#stopped(record, deserializeError(value));
      else this.#died(record, deserializeError(value));
    }
  }

  started(backend: Backend, id: number): void {
    const entry = this.#heldBy(backend, id);
    if (entry === undefined || entry instanceof Message || entry.kind !== 'spawn') return;
    const record = entry.actor;
    record.constructed = true;
    // Constructed: from now on it keeps nothing alive by itself, only messages waited on do.
    this.#release(entry);
    const onStarted = record.onStarted;
    record.onStarted = undefined;
    onStarted?.();
    this.emit('actorStart', record.info());
  }

  lost(backend: Backend, id: number, error: Error): void {
    if (this.#heldBy(backend, id) === undefined) return;
    const entry = this.#take(id)!;
    const record = entry.actor;
    if (entry instanceof Message) {
      record.inFlight--;
      this.#reject(entry, error instanceof DataCloneError ? error : new ActorLostError(record.label, error));
    } else if (entry.kind === 'spawn' && record.incarnation === id) {
      this.#unhost(record, backend);
      // Arguments that cannot be carried would fail every restart alike.
      if (error instanceof DataCloneError) this.#stopped(record, error);
      else this.#died(record, error);
    }
  }

  exited(backend: Backend, error: Error): void {
    for (const record of this.#live) {
      if (record.backend !== backend) continue;
      this.#unhost(record, backend);
      this.#died(record, error);
    }
    this.#hosted.delete(backend);
  }

  #unhost(record: ActorRecord, backend: Backend): void {
    if (record.backend !== backend) return;
    this.#take(record.incarnation);
    this.#hosted.set(backend, Math.max(0, (this.#hosted.get(backend) ?? 1) - 1));
    record.backend = undefined;
    record.incarnation = 0;
    this.#scheduler.actorsMoved(backend);
  }

  /** Its worker is gone: what it held is rejected (at most once), and it restarts within its policy. */
  #died(record: ActorRecord, error: Error): void {
    for (const message of this.#messagesOf(record)) {
      this.#take(message.wireId);
      this.#reject(message, new ActorLostError(record.label, error));
    }
    record.inFlight = 0;
    record.lastError = error;
    if (record.state === STOPPING) return this.#stopped(record);
    const policy = record.options.restart;
    const now = performance.now();
    const times = record.restartTimes;
    while (policy && times.length > 0 && now - times[0] > policy.withinMs) times.shift();
    if (!policy || times.length >= policy.max || this.#refusing) return this.#stopped(record, error);
    times.push(now);
    record.restarts++;
    record.state = PLACING;
    this.emit('actorRestart', record.info(), error);
    this.#place(record);
  }

  #stopped(record: ActorRecord, error?: Error): void {
    if (record.state === STOPPED) return;
    record.state = STOPPED;
    if (error !== undefined) record.lastError = error;
    this.#live.delete(record);
    if (record.name !== undefined && this.#byName.get(record.name) === record) this.#byName.delete(record.name);
    const stopped = new ActorStoppedError(record.label, error);
    for (const message of record.unsent) this.#reject(message, stopped);
    record.unsent = [];
    const onStarted = record.onStarted;
    record.onStarted = undefined;
    onStarted?.(error ?? stopped);
    const waiters = record.stopWaiters;
    record.stopWaiters = [];
    for (const done of waiters) done();
    this.emit('actorStop', record.info(), error);
  }

  // ---- outcomes ----

  #settle(message: Message): boolean {
    if (message.settled) return false;
    message.settled = true;
    if (message.timer !== undefined) clearTimeout(message.timer);
    if (message.onAbort !== undefined) message.signal!.removeEventListener('abort', message.onAbort);
    return true;
  }

  #resolve(message: Message, value: unknown): void {
    if (!this.#settle(message)) return;
    const reply = message.reply;
    if (reply.kind === 'promise') reply.resolve(value);
    else if (reply.kind === 'remote') reply.answer({ id: reply.id, ok: true, value });
  }

  #rejectSerialized(message: Message, error: unknown): void {
    if (!this.#settle(message)) return;
    const reply = message.reply;
    if (reply.kind === 'remote') reply.answer({ id: reply.id, ok: false, value: error });
    else this.#fail(message.actor, reply, message.method, deserializeError(error));
  }

  #reject(message: Message, error: Error): void {
    if (this.#settle(message)) this.#fail(message.actor, message.reply, message.method, error);
  }

  /** Hands an error to whoever waits on the message: its caller, a worker, or the 'actorError' event for a tell. */
  #fail(actor: ActorRecord | { name: string }, reply: Reply, method: string, error: Error): void {
    if (reply.kind === 'promise') reply.reject(error);
    else if (reply.kind === 'remote') reply.answer({ id: reply.id, ok: false, value: serializeError(error) });
    else this.emit('actorError', actor instanceof ActorRecord ? actor.info() : actor, { method, error });
  }

  // ---- lifecycle ----

  /** Stops the actor after the messages sent before; resolves once it has stopped (its `stop()` hook ran). */
  stop(record: ActorRecord): Promise<void> {
    if (record.state === STOPPED) return Promise.resolve();
    const done = new Promise<void>((resolve) => record.stopWaiters.push(() => resolve()));
    if (record.state === PLACING) this.#stopped(record);
    else if (record.state === LIVE) {
      record.state = STOPPING;
      this.#markDirty(record);
    }
    return done;
  }

  /** Calls and spawns from this process are refused from now on (the pool is closing). */
  refuse(): void {
    this.#refusing ??= new PoolClosedError();
  }

  /** Stops every actor after its mailbox drains. */
  async close(): Promise<void> {
    this.refuse();
    await Promise.all([...this.#live].map((record) => this.stop(record)));
  }

  /** Rejects everything pending now; the workers are being stopped. */
  destroy(): void {
    this.#refusing = new PoolDestroyedError();
    for (const record of this.#live) {
      for (const message of [...this.#messagesOf(record), ...record.unsent]) this.#reject(message, this.#refusing);
      record.inFlight = 0;
      record.unsent = [];
      record.backend = undefined;
      this.#stopped(record, this.#refusing);
    }
    for (const entry of [...this.#entries.values()]) this.#take(entry instanceof Message ? entry.wireId : entry.id);
  }

  /** The record's messages in flight, oldest first (when its worker dies: rare enough to look through all). */
  #messagesOf(record: ActorRecord): Message[] {
    const messages: Message[] = [];
    for (const entry of this.#entries.values()) if (entry instanceof Message && entry.actor === record) messages.push(entry);
    return messages;
  }

  #enter(id: number, entry: Entry, backend: Backend): void {
    this.#entries.set(id, entry);
    entry.host = backend;
    this.#held.set(backend, (this.#held.get(backend) ?? 0) + 1);
    entry.awaited = true;
    const count = (this.#awaited.get(backend) ?? 0) + 1;
    this.#awaited.set(backend, count);
    if (count === 1) this.#scheduler.awaitActors(backend, true);
  }

  /** Entry `id` if it was sent to `backend`: what a backend (an agent) says of entries it was not sent counts for nothing. */
  #heldBy(backend: Backend, id: number): Entry | undefined {
    const entry = this.#entries.get(id);
    return entry?.host === backend ? entry : undefined;
  }

  #take(id: number): Entry | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    this.#entries.delete(id);
    this.#release(entry);
    const host = entry.host!;
    this.#held.set(host, this.#held.get(host)! - 1);
    if (this.#starving.size > 0) {
      for (const record of this.#starving) this.#markDirty(record);
      this.#starving.clear();
    }
    return entry;
  }

  #release(entry: Entry): void {
    if (!entry.awaited) return;
    entry.awaited = false;
    const backend = entry.host!;
    const count = this.#awaited.get(backend)! - 1;
    if (count > 0) return void this.#awaited.set(backend, count);
    this.#awaited.delete(backend);
    this.#scheduler.awaitActors(backend, false);
  }
}
