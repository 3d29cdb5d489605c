// The module piscina loads in each worker thread: one call runs one batch.
import { workerData } from 'node:worker_threads';
import { loadTasks, runBatch } from './runtime.js';
import type { Batch, Results } from './protocol.js';

const tasks = await loadTasks((workerData as { tasks: string }).tasks);

export interface BatchReply {
  r: Results;
  busy: number;
}

/**
 * `null` asks for the exported task names (once per thread, at start). A result that
 * cannot be cloned fails the whole reply; the backend then runs that batch's tasks one
 * by one, which is cheaper than checking every reply up front.
 */
export default function handle(batch: Batch | null): BatchReply | string[] | Promise<BatchReply> {
  if (batch === null) return [...tasks.keys()];
  const results: Results = [];
  const started = performance.now();
  let resolveAll: (() => void) | undefined;
  let pending = runBatch(tasks, batch, results, (id, status, value) => {
    results.push(id, status, value);
    if (--pending === 0) resolveAll?.();
  });
  const busy = performance.now() - started;
  if (pending === 0) return { r: results, busy };
  return new Promise<void>((resolve) => (resolveAll = resolve)).then(() => ({ r: results, busy }));
}
