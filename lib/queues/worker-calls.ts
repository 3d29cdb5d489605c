/**
 * The pool's side of `queue(name)` in code running on its workers and agents: each call
 * comes up a backend's channel (as calls to actors do) and is answered on it. Items taken
 * there (by a loop or a get) stay held by that backend until acknowledged; when the backend
 * goes (a worker dies, an agent is lost), they go back to the front of their queues.
 */
import { InvalidArgumentError, ProtocolError, serializeError, UnknownQueueError } from '../errors.js';
import type { ActorCall, Backend, CallReply } from '../backends/types.js';
import { MAX_WAITING_PUTS } from './protocol.js';
import type { QueueStore } from './store.js';
import type { Received } from './types.js';

/** Most puts and takes of one worker or agent waiting at once, as for a client's puts. */
export const MAX_WAITING_CALLS = MAX_WAITING_PUTS;


export class WorkerQueueCalls {
  readonly #store: QueueStore;
  readonly #held = new Map<number, { backend: Backend; receipt: Received<unknown> }>();
  /** Backends gone: an item a take of theirs gets later goes straight back. */
  readonly #gone = new WeakSet<Backend>();
  /** Each backend's puts and takes still waiting, by what gives each up when the backend goes. */
  readonly #waiting = new Map<Backend, Set<AbortController>>();
  #nextDelivery = 0;

  constructor(store: QueueStore) {
    this.#store = store;
  }

  call(backend: Backend, call: ActorCall): void {
    const answer = (reply: Omit<CallReply, 'id'>) => backend.reply({ id: call.id, ...reply });
    const fail = (error: unknown) => answer({ ok: false, value: serializeError(error) });
    const queue = this.#store.handle(call.actor);
    if (queue === undefined) return fail(new UnknownQueueError(call.actor));
    const timeout = call.timeout === Infinity ? undefined : call.timeout;
    switch (call.method) {
      case 'put':
        return void this.#wait(backend, (signal) => queue.put(call.args[0], { timeout, signal })).then(() => answer({ ok: true, value: undefined }), fail);
      case 'size':
        return answer({ ok: true, value: queue.size() });
      case 'take':
        return void this.#wait(backend, (signal) => queue.get({ ack: 'manual', timeout, signal })).then((receipt) => {
          if (this.#gone.has(backend)) return receipt.nack();
          const delivery = ++this.#nextDelivery;
          this.#held.set(delivery, { backend, receipt });
          answer({ ok: true, value: { value: receipt.value, delivery } });
        }, fail);
      case 'ack':
      case 'nack': {
        const held = this.#held.get(call.args[0] as number);
        if (held === undefined || held.backend !== backend) return fail(new InvalidArgumentError(`${call.method}: no item ${String(call.args[0])} is held by this worker`));
        this.#held.delete(call.args[0] as number);
        if (call.method === 'ack') held.receipt.ack();
        else held.receipt.nack();
        return answer({ ok: true, value: undefined });
      }
      default:
        return fail(new UnknownQueueError(`${call.actor}.${call.method.slice(0, 100)}`));
    }
  }

  /**
   * A put or take of `backend`, counted while it waits: an agent cannot pile up calls
   * without bound, and those of a backend that goes are given up with it.
   */
  #wait<T>(backend: Backend, start: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const calls = this.#waiting.get(backend) ?? new Set<AbortController>();
    if (calls.size >= MAX_WAITING_CALLS) return Promise.reject(new ProtocolError(`more than ${MAX_WAITING_CALLS} queue calls waiting from one worker`));
    this.#waiting.set(backend, calls);
    // One controller per call: a signal shared by thousands of waits would pile up their listeners.
    const stop = new AbortController();
    calls.add(stop);
    return start(stop.signal).finally(() => {
      calls.delete(stop);
      if (calls.size === 0 && this.#waiting.get(backend) === calls) this.#waiting.delete(backend);
    });
  }

  /** The backend is gone: its waiting puts and takes are given up, and the items its code held go back to the front. */
  exited(backend: Backend): void {
    this.#gone.add(backend);
    const waiting = this.#waiting.get(backend);
    this.#waiting.delete(backend);
    for (const stop of waiting ?? []) stop.abort();
    for (const [delivery, held] of this.#held) {
      if (held.backend !== backend) continue;
      this.#held.delete(delivery);
      held.receipt.nack();
    }
  }
}
