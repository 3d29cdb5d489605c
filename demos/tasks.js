// The tasks of the origin's scenario. Every export is a task a worker can run by name.
import { threadId } from 'node:worker_threads';

export function square(n) {
  return n * n;
}

/** Says where it ran, so the demo can show which node did the work. */
export function squareWhere(n) {
  return { result: n * n, pid: process.pid, ppid: process.ppid, threadId };
}
