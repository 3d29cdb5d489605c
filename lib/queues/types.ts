export interface QueuePutOptions {
  /** Gives up a put still waiting for room: it rejects with ERR_TROUPE_ABORTED and never lands. */
  signal?: AbortSignal;
  /** ms to wait for room; then it rejects with ERR_TROUPE_TIMEOUT and never lands. @default Infinity */
  timeout?: number;
}

export interface QueueGetOptions {
  signal?: AbortSignal;
  /** ms to wait for an item; then it rejects with ERR_TROUPE_TIMEOUT. @default Infinity */
  timeout?: number;
  /** 'auto': the item is the caller's once `get()` resolves; 'manual': resolve with `{ value, ack(), nack() }`. @default 'auto' */
  ack?: 'auto' | 'manual';
}

/** An item taken with `ack: 'manual'`: it goes back to the front of the queue unless acknowledged. */
export interface Received<T> {
  readonly value: T;
  /** Done with it: it leaves the queue for good. */
  ack(): void;
  /** Gives it back, to the front of the queue, for any consumer. */
  nack(): void;
}

export interface QueueOptions {
  /** Most items queued; `put()` waits while it is full. @default 1000 */
  capacity?: number;
}

/** What the owner's queue (`pool.queue()`) and a client's (`hub.queue()`) have in common. */
export interface QueueHandle<T> extends AsyncIterable<T> {
  readonly name: string;
  put(item: T, options?: QueuePutOptions): Promise<void>;
  get(options?: QueueGetOptions & { ack?: 'auto' }): Promise<T>;
  get(options: QueueGetOptions & { ack: 'manual' }): Promise<Received<T>>;
  size(): number | Promise<number>;
  close(): void;
  [Symbol.asyncIterator](): AsyncIterableIterator<T>;
}
