/**
 * Queue items that code on this agent's workers holds: taken by a `for await` loop and not
 * yet acknowledged. The pool charges them to the agent as a whole, so without this an item
 * held by a worker that died would wait for the whole agent to go before anyone else could
 * take it. The agent gives such items back on the dead worker's behalf, as the worker's
 * own `nack` would have.
 */
import type { ActorCall, Backend, CallReply } from '../backends/types.js';
import { TO_QUEUE } from '../worker/calls.js';
import { isRecord } from '../worker/parse.js';

interface Hold {
  backend: Backend;
  queue: string;
}

/** The queue a worker's call takes a held item from (its reply then goes through `taken`), if it does. */
export function takesFrom(call: ActorCall): string | undefined {
  return call.kind === TO_QUEUE && call.method === 'take' ? call.actor : undefined;
}

/** A `nack` the agent sends for a worker that can no longer send it: a tell, answered by nobody. */
export function giveBack(queue: string, delivery: number): ActorCall {
  return { kind: TO_QUEUE, id: 0, actor: queue, method: 'nack', args: [delivery], tell: true, chain: [], timeout: Infinity };
}

export class QueueHolds {
  /** By the pool's delivery number. */
  readonly #held = new Map<number, Hold>();

  /** A worker's call on its way up: an ack or nack ends a hold. */
  passing(backend: Backend, call: ActorCall): void {
    if (call.kind !== TO_QUEUE || (call.method !== 'ack' && call.method !== 'nack')) return;
    const delivery = call.args[0];
    if (typeof delivery === 'number' && this.#held.get(delivery)?.backend === backend) this.#held.delete(delivery);
  }

  /**
   * The pool's answer to a take by `backend`: the delivery number it carries, when the
   * answer is an item. Returns the give-back to send when that worker is gone already.
   */
  taken(backend: Backend, queue: string, reply: CallReply, alive: boolean): ActorCall | undefined {
    if (!reply.ok || !isRecord(reply.value) || !Number.isSafeInteger(reply.value.delivery)) return undefined;
    const delivery = reply.value.delivery as number;
    if (!alive) return giveBack(queue, delivery);
    this.#held.set(delivery, { backend, queue });
    return undefined;
  }

  /** The worker is gone: the give-backs for what it held. */
  release(backend: Backend): ActorCall[] {
    const calls: ActorCall[] = [];
    for (const [delivery, hold] of this.#held) {
      if (hold.backend !== backend) continue;
      this.#held.delete(delivery);
      calls.push(giveBack(hold.queue, delivery));
    }
    return calls;
  }

  /** The scheduler connection is gone: it took back everything this agent held. */
  clear(): void {
    this.#held.clear();
  }
}
