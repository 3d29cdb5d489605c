import { checkWaitOptions, MANUAL_ONLY } from './options.js';
import { iterate } from './iterate.js';
import { EMPTY, type Consumer, type Held, type QueueCore } from './core.js';
import type { QueueGetOptions, QueueHandle, QueuePutOptions, Received } from './types.js';
import { watchWait } from './wait.js';

/** One settled promise for every put that lands at once. */
const LANDED = Promise.resolve();

/** `pool.queue(name)`: the owner's own handle on a queue, in the pool's process. */
export class LocalQueue<T> implements QueueHandle<T> {
  readonly #core: QueueCore<T>;

  constructor(core: QueueCore<T>) {
    this.#core = core;
  }

  get name(): string {
    return this.#core.name;
  }

  get capacity(): number {
    return this.#core.capacity;
  }

  /** Resolves once the item is in the queue; waits while the queue is full. */
  put(item: T, options?: QueuePutOptions): Promise<void> {
    let wait;
    try {
      wait = checkWaitOptions('put', options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#core.offer(item)) return LANDED;
    return new Promise<void>((resolve, reject) => {
      let stop = () => {};
      const pending = this.#core.put(item, (error) => {
        stop();
        if (error) reject(error);
        else resolve();
      });
      if (pending) stop = watchWait(`put() on queue "${this.name}"`, wait, (error) => this.#core.cancel(pending, error));
    });
  }

  get(options?: QueueGetOptions & { ack?: 'auto' }): Promise<T>;
  get(options: QueueGetOptions & { ack: 'manual' }): Promise<Received<T>>;
  get(options?: QueueGetOptions): Promise<T | Received<T>> {
    let wait;
    try {
      wait = checkWaitOptions('get', options);
    } catch (error) {
      return Promise.reject(error);
    }
    const core = this.#core;
    if (!wait.manual) {
      const value = core.shiftNow();
      if (value !== EMPTY) return Promise.resolve(value);
    } else {
      const held = core.takeNow();
      if (held) return Promise.resolve(receipt(core, held));
    }
    return new Promise<T | Received<T>>((resolve, reject) => {
      let settled = false;
      const consumer: Consumer<T> = {
        get credit() {
          return settled ? 0 : 1;
        },
        take([held]) {
          settled = true;
          stop();
          core.removeConsumer(consumer);
          if (!wait.manual) {
            core.ack();
            resolve(held.value);
          } else resolve(receipt(core, held));
        },
        end(error) {
          settled = true;
          stop();
          reject(error);
        },
      };
      const stop = watchWait(`get() on queue "${this.name}"`, wait, (error) => {
        if (settled) return;
        settled = true;
        core.removeConsumer(consumer);
        reject(error);
      });
      core.addConsumer(consumer);
    });
  }

  /** Items queued now (not counting those handed out and not yet acknowledged). */
  size(): number {
    return this.#core.size;
  }

  /** No more puts (waiting ones reject with ERR_TROUPE_QUEUE_CLOSED); consumers' loops end once it is drained. */
  close(): void {
    this.#core.close();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return iterate(() => this.get(MANUAL_ONLY as QueueGetOptions & { ack: 'manual' }));
  }
}

/** The ack/nack pair of an item held by a local consumer: the first call counts. */
function receipt<T>(core: QueueCore<T>, held: Held<T>): Received<T> {
  let open = true;
  return {
    value: held.value,
    ack() {
      if (open) core.ack();
      open = false;
    },
    nack() {
      if (open) core.requeue([held]);
      open = false;
    },
  };
}
