/**
 * Values a task asked to move back to the caller instead of copying (worker threads only).
 * The registry lives on globalThis: the task module may import `troupe/worker` from the
 * built package while the runtime runs from another copy, and both must see one registry.
 */
const KEY = Symbol.for('troupe.worker.moved');

interface Registry {
  readonly values: WeakSet<object>;
  /** Values registered since the last take: 0 keeps the common case off this path. */
  pending: number;
}

function registry(): Registry {
  const global = globalThis as { [KEY]?: Registry };
  return (global[KEY] ??= { values: new WeakSet(), pending: 0 });
}

/** The memory a value owns whole, which can be moved; undefined for a view of a shared pool. */
function ownBuffer(value: unknown): ArrayBuffer | undefined {
  if (value instanceof ArrayBuffer) return value;
  if (ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer) {
    // A small Buffer is a view of a pool that other Buffers share: moving it would empty theirs.
    if (value.byteOffset === 0 && value.byteLength === value.buffer.byteLength) return value.buffer;
  }
  return undefined;
}

export function markMoved<T>(value: T): T {
  if (ownBuffer(value) !== undefined) {
    const r = registry();
    r.values.add(value as object);
    r.pending++;
  }
  return value;
}

/** The buffers to transfer for these values, if any were marked. */
export function takeMoved(values: ArrayLike<unknown>): ArrayBuffer[] | undefined {
  const r = registry();
  if (r.pending === 0) return undefined;
  r.pending = 0;
  let out: ArrayBuffer[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === null || typeof value !== 'object' || !r.values.has(value)) continue;
    r.values.delete(value);
    const buffer = ownBuffer(value);
    if (buffer !== undefined && !out?.includes(buffer)) (out ??= []).push(buffer);
  }
  return out;
}
