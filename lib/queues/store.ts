import { InvalidArgumentError, QueueLimitError } from '../errors.js';
import { QueueCore } from './core.js';
import { LocalQueue } from './local-queue.js';
import { checkCapacity, checkQueueName } from './options.js';
import { MAX_QUEUE_NAME } from './protocol.js';

/** The queues a pool owns, by name. Only the owner creates them; clients find them by name. */
export class QueueStore {
  readonly #queues = new Map<string, { core: QueueCore<unknown>; handle: LocalQueue<unknown> }>();

  constructor(readonly maxQueues: number) {}

  /** The queue `name`, made on first use with `options.capacity`. */
  queue<T>(name: unknown, options?: unknown): LocalQueue<T> {
    const checked = checkQueueName(name, MAX_QUEUE_NAME);
    const capacity = checkCapacity(options);
    const known = this.#queues.get(checked);
    if (known) {
      const given = (options as { capacity?: number } | undefined)?.capacity;
      if (given !== undefined && given !== known.core.capacity) {
        throw new InvalidArgumentError(`queue(): "${checked}" exists with capacity ${known.core.capacity}, not ${given}`);
      }
      return known.handle as LocalQueue<T>;
    }
    if (this.#queues.size >= this.maxQueues) throw new QueueLimitError(this.maxQueues);
    const core = new QueueCore<unknown>(checked, capacity);
    const handle = new LocalQueue(core);
    this.#queues.set(checked, { core, handle });
    return handle as LocalQueue<T>;
  }

  /** The owner's handle on the queue code on a worker names, or undefined: a worker never creates one. */
  handle(name: string): LocalQueue<unknown> | undefined {
    return this.#queues.get(name)?.handle;
  }

  /** The queue a client names, or undefined: a client never creates one. */
  find(name: string): QueueCore<unknown> | undefined {
    return this.#queues.get(name)?.core;
  }

  closeAll(): void {
    for (const { core } of this.#queues.values()) core.close();
  }
}
