/**
 * How values cross a thread boundary with the semantics of `node:v8` serialization (a
 * Buffer stays a Buffer, a Map a Map), which every other medium has too: worker processes
 * and agents get frames of the v8 codec (transport/codec.ts). A thread's port uses structured
 * clone, which turns a Buffer into a plain Uint8Array; so a message whose values are all
 * plain primitives is posted as it is, and any other as v8 bytes whose memory is moved.
 */
import { deserialize, serialize } from 'node:v8';
import { DataCloneError } from '../errors.js';
import { isPackedNumbers } from './packed.js';

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * Carried alike by structured clone and v8: primitives and packed numbers (packed.ts), and
 * (`depth` levels down) arrays and plain objects of them, such as a map chunk's items and its
 * outcome.
 */
function isPlain(value: unknown, depth: number): boolean {
  const type = typeof value;
  if (type === 'number' || type === 'string' || type === 'boolean' || value === null || value === undefined) return true;
  if (isPackedNumbers(value)) return true;
  if (depth === 0 || type !== 'object') return false;
  if (Array.isArray(value)) return allPlain(value, depth - 1);
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) if (!isPlain((value as Record<string, unknown>)[key], depth - 1)) return false;
  return true;
}

export function allPlain(values: ArrayLike<unknown>, depth = 0): boolean {
  if (isPackedNumbers(values)) return true;
  for (let i = 0; i < values.length; i++) if (!isPlain(values[i], depth)) return false;
  return true;
}

/** `node:v8` bytes of a value; a value v8 cannot carry throws Troupe's DataCloneError. */
export function toBytes(value: unknown): Buffer {
  try {
    return serialize(value);
  } catch (error) {
    throw new DataCloneError((error as Error).message, { cause: error });
  }
}

export function fromBytes(bytes: Uint8Array): unknown {
  return deserialize(bytes);
}

/** Positions of the Buffers among `values`, so that they can be made Buffers again after a structured clone. */
export function bufferPositions(values: ArrayLike<unknown>): number[] | undefined {
  let out: number[] | undefined;
  for (let i = 0; i < values.length; i++) if (Buffer.isBuffer(values[i])) (out ??= []).push(i);
  return out;
}

export function asBuffer(value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;
}
