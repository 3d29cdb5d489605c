import { QueueClosedError } from '../errors.js';
import type { Received } from './types.js';

/**
 * `for await` over a queue: each item is acknowledged when the loop body finishes and
 * comes back for the next one; leaving the loop (break, return, throw) gives the current
 * item back. The loop ends once the queue is closed and drained.
 */
export function iterate<T>(take: () => Promise<Received<T>>, finished: () => void = () => {}): AsyncIterableIterator<T> {
  let current: Received<T> | undefined;
  let done = false;
  const finish = (): IteratorReturnResult<undefined> => {
    if (!done) {
      done = true;
      finished();
    }
    current?.nack();
    current = undefined;
    return { done: true, value: undefined };
  };
  return {
    async next(): Promise<IteratorResult<T, undefined>> {
      current?.ack();
      current = undefined;
      if (done) return { done: true, value: undefined };
      try {
        current = await take();
      } catch (error) {
        finish();
        if (error instanceof QueueClosedError) return { done: true, value: undefined };
        throw error;
      }
      // return() may have run while waiting.
      if (done) return finish();
      return { done: false, value: current.value };
    },
    async return(): Promise<IteratorReturnResult<undefined>> {
      return finish();
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
