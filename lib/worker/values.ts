/**
 * How batches and results cross a thread or process boundary. Values keep structured-clone
 * semantics everywhere (a Buffer stays a Buffer, a Map a Map, a Date a Date), which is what
 * `node:v8` serialization gives. But most tasks take and return plain strings, numbers and
 * booleans, which JSON (Node's fast IPC mode) and structured clone carry exactly as v8 does,
 * at a fraction of the cost: so a batch whose values are all such plain primitives travels
 * as it is, and any other batch as v8 bytes.
 */
import { deserialize, serialize } from 'node:v8';
import { OK, type Batch, type Results } from './protocol.js';

/** Carried the same by JSON, structured clone and v8: not undefined, NaN, ±Infinity or -0. */
function isPlain(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && (value !== 0 || 1 / value > 0);
    case 'object':
      return value === null;
    default:
      return false;
  }
}

/** Every argument of every task is a plain primitive (ids and names always are). */
export function isPlainBatch(batch: Batch): boolean {
  for (let i = 2; i < batch.length; i += 3) {
    const args = batch[i] as unknown[];
    for (let j = 0; j < args.length; j++) if (!isPlain(args[j])) return false;
  }
  return true;
}

/** Every task succeeded with a plain primitive. */
export function isPlainResults(results: Results): boolean {
  for (let i = 1; i < results.length; i += 3) {
    if (results[i] !== OK || !isPlain(results[i + 1])) return false;
  }
  return true;
}

/**
 * `node:v8` bytes of a value; a value v8 cannot carry (a function, a symbol) throws a
 * DataCloneError, as structured clone does, rather than v8's plain Error.
 */
export function encode(value: unknown): Buffer {
  try {
    return serialize(value);
  } catch (error) {
    throw new DOMException((error as Error).message, 'DataCloneError');
  }
}

/** v8 bytes as a string, for a channel that carries JSON. */
export function toBase64(value: unknown): string {
  return encode(value).toString('base64');
}

export function fromBase64(text: string): unknown {
  return deserialize(Buffer.from(text, 'base64'));
}
