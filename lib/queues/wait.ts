import { AbortError, TimeoutError } from '../errors.js';
import { atTurnEnd, setDelay } from '../timers.js';
import type { WaitOptions } from './options.js';

/**
 * Watches a wait's signal and timeout: `giveUp` is called once with the error the wait
 * should end with; `done()` stops watching. One rule for every wait on a queue.
 */
export function watchWait(what: string, options: WaitOptions, giveUp: (error: Error) => void): () => void {
  const { signal, timeout } = options;
  if (signal === undefined && timeout === Infinity) return nothing;
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    done();
    giveUp(new AbortError(signal?.reason, `${what} was aborted`));
  };
  const done = () => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };
  if (signal?.aborted) {
    atTurnEnd(onAbort);
    return done;
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  timer = setDelay(() => {
    done();
    giveUp(new TimeoutError(timeout, `${what} did not finish within ${timeout} ms`));
  }, timeout);
  return done;
}

const nothing = () => {};
