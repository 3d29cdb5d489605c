/** pool.map()'s options, checked, with their defaults; and the value a failed item yields. */
import { InvalidArgumentError } from './errors.js';
import { describe, milliseconds } from './options.js';
import { MAX_ENTRIES } from './worker/batch.js';

const KNOWN = new Set(['ordered', 'chunkSize', 'concurrency', 'signal', 'timeout', 'errors']);

export interface MapOptions {
  /** Yield results in input order (`imap`), or as they settle (`imap_unordered`). @default true */
  ordered?: boolean;
  /**
   * Items sent to a worker as one task (Python's `chunksize`). By default chunks are sized
   * to about 2 ms of work each, from what earlier chunks took: 1 item at first, then up
   * to 4,096 (at most a quarter of `concurrency`).
   */
  chunkSize?: number;
  /** Most items submitted and not yet taken by the loop. @default 16384 */
  concurrency?: number;
  /** Stops the iteration: it throws ERR_TROUPE_ABORTED, and items not yet started never run. */
  signal?: AbortSignal;
  /** Timeout in ms of each chunk (a chunk is one task), as for run(). */
  timeout?: number;
  /**
   * 'throw' (the default, as Python's imap): a failed item throws its error at its place and
   * the rest is dropped. 'yield': failures are yielded as `MapError` values and iteration goes on.
   */
  errors?: 'throw' | 'yield';
}

/** A failed item, yielded in place of its result when `errors: 'yield'`. */
export class MapError {
  constructor(
    readonly index: number,
    readonly error: Error,
  ) {}
}

/** Map options with their defaults filled in; `chunkSize` undefined means sized as chunks come back. */
export interface ResolvedMapOptions {
  ordered: boolean;
  chunkSize: number | undefined;
  concurrency: number;
  errors: 'throw' | 'yield';
  signal: AbortSignal | undefined;
  timeout: number | undefined;
}

function positive(name: string, value: unknown, most = Infinity): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > most) {
    const range = most === Infinity ? 'an integer >= 1' : `an integer from 1 to ${most}`;
    throw new InvalidArgumentError(`map(): options.${name} must be ${range}; got ${describe(value)}`);
  }
  return value as number;
}

export function checkMapOptions(options: MapOptions | undefined): ResolvedMapOptions {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new InvalidArgumentError(`map(): options must be an object; got ${describe(options)}`);
  }
  for (const key of Object.keys(options ?? {})) {
    if (!KNOWN.has(key)) throw new InvalidArgumentError(`map(): unknown option "${key}"`);
  }
  const { ordered = true, signal, timeout, errors = 'throw' } = options ?? {};
  if (typeof ordered !== 'boolean') throw new InvalidArgumentError(`map(): options.ordered must be a boolean; got ${describe(ordered)}`);
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`map(): options.signal must be an AbortSignal; got ${describe(signal)}`);
  }
  if (errors !== 'throw' && errors !== 'yield') {
    throw new InvalidArgumentError(`map(): options.errors must be 'throw' or 'yield'; got ${describe(errors)}`);
  }
  let checkedTimeout: number | undefined;
  try {
    checkedTimeout = timeout === undefined ? undefined : milliseconds('timeout', timeout, Infinity);
  } catch (error) {
    throw new InvalidArgumentError(`map(): ${(error as Error).message}`);
  }
  return {
    ordered,
    // A chunk travels as one entry whose items a worker takes up to MAX_ENTRIES of.
    chunkSize: positive('chunkSize', options?.chunkSize, MAX_ENTRIES),
    concurrency: positive('concurrency', options?.concurrency) ?? 16_384,
    errors,
    signal,
    timeout: checkedTimeout,
  };
}
