/**
 * The calls code in this worker has made to actors and still waits on. Each goes up the
 * worker's channel with the chain of actors whose calls wait on the code that made it, so
 * that the scheduler can refuse one that would wait on itself.
 */
import { deserializeError, TimeoutError } from '../errors.js';
import { setDelay } from '../timers.js';
import { callChain } from './actor-host.js';
import type { CallPort } from './actor-ref.js';
import { TO_ACTOR, type ActorCall, type CallReply } from './calls.js';

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
}

export class OutgoingCalls implements CallPort {
  readonly #send: (call: ActorCall) => void;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;

  constructor(send: (call: ActorCall) => void) {
    this.#send = send;
  }

  /** Calls still waiting for their replies. */
  get pending(): number {
    return this.#pending.size;
  }

  send(actor: string, method: string, args: readonly unknown[], tell: boolean, timeout: number, kind = TO_ACTOR): Promise<unknown> {
    const id = ++this.#nextId;
    const chain = tell || kind !== TO_ACTOR ? [] : (callChain.getStore() ?? []);
    this.#send({ kind, id, actor, method, args, tell, chain, timeout });
    if (tell) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      // A queue's wait is bounded by the pool alone: its answer says whether an item was handed over.
      const timer = kind !== TO_ACTOR ? undefined : setDelay(() => {
        this.#pending.delete(id);
        reject(new TimeoutError(timeout));
      }, timeout);
      this.#pending.set(id, { resolve, reject, timer });
    });
  }

  settle(reply: CallReply): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(deserializeError(reply.value));
  }
}
