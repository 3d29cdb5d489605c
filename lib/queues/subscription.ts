import type { Consumer, Held, QueueCore } from './core.js';

/** Where a subscription's items go: its client's session. */
export interface SubscriptionHost {
  deliver(sub: Subscription, items: Held<unknown>[]): void;
  ended(sub: Subscription, error: Error): void;
}

/** A client's consumption of one queue: as many items as it asked for, each held until it says. */
export class Subscription implements Consumer<unknown> {
  /** Most items handed to the client and not acknowledged, as it last asked (at most MAX_PREFETCH). */
  window = 0;
  held = 0;
  #attached = false;

  constructor(
    readonly session: SubscriptionHost,
    readonly core: QueueCore<unknown>,
  ) {}

  attach(): void {
    if (this.#attached) return this.core.wake();
    this.#attached = true;
    this.core.addConsumer(this);
  }

  get credit(): number {
    return Math.max(0, this.window - this.held);
  }

  take(items: Held<unknown>[]): void {
    this.held += items.length;
    this.session.deliver(this, items);
  }

  end(error: Error): void {
    this.#attached = false;
    this.session.ended(this, error);
  }
}
