import { PeerLostError, ProtocolError, serializeError } from '../errors.js';
import { AGENT_ACK, AGENT_CALL, AGENT_LOST, AGENT_RESULTS, parseCancel, type AgentLost } from '../backends/remote-protocol.js';
import { ERR, OK, type ActorCall, type Backend, type BackendHost, type LostReason, type Results } from '../backends/types.js';
import { compactResults, parseAnyBatch } from '../worker/compact-forms.js';
import { ACTOR_CREDIT, entryCount, failures, rebase, resultId, SPAWN, type Batch } from '../worker/batch.js';
import { parseCallReply } from '../worker/calls.js';
import { ResultBuffer } from '../worker/result-buffer.js';
import { IdTable } from '../scheduler/id-table.js';
import { reviewRetirement } from '../backends/recycling.js';
import { QueueHolds, takesFrom } from './queue-holds.js';
import type { Connection } from '../transport/connection.js';

interface Route {
  backend: Backend;
  /** Tasks it holds. */
  load: number;
  /** Actors it hosts. */
  actors: number;
}

/** A batch from the scheduler, forwarded whole to one local worker under local ids. */
interface Forwarded {
  route: Route;
  /** The scheduler's id of entry 0, and ours. */
  wireBase: number;
  localBase: number;
  count: number;
  /** Which scheduler connection sent it: results for an earlier one are dropped. */
  session: number;
  /** For an actor: such batches go where the actor lives, outside the credit for tasks. */
  actor: number | undefined;
  /** A spawn entry: held for the actor's whole life. */
  spawn: boolean;
}

/** A call that code on a worker here made to an actor, under the number we sent it up with. */
interface UpCall {
  backend: Backend;
  /** The worker's own number for it. */
  id: number;
  /** For a take from a queue: the queue's name (the item it brings is held for the worker). */
  takesFrom: string | undefined;
}

/**
 * Passes a scheduler's batches to this machine's workers as they came (renumbered, one
 * record per batch) and their results back. It keeps no queue and no per-task state:
 * retries, timeouts and fencing stay with the scheduler, which learns of any loss as
 * AGENT_LOST. It holds no more than the capacity it announced; a scheduler that sends
 * more is broken, and its connection is closed.
 */
export class Router implements BackendHost {
  readonly #routes = new Map<Backend, Route>();
  /**
   * Local id → its batch. Local ids never repeat, so a result from a task of an earlier
   * connection cannot settle a new task that a restarted scheduler numbered the same.
   */
  readonly #held = new IdTable<Forwarded>();
  /**
   * The same for actor entries, apart: an actor's spawn entry is held for its whole life, and
   * in the id table it would keep every id forwarded since alive.
   */
  readonly #actorHeld = new Map<number, Forwarded>();
  #nextId = 0;
  #session = 0;
  /** Batches that came while no worker could take them (all congested, or being replaced). */
  #waiting: Batch[] = [];
  #waitingEntries = 0;
  #connection: Connection | undefined;
  /** What the agent announced it takes at once: a scheduler that sends more is broken. */
  #credit = 0;
  /** Tasks of the current connection held by workers here. */
  #holding = 0;
  /** Actor entries of the current connection held here (each live actor's spawn entry included). */
  #actorHolding = 0;
  readonly #results = new ResultBuffer((results) => this.#sendResults(results));
  /** Where each actor of the current connection lives, by its (the scheduler's) id. */
  readonly #actors = new Map<number, Route>();
  readonly #upCalls = new Map<number, UpCall>();
  #nextCallId = 0;
  readonly #queueHolds = new QueueHolds();
  /** The base of the last batch that arrived and is not yet acknowledged. */
  #ackUpTo: number | undefined;
  /** How long an ack may wait for results to ride with (the scheduler's welcome says); 0: to the end of the turn. */
  #ackWithinMs = 0;
  /** When the oldest batch not yet acknowledged came (performance.now()). */
  #ackSince = 0;
  #ackArmed = false;

