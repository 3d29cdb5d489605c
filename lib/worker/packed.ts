/**
 * A map chunk's items, or its values, travel as one Float64Array when they are all numbers.
 * Every medium (a thread's structured clone, a process's v8 IPC, an agent's v8 frames)
 * copies a typed array's bytes in one go, where it writes and reads an array of numbers
 * element by element: 1,000 numbers cross a thread's port about 5× faster packed. A Float64
 * holds every JS number exactly (-0 and NaN included), so a task sees the same values.
 * Receivers accept either form (`valueList` in parse.ts).
 */

/** Shorter lists go as arrays: packing them saves less than checking them costs. */
export const MIN_PACKED = 16;

/** `values` as a Float64Array if they are all numbers (and enough of them), else as they are. */
export function packNumbers(values: readonly unknown[]): ArrayLike<unknown> {
  if (values.length < MIN_PACKED) return values;
  for (let i = 0; i < values.length; i++) if (typeof values[i] !== 'number') return values;
  return new Float64Array(values as number[]);
}
