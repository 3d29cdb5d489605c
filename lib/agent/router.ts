import { PeerLostError, ProtocolError, serializeError } from '../errors.js';
import { AGENT_LOST, AGENT_RESULTS, type AgentLost } from '../backends/remote-protocol.js';
import { ERR, type Backend, type BackendHost, type LostReason, type Results } from '../backends/types.js';
import type { Connection } from '../transport/connection.js';

interface Route {
  backend: Backend;
  load: number;
}

/**
 * Passes a scheduler's batches to this machine's workers as they are, and their results
 * back. It keeps no queue and no per-task state beyond where each task went: retries,
 * timeouts and fencing stay with the scheduler, which learns of any loss as AGENT_LOST.
 */
export class Router implements BackendHost {
  readonly #routes = new Map<Backend, Route>();
  /** Wire id → the backend running it, for cancels and losses. */
  readonly #where = new Map<number, Route>();
  /** Batches that came while no worker could take them (all congested, or being replaced). */
  #waiting: { batch: unknown[]; cancellable: boolean }[] = [];
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
  }

  /** The connection is gone and its tasks will run elsewhere: stop them here. */
  disconnect(): void {
    this.#connection = undefined;
    this.#waiting = [];
    this.#results = [];
    const held = new Map<Backend, number[]>();
    for (const [id, route] of this.#where) {
      const ids = held.get(route.backend);
      if (ids) ids.push(id);
      else held.set(route.backend, [id]);
    }
    for (const [backend, ids] of held) backend.cancel(ids);
  }

  run(message: unknown): void {
    const { b: batch, c: cancellable } = (message ?? {}) as { b?: unknown; c?: unknown };
    if (!Array.isArray(batch) || batch.length % 3 !== 0 || typeof cancellable !== 'boolean') {
      throw new ProtocolError('a run message must be { b: [id, name, args, …], c: boolean }');
    }
    for (let i = 0; i < batch.length; i += 3) {
      // Names are looked up in this machine's own task module by the worker; nothing here runs them.
      if (!Number.isSafeInteger(batch[i]) || typeof batch[i + 1] !== 'string' || !Array.isArray(batch[i + 2])) {
        throw new ProtocolError(`batch entry ${i / 3} is not [id, name, args]`);
      }
    }
    this.#waiting.push({ batch, cancellable });
    this.#runWaiting();
  }

  cancel(ids: unknown): void {
    if (!Array.isArray(ids)) throw new ProtocolError('a cancel message must be an array of ids');
    for (const id of ids) {
      const route = this.#where.get(id);
      if (route) route.backend.cancel([id]);
    }
  }

  #runWaiting(): void {
    while (this.#waiting.length > 0) {
      const route = this.#leastLoaded();
      if (route === undefined) return;
      const { batch, cancellable } = this.#waiting.shift()!;
      const ids: number[] = [];
      for (let i = 0; i < batch.length; i += 3) {
        ids.push(batch[i] as number);
        this.#where.set(batch[i] as number, route);
      }
      route.load += ids.length;
      try {
        route.backend.dispatch(batch, undefined, cancellable);
      } catch (error) {
        this.lost(route.backend, ids, 'isolate', error as Error);
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
      if (this.#where.get(results[i] as number) !== route) continue;
      this.#where.delete(results[i] as number);
      route.load--;
      this.#results.push(results[i], results[i + 1], results[i + 2]);
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
    for (const [id, where] of this.#where) if (where === route) ids.push(id);
    this.#report(route, ids, reason, error);
    this.#runWaiting();
  }

  /** Tells the scheduler which of these tasks, still held by `route`, will not finish here. */
  #report(route: Route, ids: readonly number[], reason: LostReason, error: Error): void {
    const mine = ids.filter((id) => this.#where.get(id) === route);
    for (const id of mine) this.#where.delete(id);
    route.load -= mine.length;
    if (mine.length > 0) this.#send(AGENT_LOST, { ids: mine, reason, error: serializeError(error) } satisfies AgentLost);
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