  get parallelism(): number {
    let sum = 0;
    for (const route of this.#routes.values()) sum += route.backend.parallelism;
    return sum;
  }

  get capacity(): number {
    let sum = 0;
    for (const route of this.#routes.values()) sum += route.backend.capacity;
    return sum;
  }

  get backends(): Backend[] {
    return [...this.#routes.keys()];
  }

  adopt(backend: Backend): void {
    this.#routes.set(backend, { backend, load: 0, actors: 0 });
    backend.attach(this);
    this.#runWaiting();
  }

  /**
   * Serves a new connection, which may hold up to `credit` tasks here (the capacity the
   * agent announced, whatever workers are up at the moment); results of tasks sent over
   * an earlier connection are dropped.
   */
  connect(connection: Connection, credit: number, ackWithinMs = 0): void {
    this.#connection = connection;
    this.#credit = credit;
    this.#ackWithinMs = ackWithinMs;
    this.#holding = 0;
    this.#actorHolding = 0;
    this.#session++;
  }

  /** The connection is gone and its tasks will run elsewhere: stop them here. */
  disconnect(): void {
    this.#connection = undefined;
    this.#ackUpTo = undefined;
    this.#session++;
    this.#holding = 0;
    this.#actorHolding = 0;
    this.#waiting = [];
    this.#waitingEntries = 0;
    this.#results.clear();
    this.#actors.clear();
    const tasks = new Map<Backend, number[]>();
    const actors = new Map<Backend, number[]>();
    for (const batch of this.#batches()) {
      const byBackend = batch.actor === undefined ? tasks : actors;
      const ids = byBackend.get(batch.route.backend) ?? [];
      ids.push(...this.#stillHeld(batch));
      byBackend.set(batch.route.backend, ids);
    }
    for (const [backend, ids] of tasks) backend.cancel(ids);
    // Actors are ended, not their workers, which host other actors and tasks; what is dropped never answers.
    for (const [backend, ids] of actors) backend.drop(ids);
    for (const [id, batch] of [...this.#actorHeld]) this.#release(batch, id);
    const lost = serializeError(new PeerLostError('the scheduler connection closed'));
    for (const call of this.#upCalls.values()) call.backend.reply({ id: call.id, ok: false, value: lost });
    this.#upCalls.clear();
    this.#queueHolds.clear();
  }

  /** The local ids of a forwarded batch's tasks that have not come back yet. */
  #stillHeld(batch: Forwarded): number[] {
    const ids: number[] = [];
    for (let i = 0; i < batch.count; i++) if (this.#find(batch.localBase + i) === batch) ids.push(batch.localBase + i);
    return ids;
  }

  #find(localId: number): Forwarded | undefined {
    return this.#held.get(localId) ?? this.#actorHeld.get(localId);
  }

  /** Each forwarded batch still holding a task or an actor entry, once. */
  *#batches(): IterableIterator<Forwarded> {
    let previous: Forwarded | undefined;
    for (const batch of this.#held.values()) {
      if (batch !== previous) yield batch;
      previous = batch;
    }
    yield* new Set(this.#actorHeld.values());
  }

  run(message: unknown): void {
    // Names are looked up in this machine's own task module by the worker; nothing here runs them.
    const batch = parseAnyBatch(message);
    this.#acknowledge(batch.base);
    if (batch.actor !== undefined) return this.#runForActor(batch);
    const count = entryCount(batch);
    if (this.#holding + this.#waitingEntries + count > this.#credit) {
      throw new ProtocolError(`the scheduler sent more than the ${this.#credit} tasks this agent takes at once`);
    }
    this.#waiting.push(batch);
    this.#waitingEntries += count;
    this.#runWaiting();
  }

  /**
   * A batch for an actor goes to the worker the actor lives in, at once and in the order it
   * came (its messages run in the order sent); a spawn goes to the worker hosting fewest.
   */
  #runForActor(batch: Batch): void {
    const actor = batch.actor!;
    const spawn = batch.op === SPAWN;
    if (spawn && this.#actors.has(actor)) throw new ProtocolError(`the scheduler spawned actor ${actor} twice`);
    const route = spawn ? this.#leastLoaded(true) : this.#actors.get(actor);
    const count = entryCount(batch);
    if (this.#actorHolding + count > this.#credit * ACTOR_CREDIT) {
      throw new ProtocolError(`the scheduler sent more than the ${this.#credit * ACTOR_CREDIT} actor entries this agent holds at once`);
    }
    const localBase = this.#nextId + 1;
    this.#nextId += count;
    if (route === undefined) {
      // No worker (spawn), or the actor's worker is gone: the scheduler learns of it as of any loss.
      const ids = Array.from({ length: count }, (_, i) => batch.base + i);
      this.#send(AGENT_LOST, { ids, reason: 'died', error: serializeError(new Error('no worker here hosts the actor')) } satisfies AgentLost);
      return;
    }
    if (spawn) {
      this.#actors.set(actor, route);
      route.actors++;
    }
    this.#actorHolding += count;
    const forwarded: Forwarded = { route, wireBase: batch.base, localBase, count, session: this.#session, actor, spawn };
    for (let i = 0; i < count; i++) this.#actorHeld.set(localBase + i, forwarded);
    try {
      route.backend.dispatch(rebase(batch, localBase), undefined, false);
    } catch (error) {
      this.lost(route.backend, Array.from({ length: count }, (_, i) => localBase + i), 'isolate', error as Error);
    }
  }

  /**
   * Says that the batches up to `base` have arrived (the scheduler's ack deadline): in the
   * same write as the next results if they come within ackWithinMs, else on its own then. A
   * lone task's round trip is then one frame back, not two, and the scheduler wakes once.
   * The timer is not stopped when an ack rides with results: one timer per ackWithinMs is
   * cheaper than one per batch. When it fires it sends only an ack that is due.
   */
  #acknowledge(base: number): void {
    if (this.#ackUpTo === undefined) this.#ackSince = performance.now();
    this.#ackUpTo = base;
    if (!this.#ackArmed) this.#armAck(this.#ackWithinMs);
  }

  #armAck(ms: number): void {
    this.#ackArmed = true;
    if (ms === 0) setImmediate(this.#ackDue);
    else setTimeout(this.#ackDue, ms).unref();
  }

  readonly #ackDue = (): void => {
    this.#ackArmed = false;
    if (this.#ackUpTo === undefined) return;
    const early = this.#ackSince + this.#ackWithinMs - performance.now();
    if (early >= 1) this.#armAck(Math.ceil(early));
    else this.#sendAck();
  };

  #sendAck(): void {
    const upTo = this.#ackUpTo;
    if (upTo === undefined) return;
    this.#ackUpTo = undefined;
    this.#send(AGENT_ACK, { upTo });
  }

  /** Actor messages not started, and actors, to forget (Backend.drop). */
  drop(message: unknown): void {
    for (const [backend, ids] of this.#localIds(parseCancel(message))) {
      backend.drop(ids);
      // A message dropped before it started never answers; one that had started answers, and is ignored.
      for (const id of ids) this.#release(this.#find(id)!, id);
    }
  }

  /** The answer to a call that code here made to an actor or a queue. */
  reply(message: unknown): void {
    const reply = parseCallReply(message);
    const call = this.#upCalls.get(reply.id);
    if (call === undefined) return;
    this.#upCalls.delete(reply.id);
    const alive = this.#routes.has(call.backend);
    if (call.takesFrom !== undefined) {
      const giveBack = this.#queueHolds.taken(call.backend, call.takesFrom, reply, alive);
      if (giveBack) this.#send(AGENT_CALL, giveBack);
    }
    if (alive) call.backend.reply({ ...reply, id: call.id });
  }

  call(backend: Backend, call: ActorCall): void {
    if (this.#connection === undefined || this.#connection.closed) {
      if (!call.tell) backend.reply({ id: call.id, ok: false, value: serializeError(new PeerLostError('no scheduler is connected')) });
      return;
    }
    this.#queueHolds.passing(backend, call);
    let id = 0;
    if (!call.tell) {
      id = ++this.#nextCallId;
      this.#upCalls.set(id, { backend, id: call.id, takesFrom: takesFrom(call) });
    }
    const error = this.#send(AGENT_CALL, { ...call, id });
    if (error !== undefined && !call.tell) this.reply({ id, ok: false, value: serializeError(error) });
  }

  cancel(message: unknown): void {
    for (const [backend, ids] of this.#localIds(parseCancel(message))) {
      // The scheduler counts a cancelled task out at once and may send another in its place
      // before this worker is gone: so it leaves the count here at once too, and whatever the
      // worker still says of it is dropped.
      for (const localId of ids) {
        const batch = this.#find(localId);
        if (batch !== undefined) this.#release(batch, localId);
      }
      backend.cancel(ids);
    }
  }

  /** The local ids, by worker, of the given wire ids still held for the current connection. */
  #localIds(wanted: readonly number[]): Map<Backend, number[]> {
    const byBackend = new Map<Backend, number[]>();
    for (const batch of this.#batches()) {
      if (batch.session !== this.#session) continue;
      for (const wireId of wanted) {
        const offset = wireId - batch.wireBase;
        if (offset < 0 || offset >= batch.count || this.#find(batch.localBase + offset) !== batch) continue;
        const ids = byBackend.get(batch.route.backend) ?? [];
        ids.push(batch.localBase + offset);
        byBackend.set(batch.route.backend, ids);
      }
    }
    return byBackend;
  }

  #runWaiting(): void {
    while (this.#waiting.length > 0) {
      const route = this.#leastLoaded();
      if (route === undefined) return;
      const batch = this.#waiting.shift()!;
      const count = entryCount(batch);
      this.#waitingEntries -= count;
      const localBase = this.#nextId + 1;
      this.#nextId += count;
      const forwarded: Forwarded = { route, wireBase: batch.base, localBase, count, session: this.#session, actor: undefined, spawn: false };
      for (let i = 0; i < count; i++) this.#held.set(localBase + i, forwarded);
      route.load += count;
      this.#holding += count;
      try {
        // Always cancellable: when the scheduler goes away, whatever its tasks still hold here is stopped.
        route.backend.dispatch(rebase(batch, localBase), undefined, true);
      } catch (error) {
        this.lost(route.backend, Array.from({ length: count }, (_, i) => localBase + i), 'isolate', error as Error);
      }
    }
  }

  /** The ready worker with the least work (for an actor: hosting the fewest actors, then the least work). */
  #leastLoaded(forActor = false): Route | undefined {
    let best: Route | undefined;
    const load = (route: Route) => (forActor ? route.actors * 1e6 : 0) + route.load / route.backend.parallelism;
    for (const route of this.#routes.values()) {
      if (!route.backend.ready) continue;
      if (best === undefined || load(route) < load(best)) best = route;
    }
    return best;
  }

  results(backend: Backend, results: Results): void {
    const route = this.#routes.get(backend);
    if (route === undefined) return;
    const failed = failures(results);
    // Progress first, renumbered like results: a task's last report comes before its value.
    for (const [localId, value] of results.progress ?? []) {
      const batch = this.#find(localId);
      if (batch?.route === route && batch.session === this.#session) this.#results.progress(batch.wireBase + (localId - batch.localBase), value);
    }
    for (let i = 0; i < results.values.length; i++) {
      const localId = resultId(results, i);
      const batch = this.#find(localId);
      if (batch?.route !== route) continue;
      this.#release(batch, localId);
      if (batch.session !== this.#session) continue;
      this.#results.push(batch.wireBase + (localId - batch.localBase), failed.has(i) ? ERR : OK, results.values[i]);
    }
    for (const localId of results.started ?? []) {
      const batch = this.#find(localId);
      if (batch?.route === route && batch.session === this.#session) this.#results.started(batch.wireBase + (localId - batch.localBase));
    }
    this.#results.time(results.busy, results.run);
    this.#results.flushSoon();
    this.#retireIfDue(route);
    this.#runWaiting();
  }

  lost(backend: Backend, ids: readonly number[], reason: LostReason, error: Error): void {
    const route = this.#routes.get(backend);
    if (route !== undefined) {
      this.#report(route, ids, reason, error);
      this.#retireIfDue(route);
    }
    this.#runWaiting();
  }

  /** A worker due to be recycled goes once it may (its replacement is adopted when it starts). */
  #retireIfDue(route: Route): void {
    reviewRetirement(route.backend, route.load, route.actors);
  }

  exited(backend: Backend, reason: LostReason, error: Error): void {
    const route = this.#routes.get(backend);
    if (route === undefined) return;
    this.#routes.delete(backend);
    // A take still unanswered stays: the item it brings goes back as soon as it comes.
    for (const [id, call] of this.#upCalls) if (call.backend === backend && call.takesFrom === undefined) this.#upCalls.delete(id);
    for (const giveBack of this.#queueHolds.release(backend)) this.#send(AGENT_CALL, giveBack);
    const ids: number[] = [];
    for (const batch of this.#batches()) if (batch.route === route) ids.push(...this.#stillHeld(batch));
    this.#report(route, ids, reason, error);
    this.#runWaiting();
  }

  /** Tells the scheduler which of these tasks, still held by `route`, will not finish here. */
  #report(route: Route, localIds: readonly number[], reason: LostReason, error: Error): void {
    const wireIds: number[] = [];
    for (const localId of localIds) {
      const batch = this.#find(localId);
      if (batch?.route !== route) continue;
      this.#release(batch, localId);
      if (batch.session !== this.#session) continue;
      wireIds.push(batch.wireBase + (localId - batch.localBase));
    }
    if (wireIds.length > 0) this.#send(AGENT_LOST, { ids: wireIds, reason, error: serializeError(error) } satisfies AgentLost);
  }

  /** A held entry is done here: it settled, or it is reported lost. */
  #release(batch: Forwarded, localId: number): void {
    if (batch.actor === undefined) {
      this.#held.delete(localId);
      batch.route.load--;
      if (batch.session === this.#session) this.#holding--;
      return;
    }
    this.#actorHeld.delete(localId);
    if (batch.session === this.#session) this.#actorHolding--;
    if (batch.spawn) {
      // The actor's life is over here.
      batch.route.actors--;
      if (batch.session === this.#session && this.#actors.get(batch.actor) === batch.route) this.#actors.delete(batch.actor);
    }
  }

  writable(): void {
    this.#runWaiting();
  }

  #sendResults(results: Results): void {
    this.#sendAck();
    if (this.#send(AGENT_RESULTS, compactResults(results) ?? results) === undefined) return;
    // A value the codec cannot carry, or a frame over maxFrameBytes: each result goes on
    // its own, and one that still cannot go fails its task instead of the whole message.
    const failed = failures(results);
    for (let i = 0; i < results.values.length; i++) {
      const one = (value: unknown, failure: boolean): Results =>
        ({ base: resultId(results, i), values: [value], failed: failure ? [0] : undefined, busy: 0, run: 0 });
      const error = this.#send(AGENT_RESULTS, one(results.values[i], failed.has(i)));
      if (error instanceof PeerLostError) return;
      if (error) this.#send(AGENT_RESULTS, one(serializeError(error), true));
    }
  }

  /**
   * Returns why a message could not go, or undefined. With no connection (or a closing
   * one) there is nobody to tell: the scheduler re-runs those tasks elsewhere.
   */
  #send(type: number, value: unknown): Error | undefined {
    const connection = this.#connection;
    if (connection === undefined || connection.closed) return undefined;
    try {
      connection.send(type, value);
      return undefined;
    } catch (error) {
      return error as Error;
    }
  }
}
