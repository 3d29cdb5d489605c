// queue(name) of troupe/worker: code on threads and processes takes from and puts into the
// pool's named queues; an item held by (or on its way to) a worker that dies goes back to the front.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_WAITING_CALLS } from '../../lib/queues/worker-calls.js';
import { fixture, MODES, rejection, within, withPool } from './helpers.js';

const TASKS = { tasks: fixture('actor-tasks.js') };

for (const mode of MODES) {
  test(`${mode}: tasks consume a queue and fill another until it is closed; every item once`, () =>
    withPool(mode, TASKS, async (pool) => {
      const jobs = pool.queue<number>('jobs', { capacity: 10 });
      const out = pool.queue<number>('out');
      const consumers = [pool.run<number>('squareAll', ['jobs', 'out']), pool.run<number>('squareAll', ['jobs', 'out'])];
      for (let n = 0; n < 200; n++) await within(jobs.put(n), 10_000, `put ${n}`);
      jobs.close();
      const results: number[] = [];
      for (let i = 0; i < 200; i++) results.push(await within(out.get(), 10_000, `result ${i}`));
      const counts = await within(Promise.all(consumers), 10_000, 'the consumers to end');
      assert.is(counts[0] + counts[1], 200);
      assert.equal(results.sort((a, b) => a - b), Array.from({ length: 200 }, (_, n) => n * n));
      await rejection(pool.run('getOne', ['nowhere', 100]), 'ERR_TROUPE_UNKNOWN_QUEUE');
      pool.queue('empty');
      await rejection(pool.run('getOne', ['empty', 100]), 'ERR_TROUPE_TIMEOUT');
    }));

  test(`${mode}: the item a dying worker held goes back to the front for another`, () =>
    withPool(mode, { ...TASKS, retries: 0 }, async (pool) => {
      const jobs = pool.queue<number>('jobs2');
      const out = pool.queue<number>('out2');
      for (let n = 0; n < 10; n++) await jobs.put(n);
      await rejection(pool.run('crashAt', ['jobs2', 3]), 'ERR_TROUPE_WORKER_LOST', 15_000);
      jobs.close();
      assert.is(await within(pool.run<number>('squareAll', ['jobs2', 'out2']), 15_000, 'a second consumer'), 7);
      const results: number[] = [];
      while (out.size() > 0) results.push(await out.get());
      assert.equal(results, [9, 16, 25, 36, 49, 64, 81], 'item 3 came back first, then the rest, each once');
    }));

  test(`${mode}: an item on its way to a get() whose worker died goes back, not lost`, () =>
    withPool(mode, { ...TASKS, size: 1, retries: 0 }, async (pool) => {
      const jobs = pool.queue<number>('jobs3');
      const trigger = pool.queue<number>('trigger');
      const waiting = pool.run('getOne', ['jobs3', 60_000]);
      await trigger.put(0);
      // the same (only) worker exits while the get waits
      await rejection(pool.run('crashAt', ['trigger', 0]), 'ERR_TROUPE_WORKER_LOST', 15_000);
      await rejection(waiting, 'ERR_TROUPE_WORKER_LOST', 15_000);
      await jobs.put(7);
      assert.is(await within(jobs.get(), 10_000, 'item 7, back from the dead worker'), 7);
    }));

  test(`${mode}: a worker's waiting queue calls are bounded: one past MAX_WAITING_CALLS fails with ERR_TROUPE_PROTOCOL`, () =>
    withPool(mode, { ...TASKS, size: 1 }, async (pool) => {
      const many = pool.queue<number>('many');
      const first = await within(pool.run<string>('getMany', ['many', MAX_WAITING_CALLS + 1]), 30_000, 'the get past the bound');
      assert.is(first, 'ERR_TROUPE_PROTOCOL');
      many.close();
    }));
}

test.run();
