/**
 * The checks every parser of a message from a worker or a peer is made of. A value from a
 * peer can be anything v8 deserializes: a sparse array of length 2^32-1 is a few bytes on
 * the wire, so arrays are checked for length before anything walks them.
 */
import { ProtocolError } from '../errors.js';

/** Names of tasks are short, and a peer announces a bounded number of them. */
export const MAX_NAME_LENGTH = 1_024;
export const MAX_NAMES = 10_000;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function atMost(length: number, max: number, what: string): void {
  if (length > max) throw new ProtocolError(`${what} has ${length} elements; at most ${max} are accepted`);
}

/** A dense array of at most `max` elements. */
export function denseArray(value: unknown, max: number, what: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new ProtocolError(`${what} must be an array`);
  atMost(value.length, max, what);
  for (let i = 0; i < value.length; i++) if (!(i in value)) throw new ProtocolError(`${what} is sparse`);
  return value;
}

/** A dense array, or numbers packed in a Float64Array (packed.ts), of at most `max` elements. */
export function valueList(value: unknown, max: number, what: string): ArrayLike<unknown> {
  if (!(value instanceof Float64Array)) return denseArray(value, max, what);
  atMost(value.length, max, what);
  return value;
}

export function wireId(value: unknown, what: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new ProtocolError(`${what} must be an integer >= 0`);
  return value as number;
}

/** Indexes into `count` things, each once and in ascending order. */
export function ascendingIndexes(value: unknown, count: number, what: string): number[] {
  const indexes = denseArray(value, count, what);
  let previous = -1;
  for (const index of indexes) {
    if (!Number.isInteger(index) || (index as number) <= previous || (index as number) >= count) {
      throw new ProtocolError(`${what} must list indexes below ${count}, ascending`);
    }
    previous = index as number;
  }
  return indexes as number[];
}

/** A dense array of at most `max` wire ids. */
export function wireIds(value: unknown, max: number, what: string): number[] {
  return denseArray(value, max, what).map((id) => wireId(id, `${what}[]`));
}

export function taskName(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_NAME_LENGTH) throw new ProtocolError('a task name must be a short string');
  return value;
}

/** The task names a worker or an agent announces. */
export function taskNames(value: unknown, what: string): string[] {
  return denseArray(value, MAX_NAMES, what).map(taskName);
}
