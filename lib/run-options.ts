import { InvalidArgumentError } from './errors.js';
import { describe, milliseconds } from './options.js';
import type { RunOptions } from './scheduler/types.js';

const KNOWN = new Set(['signal', 'timeout', 'transfer', 'onProgress']);

/** Checks the options of `run()` (a pool's or a hub's); throws InvalidArgumentError naming the option. */
export function checkRunOptions(options: RunOptions): RunOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(`run(): options must be an object; got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidArgumentError(`run(): unknown option "${key}"`);
  }
  const { signal, timeout, transfer, onProgress } = options;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new InvalidArgumentError(`run(): options.onProgress must be a function; got ${describe(onProgress)}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`run(): options.signal must be an AbortSignal; got ${describe(signal)}`);
  }
  if (transfer !== undefined && !Array.isArray(transfer)) {
    throw new InvalidArgumentError(`run(): options.transfer must be an array; got ${describe(transfer)}`);
  }
  transfer?.forEach((item, i) => {
    if (!(item instanceof ArrayBuffer) && !(item instanceof MessagePort)) {
      throw new InvalidArgumentError(`run(): options.transfer[${i}] must be an ArrayBuffer or a MessagePort; got ${describe(item)}`);
    }
  });
  if (timeout === undefined) return options;
  try {
    return { ...options, timeout: milliseconds('timeout', timeout, Infinity) };
  } catch (error) {
    throw new InvalidArgumentError(`run(): ${(error as Error).message}`);
  }
}
