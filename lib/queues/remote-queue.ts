import { QueueClosedError } from '../errors.js';
import { Deque } from '../scheduler/deque.js';
import { iterate } from './iterate.js';
import { checkWaitOptions, MANUAL_ONLY, type WaitOptions } from './options.js';
import type { QueueGetOptions, QueueHandle, QueuePutOptions, Received } from './types.js';
import { watchWait } from './wait.js';
import { atTurnEnd } from '../timers.js';

/** What a client's queue handle needs from its hub's connection. */
export interface QueueLink {
  /** Which connection this is: acknowledgements of items from an earlier one are void (those items went back). */
  readonly epoch: number;
  readonly connected: boolean;
  /** The largest window the pool accepts (its welcome says). */
  readonly maxWindow: number;
  put(q: string, item: unknown, wait: WaitOptions): Promise<void>;
  size(q: string): Promise<number>;
  window(q: string, window: number): void;
  ack(epoch: number, ids: number | readonly number[], requeue: boolean): void;
  forget(q: string): void;
}

interface Waiter {
  manual: boolean;
  resolve(value: unknown): void;
  reject(error: Error): void;
  done: boolean;
}

interface Item {
  epoch: number;
  id: number;
  value: unknown;
}

/**
 * `hub.queue(name)`: a client's handle on a queue its pool owns. Items come ahead of need,
 * up to `prefetch` while a loop runs (one per waiting `get()` otherwise), on credit the
 * pool charges them to; each stays the pool's until acknowledged, and goes back to the
 * front if this client leaves first.
 */
export class HubQueue<T = unknown> implements QueueHandle<T> {
  readonly name: string;
  readonly #link: QueueLink;
  readonly #prefetch: number;
  readonly #buffer = new Deque<Item>();
  readonly #waiters = new Deque<Waiter>();
  #loops = 0;
  /** Waiters not yet served nor given up. */
  #waiting = 0;
  /** Items handed to the caller with ack: 'manual' (or the loop's current one), not yet acknowledged. */
  #userHeld = 0;
  /** The window last asked for on this connection. */
  #window = 0;
  #steerSoon = false;
  #closed = false;

  constructor(name: string, link: QueueLink, prefetch: number) {
    this.name = name;
    this.#link = link;
    this.#prefetch = prefetch;
  }

