/**
 * `queue(name)` for code running in a worker: the pool's named queue, reached through the
 * scheduler on the worker's own channel. A loop takes each item held (acknowledged when
 * the loop body finishes and comes back; given back to the front on `break`, a throw, or the
 * worker's death), so items are delivered at least once.
 */
import { callPort } from './actor-ref.js';

const TO_QUEUE = 1;

export interface WorkerQueue<T = unknown> {
  readonly name: string;
  /** Resolves once the item is in the queue; waits while it is full, at most `timeout` ms. */
  put(item: T, options?: { timeout?: number }): Promise<void>;
  /** The front item (acknowledged once it has arrived), waiting at most `timeout` ms. */
  get(options?: { timeout?: number }): Promise<T>;
  size(): Promise<number>;
  [Symbol.asyncIterator](): AsyncIterator<T>;
}

function timeoutOf(options: { timeout?: number } | undefined): number {
  const timeout = options?.timeout ?? Infinity;
  if (typeof timeout !== 'number' || !(timeout > 0)) throw new TypeError('queue: options.timeout must be ms > 0');
  return timeout;
}

function send(name: string, method: string, args: unknown[], timeout = Infinity): Promise<unknown> {
  try {
    return callPort().send(name, method, args, false, timeout, TO_QUEUE);
  } catch (error) {
    return Promise.reject(error);
  }
}

export function queue<T = unknown>(name: string): WorkerQueue<T> {
  if (typeof name !== 'string') throw new TypeError('queue(): name must be a string');
  return {
    name,
    put: (item, options) => send(name, 'put', [item], timeoutOf(options)) as Promise<void>,
    // Taken held, then acknowledged on arrival: an item on its way to a worker that dies goes back.
    get: async (options) => {
      const held = (await send(name, 'take', [], timeoutOf(options))) as { value: T; delivery: number };
      void send(name, 'ack', [held.delivery]).catch(() => {});
      return held.value;
    },
    size: () => send(name, 'size', []) as Promise<number>,
    async *[Symbol.asyncIterator]() {
      for (;;) {
        let held: { value: T; delivery: number };
        try {
          held = (await send(name, 'take', [])) as { value: T; delivery: number };
        } catch (error) {
          // Closed and drained: the loop ends.
          if ((error as { code?: string }).code === 'ERR_TROUPE_QUEUE_CLOSED') return;
          throw error;
        }
        let done = false;
        try {
          yield held.value;
          done = true;
        } finally {
          void send(name, done ? 'ack' : 'nack', [held.delivery]).catch(() => {});
        }
      }
    },
  };
}
