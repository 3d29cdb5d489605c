/**
 * The pool's side of `queue(name)` in code running on its workers and agents: each call
 * comes up a backend's channel (as calls to actors do) and is answered on it. Items taken
 * there (by a loop or a get) stay held by that backend until acknowledged; when the backend
 * goes (a worker dies, an agent is lost), they go back to the front of their queues.
 */
import { InvalidArgumentError, serializeError, UnknownQueueError } from '../errors.js';
import type { ActorCall, Backend, CallReply } from '../backends/types.js';
import type { QueueStore } from './store.js';
import type { Received } from './types.js';

export class WorkerQueueCalls {
  readonly #store: QueueStore;
  readonly #held = new Map<number, { backend: Backend; receipt: Received<unknown> }>();
  /** Backends gone: an item a take of theirs gets later goes straight back. */
  readonly #gone = new WeakSet<Backend>();
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
        return void queue.put(call.args[0], { timeout }).then(() => answer({ ok: true, value: undefined }), fail);
      case 'size':
        return answer({ ok: true, value: queue.size() });
      case 'take':
        return void queue.get({ ack: 'manual', timeout }).then((receipt) => {
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

  /** The backend is gone: the items its code held go back to the front. */
  exited(backend: Backend): void {
    this.#gone.add(backend);
    for (const [delivery, held] of this.#held) {
      if (held.backend !== backend) continue;
      this.#held.delete(delivery);
      held.receipt.nack();
    }
  }
}
