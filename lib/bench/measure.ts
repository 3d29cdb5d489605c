/**
 * One timed round: keeps `inFlight` tasks outstanding until `ms` have passed, then waits
 * for the last ones. Latency is submit → result of each task, so with several in flight
 * it includes the wait in the queue.
 */
import { createHistogram } from 'node:perf_hooks';
import { sampleTree } from './proc-stats.js';

export interface RoundFigures {
  tasks: number;
  seconds: number;
  tasksPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU of this process and all its descendants during the round, per task. */
  cpuMsPerTask: number;
  /** Resident memory of this process and its descendants, after the round minus before. */
  rssGrowthBytes: number;
}

/** A task's own failure, kept apart from the harness's errors so it can be shown as it is. */
export class TaskFailure extends Error {
  /** Which mode and size it failed in, once the runner knows. */
  where = '';

  constructor(readonly error: unknown) {
    super('the task failed');
  }
}

export function timedRound(submit: () => Promise<unknown>, inFlight: number, ms: number): Promise<RoundFigures> {
  const before = sampleTree();
  const latency = createHistogram();
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const deadline = start + ms;
    let outstanding = 0;
    let done = 0;
    let failed = false;
    const finish = () => {
      const seconds = (performance.now() - start) / 1000;
      const after = sampleTree();
      resolve({
        tasks: done,
        seconds,
        tasksPerSecond: done / seconds,
        p50Ms: latency.percentile(50) / 1e6,
        p99Ms: latency.percentile(99) / 1e6,
        cpuMsPerTask: done > 0 ? (after.cpuMs - before.cpuMs) / done : NaN,
        rssGrowthBytes: after.rssBytes - before.rssBytes,
      });
    };
    const launch = (): void => {
      outstanding++;
      const sent = performance.now();
      submit().then(
        () => {
          outstanding--;
          if (failed) return;
          done++;
          const now = performance.now();
          latency.record(Math.max(1, Math.round((now - sent) * 1e6)));
          if (now < deadline) launch();
          else if (outstanding === 0) finish();
        },
        (error: unknown) => {
          outstanding--;
          if (!failed) reject(new TaskFailure(error));
          failed = true;
        },
      );
    };
    for (let k = 0; k < inFlight; k++) launch();
  });
}
