import { PeerLostError, ProtocolError, serializeError } from '../errors.js';
import { AGENT_LOST, AGENT_RESULTS, type AgentLost } from '../backends/remote-protocol.js';
import { ERR, type Backend, type BackendHost, type LostReason, type Results } from '../backends/types.js';
import type { Connection } from '../transport/connection.js';

interface Route {
  backend: Backend;
  load: number;
}

/** A task in the hands of a local worker, under a local id the router gave it. */
interface Held {
  route: Route;
  wireId: number;
  /** Which scheduler connection sent it: results for an earlier one are dropped. */
  session: number;
}

/**
 * Passes a scheduler's batches to this machine's workers as they are, and their results
 * back. It keeps no queue and no per-task state beyond where each task went: retries,
 * timeouts and fencing stay with the scheduler, which learns of any loss as AGENT_LOST.
 */
export class Router implements BackendHost {
  readonly #routes = new Map<Backend, Route>();
  /**
   * Local id → where the task runs and its scheduler's wire id. Local ids never repeat,
   * so a result from a task of an earlier connection cannot settle a new task that a
   * restarted scheduler numbered the same.
   */
  readonly #held = new Map<number, Held>();
  #nextId = 0;
  #session = 0;
  /** Batches that came while no worker could take them (all congested, or being replaced). */
  #waiting: unknown[][] = [];
  #connection: Connection | undefined;
  #results: Results = [];
  #busyMs = 0;
  #scheduled = false;

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
    this.#routes.set(backend, { backend, load: 0 });
    backend.attach(this);
    this.#runWaiting();
  }

  /** Serves a new connection; results of tasks sent over an earlier one are dropped. */
  connect(connection: Connection): void {
    this.#connection = connection;
    this.#session++;
  }

  /** The connection is gone and its tasks will run elsewhere: stop them here. */
  disconnect(): void {
    this.#connection = undefined;
    this.#session++;
    this.#waiting = [];
    this.#results = [];
    this.#busyMs = 0;
    const byBackend = new Map<Backend, number[]>();
    for (const [localId, held] of this.#held) {
      const ids = byBackend.get(held.route.backend);
      if (ids) ids.push(localId);
      else byBackend.set(held.route.backend, [localId]);
    }
    for (const [backend, ids] of byBackend) backend.cancel(ids);
  }

  run(message: unknown): void {
    const batch = (message as { b?: unknown } | null)?.b;
    if (!Array.isArray(batch) || batch.length % 3 !== 0) {
      throw new ProtocolError('a run message must be { b: [id, name, args, …] }');
    }
    for (let i = 0; i < batch.length; i += 3) {
      // Names are looked up in this machine's own task module by the worker; nothing here runs them.
      if (!Number.isSafeInteger(batch[i]) || typeof batch[i + 1] !== 'string' || !Array.isArray(batch[i + 2])) {
        throw new ProtocolError(`batch entry ${i / 3} is not [id, name, args]`);
      }
    }
    this.#waiting.push(batch);
    this.#runWaiting();
  }

  cancel(ids: unknown): void {
    if (!Array.isArray(ids)) throw new ProtocolError('a cancel message must be an array of ids');
    const wanted = new Set(ids);
    for (const [localId, held] of this.#held) {
      if (held.session === this.#session && wanted.has(held.wireId)) held.route.backend.cancel([localId]);
    }
  }

  #runWaiting(): void {
    while (this.#waiting.length > 0) {
      const route = this.#leastLoaded();
      if (route === undefined) return;
      const batch = this.#waiting.shift()!;
      const localIds: number[] = [];
      for (let i = 0; i < batch.length; i += 3) {
        const localId = ++this.#nextId;
        this.#held.set(localId, { route, wireId: batch[i] as number, session: this.#session });
        batch[i] = localId;
        localIds.push(localId);
      }
      route.load += localIds.length;
      try {
        // Always cancellable: when the scheduler goes away, whatever its tasks still hold here is stopped.
        route.backend.dispatch(batch, undefined, true);
      } catch (error) {
        this.lost(route.backend, localIds, 'isolate', error as Error);
      }
    }
  }

  #leastLoaded(): Route | undefined {
    let best: Route | undefined;
    for (const route of this.#routes.values()) {
      if (!route.backend.ready) continue;
      if (best === undefined || route.load / route.backend.parallelism < best.load / best.backend.parallelism) best = route;
    }
    return best;
  }

  results(backend: Backend, results: Results, busyMs: number): void {
    const route = this.#routes.get(backend);
    if (route === undefined) return;
    for (let i = 0; i < results.length; i += 3) {
      const held = this.#held.get(results[i] as number);
      if (held?.route !== route) continue;
      this.#held.delete(results[i] as number);
      route.load--;
      if (held.session === this.#session) this.#results.push(held.wireId, results[i + 1], results[i + 2]);
    }
    this.#busyMs += busyMs;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
    this.#runWaiting();
  }

  lost(backend: Backend, ids: readonly number[], reason: LostReason, error: Error): void {
    const route = this.#routes.get(backend);
    if (route !== undefined) this.#report(route, ids, reason, error);
    this.#runWaiting();
  }

  exited(backend: Backend, reason: LostReason, error: Error): void {
    const route = this.#routes.get(backend);
    if (route === undefined) return;
    this.#routes.delete(backend);
    const ids: number[] = [];
    for (const [localId, held] of this.#held) if (held.route === route) ids.push(localId);
    this.#report(route, ids, reason, error);
    this.#runWaiting();
  }

  /** Tells the scheduler which of these tasks, still held by `route`, will not finish here. */
  #report(route: Route, localIds: readonly number[], reason: LostReason, error: Error): void {
    const wireIds: number[] = [];
    for (const localId of localIds) {
      const held = this.#held.get(localId);
      if (held?.route !== route) continue;
      this.#held.delete(localId);
      route.load--;
      if (held.session === this.#session) wireIds.push(held.wireId);
    }
    if (wireIds.length > 0) this.#send(AGENT_LOST, { ids: wireIds, reason, error: serializeError(error) } satisfies AgentLost);
  }

  writable(): void {
    this.#runWaiting();
  }

  #flush = (): void => {
    this.#scheduled = false;
    const r = this.#results;
    const busy = this.#busyMs;
    this.#results = [];
    this.#busyMs = 0;
    if (r.length === 0 || this.#send(AGENT_RESULTS, { r, busy }) === undefined) return;
    // A value the codec cannot carry, or a frame over maxFrameBytes: each result goes on
    // its own, and one that still cannot go fails its task instead of the whole message.
    for (let i = 0; i < r.length; i += 3) {
      const error = this.#send(AGENT_RESULTS, { r: [r[i], r[i + 1], r[i + 2]], busy: 0 });
      if (error instanceof PeerLostError) return;
      if (error) this.#send(AGENT_RESULTS, { r: [r[i], ERR, serializeError(error)], busy: 0 });
    }
  };

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
