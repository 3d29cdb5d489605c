/**
 * `troupe/worker`: what task code running inside a worker may import. It stays tiny: it
 * loads neither the scheduler, nor piscina, nor the transport.
 */
import { markMoved } from './moved.js';
import { followTasks, reportProgress } from './progress.js';

followTasks();

export { actor, type WorkerActorRef } from './actor-ref.js';
export { queue, type WorkerQueue } from './queue-ref.js';

/**
 * Returns `value` marked to be moved back to the caller rather than copied, when the task
 * runs in a worker thread: an ArrayBuffer, or a typed array or Buffer that owns its whole
 * buffer (a small pooled Buffer is copied). The value is unusable in the worker afterwards.
 * In process and remote mode it is copied as any other value.
 */
export function move<T>(value: T): T {
  return markMoved(value);
}

/**
 * Reports progress of the task that calls it (also after its awaits) to the caller's
 * `onProgress`, in order. Reports close together are coalesced: the caller gets the latest.
 * `value` is copied as a return value is. Outside a task it throws.
 */
export function progress(value: unknown): void {
  reportProgress(value);
}
