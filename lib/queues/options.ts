import { InvalidArgumentError, InvalidOptionError } from '../errors.js';
import { describe, milliseconds } from '../options.js';
import type { QueueGetOptions, QueuePutOptions } from './types.js';

/** Default `capacity` of a queue: bounded, so that no queue grows without end. */
export const DEFAULT_CAPACITY = 1_000;
export const MAX_CAPACITY = 10_000_000;

export interface WaitOptions {
  readonly signal: AbortSignal | undefined;
  /** ms, Infinity for none. */
  readonly timeout: number;
  readonly manual: boolean;
}

/** No signal, no timeout, acknowledged at once: what most calls use, made once. */
export const NO_WAIT_LIMIT: WaitOptions = Object.freeze({ signal: undefined, timeout: Infinity, manual: false });
const MANUAL_NO_WAIT_LIMIT: WaitOptions = Object.freeze({ signal: undefined, timeout: Infinity, manual: true });
/** `{ ack: 'manual' }` as loops pass it, checked once. */
export const MANUAL_ONLY: QueueGetOptions = Object.freeze({ ack: 'manual' });

/** Checks the options of `put()` / `get()`; throws InvalidArgumentError naming the method and option. */
export function checkWaitOptions(method: 'put' | 'get', options: QueuePutOptions | QueueGetOptions | undefined): WaitOptions {
  if (options === undefined) return NO_WAIT_LIMIT;
  if (options === MANUAL_ONLY) return MANUAL_NO_WAIT_LIMIT;
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(`${method}(): options must be an object; got ${describe(options)}`);
  }
  const { signal, timeout } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`${method}(): options.signal must be an AbortSignal; got ${describe(signal)}`);
  }
  const ack = (options as QueueGetOptions).ack;
  if (method === 'get' && ack !== undefined && ack !== 'auto' && ack !== 'manual') {
    throw new InvalidArgumentError(`get(): options.ack must be "auto" or "manual"; got ${describe(ack)}`);
  }
  let ms: number;
  try {
    ms = milliseconds('timeout', timeout, Infinity);
  } catch (error) {
    throw new InvalidArgumentError(`${method}(): ${(error as Error).message}`);
  }
  return { signal, timeout: ms, manual: ack === 'manual' };
}

export function checkQueueName(name: unknown, maxLength: number): string {
  if (typeof name !== 'string' || name === '' || name.length > maxLength) {
    throw new InvalidArgumentError(`queue(): name must be a non-empty string of at most ${maxLength} characters; got ${describe(name)}`);
  }
  return name;
}

export function checkCapacity(options: unknown): number {
  if (options === undefined) return DEFAULT_CAPACITY;
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(`queue(): options must be an object; got ${describe(options)}`);
  }
  const capacity = (options as { capacity?: unknown }).capacity;
  if (capacity === undefined) return DEFAULT_CAPACITY;
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
    throw new InvalidOptionError(`option "capacity" must be an integer from 1 to ${MAX_CAPACITY}; got ${describe(capacity)}`);
  }
  return capacity;
}