  put(item: T, options?: QueuePutOptions): Promise<void> {
    if (this.#closed) return Promise.reject(new QueueClosedError(this.name));
    try {
      return this.#link.put(this.name, item, checkWaitOptions('put', options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  get(options?: QueueGetOptions & { ack?: 'auto' }): Promise<T>;
  get(options: QueueGetOptions & { ack: 'manual' }): Promise<Received<T>>;
  get(options?: QueueGetOptions): Promise<T | Received<T>> {
    let wait: WaitOptions;
    try {
      wait = checkWaitOptions('get', options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closed) return Promise.reject(new QueueClosedError(this.name));
    if (this.#waiting === 0 && this.#buffer.length > 0) {
      const value = this.#hand(this.#buffer.shift()!, wait.manual);
      this.#steer();
      return Promise.resolve(value as T | Received<T>);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { manual: wait.manual, resolve, reject, done: false };
      const stop = watchWait(`get() on queue "${this.name}"`, wait, (error) => {
        if (waiter.done) return;
        waiter.done = true;
        this.#waiting--;
        reject(error);
        this.#steer();
      });
      waiter.resolve = (value) => {
        stop();
        resolve(value as T | Received<T>);
      };
      waiter.reject = (error) => {
        stop();
        reject(error);
      };
      this.#waiters.push(waiter);
      this.#waiting++;
      this.#serve();
      this.#steer();
    });
  }

  /** How many items the owner's queue holds now. */
  size(): Promise<number> {
    return this.#link.size(this.name);
  }

  /**
   * Stops consuming through this handle: waiting gets reject with ERR_TROUPE_QUEUE_CLOSED and
   * prefetched items go back. The pool's queue stays open; `hub.queue(name)` gives a new handle.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#link.forget(this.name);
    this.#fail(new QueueClosedError(this.name));
    this.#steer();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    this.#loops++;
    return iterate(
      () => this.get(MANUAL_ONLY as QueueGetOptions & { ack: 'manual' }),
      () => {
        this.#loops--;
        this.#steer();
      },
    );
  }

  /** @internal Items from the pool. */
  delivered(base: number, values: readonly unknown[]): void {
    const epoch = this.#link.epoch;
    for (let i = 0; i < values.length; i++) this.#buffer.push({ epoch, id: base + i, value: values[i] });
    this.#serve();
    this.#steer();
  }

  /** @internal No more items will come from the pool (closed and drained, or no such queue). */
  ended(error: Error): void {
    this.#window = 0;
    this.#fail(error);
  }

  /** @internal A new connection: what was buffered or held went back to the pool with the old one. */
  reconnected(): void {
    this.#buffer.clear();
    this.#userHeld = 0;
    this.#window = 0;
    this.#steer();
  }

  #fail(error: Error): void {
    for (let w = this.#waiters.shift(); w; w = this.#waiters.shift()) {
      if (!w.done) {
        w.done = true;
        this.#waiting--;
        w.reject(error);
      }
    }
  }

  /** Hands buffered items to waiting gets, in order. */
  #serve(): void {
    while (this.#buffer.length > 0) {
      const waiter = this.#waiters.shift();
      if (waiter === undefined) return;
      if (waiter.done) continue;
      waiter.done = true;
      this.#waiting--;
      waiter.resolve(this.#hand(this.#buffer.shift()!, waiter.manual));
    }
  }

  /** An item given to the caller: acknowledged at once, or held until its receipt says. */
  #hand(item: Item, manual: boolean): unknown {
    if (!manual) {
      this.#link.ack(item.epoch, item.id, false);
      return item.value;
    }
    this.#userHeld++;
    return new Receipt<T>(item, this.#settle);
  }

  /** A receipt's first ack or nack; void for an item of an earlier connection (it went back with it). */
  readonly #settle = (item: Item, requeue: boolean): void => {
    if (item.epoch !== this.#link.epoch) return;
    this.#userHeld--;
    this.#link.ack(item.epoch, item.id, requeue);
    this.#steer();
  };

  /**
   * Keeps the pool's window for this queue at what is wanted: `prefetch` while a loop
   * runs, else one per waiting get, plus the items the caller holds unacknowledged. With
   * nothing wanted, the window closes and what was buffered goes back. Said once per turn.
   */
  #steer(): void {
    if (this.#steerSoon) return;
    this.#steerSoon = true;
    atTurnEnd(() => {
      this.#steerSoon = false;
      const wanted = this.#closed ? 0 : Math.max(this.#loops > 0 ? this.#prefetch : 0, this.#waiting + this.#userHeld);
      const window = Math.min(wanted, this.#link.maxWindow);
      if (this.#link.connected && window !== this.#window) {
        this.#window = window;
        this.#link.window(this.name, window);
      }
      if (wanted === 0 && this.#buffer.length > 0) this.#giveBack();
    });
  }

  #giveBack(): void {
    const items = this.#buffer.clear();
    const epoch = this.#link.epoch;
    const ids = items.filter((item) => item.epoch === epoch).map((item) => item.id);
    if (ids.length > 0) this.#link.ack(epoch, ids, true);
  }
}

/** An item taken with ack: 'manual'; the first of ack() and nack() counts. */
class Receipt<T> implements Received<T> {
  readonly #item: Item;
  #settle: ((item: Item, requeue: boolean) => void) | undefined;

  constructor(item: Item, settle: (item: Item, requeue: boolean) => void) {
    this.#item = item;
    this.#settle = settle;
  }

  get value(): T {
    return this.#item.value as T;
  }

  ack(): void {
    this.#done(false);
  }

  nack(): void {
    this.#done(true);
  }

  #done(requeue: boolean): void {
    const settle = this.#settle;
    this.#settle = undefined;
    settle?.(this.#item, requeue);
  }
}
