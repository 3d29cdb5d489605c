/**
 * The loss policy: what becomes of each task a worker lost (it died, was stopped, or
 * asked for a task to run alone). Nothing here touches slots, queues or promises: the
 * scheduler frees what the tasks held and acts on the fates.
 */
import { isResourceLimit, WorkerLostError } from '../errors.js';
import type { LostReason } from '../backends/types.js';
import type { Stamp, Task } from './task.js';

/** Runs again as it is; runs again and counts as a retry; or settles with this error. */
export type Fate = 'again' | 'retry' | Error;

/**
 * Why each of `lost` was lost. A worker with one thread of execution (`sequential`) runs its
 * batches in the order sent: when it died, those behind the batch it was running never
 * started, and go again as if it had been stopped.
 */
export function lossReasons(lost: readonly Task[], reason: LostReason, sequential: boolean): LostReason[] {
  const running = reason === 'died' && sequential ? runningBatch(lost) : undefined;
  return lost.map((task) => (running !== undefined && !task.async && task.dispatched !== running ? 'stopped' : reason));
}

/**
 * The batch a dead worker was running: the oldest among `lost` (the tasks of one batch
 * share their dispatch stamp). Tasks that began and awaited are charged too, whatever their
 * batch; when only such tasks are left, there is none.
 */
function runningBatch(lost: readonly Task[]): Stamp | undefined {
  let oldest: Stamp | undefined;
  for (const task of lost) {
    if (task.async) continue;
    if (oldest === undefined || task.dispatched.at < oldest.at) oldest = task.dispatched;
  }
  return oldest;
}

/**
 * The fate of each lost task, given why it was lost (`lossReasons`), what the worker died
 * of, and how many retries a task has. Marks the tasks that must run alone from now on and
 * counts their attempts.
 */
export function fates(lost: readonly Task[], whys: readonly LostReason[], error: Error, retries: number): Fate[] {
  // A worker that hit its resource limits: the one task it may have been running fails, for
  // it would hit them again; with several, each runs again alone, at no charge.
  const overLimit = isResourceLimit(error) && whys.includes('died');
  const suspects = overLimit ? whys.filter((why) => why === 'died').length : 0;
  return lost.map((task, i): Fate => {
    const why = whys[i];
    if (why === 'stopped') return 'again';
    if (why === 'isolate' && task.solo) return error;
    if (overLimit) {
      if (suspects === 1) return error;
      task.isolate(true);
      return 'again';
    }
    if (why === 'died' && ++task.attempts > retries) return new WorkerLostError(task.attempts, error);
    // Whatever killed the batch may be one of its tasks: from now on each runs alone.
    task.isolate(why === 'died');
    return why === 'died' ? 'retry' : 'again';
  });
}
