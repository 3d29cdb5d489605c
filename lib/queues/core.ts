import { QueueClosedError } from '../errors.js';
import { Deque } from '../scheduler/deque.js';

/** An item handed to a consumer: it stays the queue's until acknowledged or given back. */
/** What `shiftNow()` returns when nothing is queued (`undefined` is a valid item). */
export const EMPTY: unique symbol = Symbol('empty');

export class Held<T> {
  /** Who holds it, for whoever handed it out (a client's subscription). */
  holder: object | undefined = undefined;

  constructor(readonly value: T) {}
}

/** Whoever takes items: a local `get()`, or a client connection's subscription. */
export interface Consumer<T> {
  /** How many more items it takes now. */
  readonly credit: number;
  take(items: Held<T>[]): void;
  /** No item will come any more: the queue is closed and drained. */
  end(error: Error): void;
}

/** A put waiting for room. */
export interface PendingPut<T> {
  readonly value: T;
  /** Called once: landed (no error), or refused. */
  readonly settle: (error?: Error) => void;
  done: boolean;
}

/**
 * One named queue as its owner keeps it: queued items, puts waiting for room, consumers
 * served round-robin, and the items handed out but not yet acknowledged (held), which go
 * back to the front when given back. Knows nothing of connections.
 */
export class QueueCore<T = unknown> {
  readonly #items = new Deque<T>();
  readonly #puts = new Deque<PendingPut<T>>();
  #consumers: Consumer<T>[] = [];
  #next = 0;
  #held = 0;
  #closed = false;
  #ended = false;

  constructor(
    readonly name: string,
    readonly capacity: number,
  ) {}

  /** Items queued, not counting those handed out and not yet acknowledged. */
  get size(): number {
    return this.#items.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closed, and every item taken and acknowledged. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Lands `value` now if there is room and no put waits before it; false otherwise (nothing happened). */
  offer(value: T): boolean {
    if (this.#closed || this.#puts.length > 0 || this.#items.length >= this.capacity) return false;
    this.#items.push(value);
    this.#pump();
    return true;
  }

  /** Lands `value` now if there is room, else waits; returns the waiting put (to cancel), or undefined once landed. */
  put(value: T, settle: (error?: Error) => void): PendingPut<T> | undefined {
    if (this.#closed) {
      settle(new QueueClosedError(this.name));
      return undefined;
    }
    const pending: PendingPut<T> = { value, settle, done: false };
    this.#puts.push(pending);
    this.#pump();
    return pending.done ? undefined : pending;
  }

  /** Withdraws a put still waiting, refusing it with `error`; false if it had landed already. */
  cancel(pending: PendingPut<T>, error: Error): boolean {
    if (pending.done) return false;
    pending.done = true;
    pending.settle(error);
    return true;
  }

  /**
   * The front item at once, held like a delivered one, if one is queued: then no consumer
   * is waiting (it would have had it), so nobody is passed over.
   */
  takeNow(): Held<T> | undefined {
    if (this.#items.length === 0) return undefined;
    const held = new Held(this.#items.shift() as T);
    this.#held++;
    this.#pump();
    return held;
  }

  /** The front item at once, taken for good (as a get that acknowledges at once), or EMPTY. */
  shiftNow(): T | typeof EMPTY {
    if (this.#items.length === 0) return EMPTY;
    const value = this.#items.shift() as T;
    this.#pump();
    return value;
  }

  addConsumer(consumer: Consumer<T>): void {
    if (this.#ended) return consumer.end(new QueueClosedError(this.name));
    this.#consumers.push(consumer);
    this.#pump();
  }

  removeConsumer(consumer: Consumer<T>): void {
    const i = this.#consumers.indexOf(consumer);
    if (i < 0) return;
    this.#consumers.splice(i, 1);
    if (this.#next > i) this.#next--;
  }

  /** A consumer has more credit: serve it. */
  wake(): void {
    this.#pump();
  }

  ack(count = 1): void {
    this.#held -= count;
    this.#checkEnded();
  }

  /** Items handed out and given back (in the order they were handed out): they go first again. */
  requeue(items: readonly Held<T>[]): void {
    for (let i = items.length - 1; i >= 0; i--) this.#items.unshift(items[i].value);
    this.#held -= items.length;
    this.#pump();
  }

  /** No more puts (waiting ones are refused); consumers go on until it is drained. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const pending of this.#puts.clear()) this.cancel(pending, new QueueClosedError(this.name));
    this.#checkEnded();
  }

  #admitPuts(): void {
    while (this.#items.length < this.capacity) {
      const pending = this.#puts.shift();
      if (pending === undefined) return;
      if (pending.done) continue;
      pending.done = true;
      this.#items.push(pending.value);
      pending.settle();
    }
  }

  #pumping = false;

  /** Hands queued items to consumers with credit, one each in turn, in one batch per consumer. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (;;) {
        this.#admitPuts();
        if (this.#items.length === 0 || !this.#serveRound()) break;
      }
    } finally {
      this.#pumping = false;
    }
    this.#checkEnded();
  }

  /**
   * One pass over the consumers, from where the last one left off: each with credit takes
   * an even share of what is queued (at least one item), as one batch. False when none took any.
   */
  #serveRound(): boolean {
    const consumers = this.#consumers;
    const count = consumers.length;
    let served = false;
    for (let k = 0; k < count && this.#items.length > 0 && consumers.length > 0; k++) {
      if (this.#next >= consumers.length) this.#next = 0;
      const consumer = consumers[this.#next++];
      const share = Math.min(consumer.credit, Math.max(1, Math.ceil(this.#items.length / count)));
      if (share <= 0) continue;
      const batch: Held<T>[] = new Array(share);
      for (let i = 0; i < share; i++) batch[i] = new Held(this.#items.shift() as T);
      this.#held += share;
      served = true;
      consumer.take(batch);
    }
    return served;
  }

  #checkEnded(): void {
    if (this.#ended || !this.#closed || this.#items.length > 0 || this.#held > 0) return;
    this.#ended = true;
    const consumers = this.#consumers;
    this.#consumers = [];
    for (const consumer of consumers) consumer.end(new QueueClosedError(this.name));
  }
}
