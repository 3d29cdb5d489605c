import { PeerLostError, ProtocolError, serializeError } from '../errors.js';
import type { RelayHandle, Scheduler } from '../scheduler/scheduler.js';
import { AGENT_RESULTS } from '../backends/remote-protocol.js';
import type { Connection } from '../transport/connection.js';
import { ERR, OK, type Results } from '../worker/protocol.js';

/**
 * Passes one scheduler connection's tasks into the agent's local scheduler and sends the
 * results back, everything that settles in the same turn in one message.
 */
export class Relay {
  readonly #scheduler: Scheduler;
  readonly #connection: Connection;
  readonly #handles = new Map<number, RelayHandle>();
  #results: Results = [];
  #busyMs = 0;
  #scheduled = false;
  #attached = true;

  constructor(scheduler: Scheduler, connection: Connection) {
    this.#scheduler = scheduler;
    this.#connection = connection;
  }

  /** Queues a batch `[id, name, args, …]` received from the scheduler. */
  run(batch: unknown): void {
    if (!Array.isArray(batch) || batch.length % 3 !== 0) throw new ProtocolError('a batch must be [id, name, args, …]');
    for (let i = 0; i < batch.length; i += 3) {
      const [id, name, args] = [batch[i], batch[i + 1], batch[i + 2]];
      if (!Number.isSafeInteger(id) || typeof name !== 'string' || !Array.isArray(args)) {
        throw new ProtocolError(`batch entry ${i / 3} is not [id, name, args]`);
      }
      // The name is looked up in the agent's own task module; nothing from the wire runs.
      const handle = this.#scheduler.relay(name, args, (ok, value, busyMs) => this.#settled(id, ok, value, busyMs));
      if (handle) this.#handles.set(id, handle);
    }
  }

  cancel(ids: unknown): void {
    if (!Array.isArray(ids)) throw new ProtocolError('a cancel message must be an array of ids');
    for (const id of ids) {
      const handle = this.#handles.get(id);
      if (handle) this.#scheduler.cancelRelay(handle);
    }
  }

  /** The connection is gone: its tasks will run elsewhere, so stop them here. */
  detach(): void {
    this.#attached = false;
    for (const handle of [...this.#handles.values()]) this.#scheduler.cancelRelay(handle);
    this.#handles.clear();
  }

  #settled(id: number, ok: boolean, value: unknown, busyMs: number): void {
    this.#handles.delete(id);
    if (!this.#attached) return;
    this.#results.push(id, ok ? OK : ERR, ok ? value : serializeError(value));
    this.#busyMs += busyMs;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  #flush = (): void => {
    this.#scheduled = false;
    const r = this.#results;
    const busy = this.#busyMs;
    this.#results = [];
    this.#busyMs = 0;
    if (!this.#attached || r.length === 0) return;
    try {
      this.#connection.send(AGENT_RESULTS, { r, busy });
    } catch (error) {
      // Closing: the scheduler runs these tasks again elsewhere.
      if (error instanceof PeerLostError) return;
      // A value the codec cannot carry, or a frame over maxFrameBytes: each result goes on
      // its own, and one that still cannot go fails its task instead of the whole message.
      for (let i = 0; i < r.length; i += 3) this.#sendOne(r[i], r[i + 1], r[i + 2], i === 0 ? busy : 0);
    }
  };

  #sendOne(id: unknown, status: unknown, value: unknown, busy: number): void {
    try {
      this.#connection.send(AGENT_RESULTS, { r: [id, status, value], busy });
    } catch (error) {
      if (error instanceof PeerLostError) return;
      try {
        this.#connection.send(AGENT_RESULTS, { r: [id, ERR, serializeError(error)], busy });
      } catch {
        // The connection closed meanwhile: the task runs again elsewhere.
      }
    }
  }
}
