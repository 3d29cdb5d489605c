// The module piscina loads in each worker thread: one call runs one batch.
import { deserialize, serialize } from 'node:v8';
import { workerData } from 'node:worker_threads';
import { cloneableResults, loadTasks, runBatch } from './runtime.js';
import type { Batch, Results } from './protocol.js';
import { isPlainResults } from './values.js';

const tasks = await loadTasks((workerData as { tasks: string }).tasks);

export interface BatchReply {
  /** Plain results as they are, any others as v8 bytes: see encodeResults. */
  r: Results | Uint8Array;
  busy: number;
}

/**
 * A batch of plain values comes as an array, any other as `node:v8` bytes (values.ts), so
 * a Buffer stays a Buffer on threads too. A batch sent with a transfer list also comes as
 * an array: structured clone moves the transferred buffers. `null` asks for the task names.
 */
export default function handle(message: Uint8Array | Batch | null): BatchReply | string[] | Promise<BatchReply> {
  if (message === null) return [...tasks.keys()];
  const batch = (Array.isArray(message) ? message : deserialize(message)) as Batch;
  const results: Results = [];
  const started = performance.now();
  let resolveAll: (() => void) | undefined;
  let pending = runBatch(tasks, batch, results, (id, status, value) => {
    results.push(id, status, value);
    if (--pending === 0) resolveAll?.();
  });
  const busy = performance.now() - started;
  if (pending === 0) return { r: encodeResults(results), busy };
  return new Promise<void>((resolve) => (resolveAll = resolve)).then(() => ({ r: encodeResults(results), busy }));
}

/** A result that does not clone fails its own task here instead of the thread's whole reply. */
function encodeResults(results: Results): Results | Uint8Array {
  if (isPlainResults(results)) return results;
  try {
    return serialize(results);
  } catch {
    return serialize(cloneableResults(results));
  }
}
