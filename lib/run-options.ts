import { InvalidArgumentError } from './errors.js';
import { describe, milliseconds } from './options.js';
import type { RunOptions } from './scheduler/types.js';

const KNOWN = new Set(['signal', 'timeout', 'transfer', 'onProgress']);

/**
 * Why `item` cannot be in a transfer list, for the mistakes that are plain to see: what is not
 * an object, a view of memory rather than its ArrayBuffer, and memory that is shared anyway.
 * Other objects (ports, streams, file handles) are judged by postMessage itself.
 */
function untransferable(item: unknown): string | undefined {
  if (item === null || typeof item !== 'object') return 'must be a transferable object (an ArrayBuffer, a MessagePort, a stream)';
  if (ArrayBuffer.isView(item)) return "must be an ArrayBuffer, not a view of one: give the view's .buffer";
  if (item instanceof SharedArrayBuffer) return 'is a SharedArrayBuffer, which is shared, not moved: leave it out';
  return undefined;
}

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
    const why = untransferable(item);
    if (why !== undefined) throw new InvalidArgumentError(`run(): options.transfer[${i}] ${why}; got ${describe(item)}`);
  });
  if (timeout === undefined) return options;
  try {
    return { ...options, timeout: milliseconds('timeout', timeout, Infinity) };
  } catch (error) {
    throw new InvalidArgumentError(`run(): ${(error as Error).message}`);
  }
}
