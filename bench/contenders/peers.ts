// The Node.js thread pools Troupe is measured against, each used the way its docs show.
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { Tinypool } from 'tinypool';
import workerpool from 'workerpool';
import { fixture, windowed, type Contender } from '../lib/harness.js';

/** Raw piscina: one task per run(), its defaults otherwise (atomics 'sync'). */
export function piscina(threads = 2): Contender {
  let pool: Piscina | undefined;
  return {
    name: 'piscina',
    detail: `${threads} threads, one task per run()`,
    async setup() {
      pool = new Piscina({
        filename: fixture('piscina-square.js').href,
        minThreads: threads,
        maxThreads: threads,
        idleTimeout: Infinity,
        execArgv: [],
      });
      await Promise.all(Array.from({ length: threads * 4 }, (_, i) => pool!.run(i)));
    },
    runThroughput: (n, inFlight) => windowed(n, inFlight, (i) => pool!.run(i)),
    roundTrip: (i) => pool!.run(i),
    async teardown() {
      await pool?.destroy();
    },
  };
}

export function tinypool(threads = 2): Contender {
  let pool: Tinypool | undefined;
  return {
    name: 'tinypool',
    detail: `${threads} threads (worker_threads runtime), one task per run()`,
    async setup() {
      pool = new Tinypool({
        filename: fixture('tinypool-square.js').href,
        minThreads: threads,
        maxThreads: threads,
        idleTimeout: 2 ** 31 - 1,
        execArgv: [],
      });
      await Promise.all(Array.from({ length: threads * 4 }, (_, i) => pool!.run(i)));
    },
    runThroughput: (n, inFlight) => windowed(n, inFlight, (i) => pool!.run(i)),
    roundTrip: (i) => pool!.run(i),
    async teardown() {
      await pool?.destroy();
    },
  };
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
