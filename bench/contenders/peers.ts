// The Node.js thread pools Troupe is measured against, each used the way its docs show.
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { Tinypool } from 'tinypool';
import workerpool from 'workerpool';
import { fixture, windowed, type Contender } from '../lib/harness.js';

/** A pool with piscina's shape (`run(task)`, `destroy()`), warmed with a few tasks per thread. */
interface RunPool {
  run(task: number): Promise<unknown>;
  destroy(): Promise<unknown>;
}

function runPoolContender(name: string, detail: string, threads: number, make: () => RunPool): Contender {
  let pool: RunPool | undefined;
  return {
    name,
    detail,
    async setup() {
      pool = make();
      await Promise.all(Array.from({ length: threads * 4 }, (_, i) => pool!.run(i)));
    },
    runThroughput: (n, inFlight) => windowed(n, inFlight, (i) => pool!.run(i)),
    roundTrip: (i) => pool!.run(i),
    async teardown() {
      await pool?.destroy();
    },
  };
}

/** Raw piscina: one task per run(), its defaults otherwise (atomics 'sync'). */
export function piscina(threads = 2): Contender {
  return runPoolContender('piscina', `${threads} threads, one task per run()`, threads, () =>
    new Piscina({
      filename: fixture('piscina-square.js').href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Infinity,
      execArgv: [],
    }),
  );
}

export function tinypool(threads = 2): Contender {
  return runPoolContender('tinypool', `${threads} threads (worker_threads runtime), one task per run()`, threads, () =>
    new Tinypool({
      filename: fixture('tinypool-square.js').href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 2 ** 31 - 1,
      execArgv: [],
    }),
  );
}

export function workerpoolThreads(workers = 2): Contender {
  let pool: workerpool.Pool | undefined;
  return {
    name: 'workerpool',
    detail: `${workers} workers, workerType 'thread', one task per exec()`,
    async setup() {
      pool = workerpool.pool(fileURLToPath(fixture('workerpool-worker.js')), {
        minWorkers: workers,
        maxWorkers: workers,
        workerType: 'thread',
        workerThreadOpts: { execArgv: [] },
      });
      await Promise.all(Array.from({ length: workers * 4 }, (_, i) => pool!.exec('square', [i])));
    },
    runThroughput: (n, inFlight) => windowed(n, inFlight, (i) => pool!.exec('square', [i])),
    roundTrip: (i) => pool!.exec('square', [i]),
    async teardown() {
      await pool?.terminate();
    },
  };
}
