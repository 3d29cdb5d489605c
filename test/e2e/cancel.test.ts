// Cancellation with AbortSignal and per-task / pool timeouts, queued and running.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Pool } from '../../lib/index.js';
import { MODES, rejection, settledAtOnce, waitFor, within, withPool } from './helpers.js';

/** Where a task runs: a thread's id, or a process's pid. */
async function whereTasksRun(pool: Pool): Promise<number> {
  const who = await within(pool.run<{ pid: number; threadId: number }>('whoami'), 15_000, 'whoami');
  return who.threadId || who.pid;
}

for (const mode of MODES) {
  // One worker taking one task at a time: whatever else is submitted waits in the queue.
  const single = { size: 1, maxInFlight: 1 };

  test(`${mode}: aborting a queued task rejects it with ERR_TROUPE_ABORTED at once; it never runs`, async () => {
    await withPool(mode, single, async (pool) => {
      const slow = pool.run('sleep', [200, 'slow']);
      const controller = new AbortController();
      const queued = pool.run('square', [3], { signal: controller.signal });
      assert.is(pool.stats().queued, 1, 'the second task waits in the queue');
      controller.abort(new Error('no longer needed'));
      assert.ok(await settledAtOnce(queued), 'rejected without waiting for a worker');
      const error = await rejection(queued, 'ERR_TROUPE_ABORTED');
      assert.is((error.cause as Error).message, 'no longer needed', 'the reason is the cause');
      assert.is(pool.stats().queued, 0);
      assert.is(await within(slow, 10_000, 'the slow task'), 'slow', 'the running task is unaffected');
      await within(pool.onIdle(), 5_000, 'idle');
      assert.is(pool.stats().completed, 1, 'the aborted task never ran');
    });
  });

  test(`${mode}: aborting a running task (a busy loop) rejects it; its worker is replaced and later tasks succeed`, async () => {
    await withPool(mode, single, async (pool) => {
      const before = await whereTasksRun(pool);
      const controller = new AbortController();
      const stuck = pool.run('spin', [], { signal: controller.signal });
      await waitFor(() => pool.stats().running === 1, 5_000, 'the busy loop to be dispatched');
      controller.abort();
      assert.ok(await settledAtOnce(stuck), 'rejected at once, not when the worker is gone');
      await rejection(stuck, 'ERR_TROUPE_ABORTED');
      const after = await whereTasksRun(pool);
      assert.is.not(after, before, 'a new worker runs tasks now');
      const values = await within(Promise.all([1, 2, 3].map((n) => pool.run('square', [n]))), 15_000, 'later tasks');
      assert.equal(values, [1, 4, 9]);
    });
  });

  test(`${mode}: tasks in flight with an aborted busy loop run again, without counting as retries`, async () => {
    await withPool(mode, { size: 1, maxInFlight: 8 }, async (pool) => {
      // Tiny tasks first, so that the worker's window has grown past one task (slow start).
      await within(Promise.all(Array.from({ length: 64 }, (_, i) => pool.run('square', [i]))), 10_000, 'warm-up');
      const controller = new AbortController();
      // One turn: the busy loop goes out first, the squares behind it to the same worker.
      const stuck = pool.run('spin', [], { signal: controller.signal });
      const squares = [1, 2, 3, 4].map((n) => pool.run('square', [n]));
      await waitFor(() => pool.stats().running === 5, 5_000, 'all five tasks to be dispatched');
      controller.abort();
      await rejection(stuck, 'ERR_TROUPE_ABORTED');
      assert.equal(await within(Promise.all(squares), 15_000, 'the neighbours'), [1, 4, 9, 16]);
      assert.is(pool.stats().retried, 0, 'not the neighbours\' fault');
      assert.is(pool.stats().failed, 1);
    });
  });

  test(`${mode}: a per-task timeout on a stuck task rejects with ERR_TROUPE_TIMEOUT; the pool works afterwards`, async () => {
    await withPool(mode, single, async (pool) => {
      const before = await whereTasksRun(pool);
      const started = performance.now();
      const error = await rejection(pool.run('spin', [], { timeout: 150 }), 'ERR_TROUPE_TIMEOUT', 10_000);
      assert.ok(performance.now() - started >= 140, 'not before its timeout');
      assert.match(error.message, /150 ms/);
      assert.is.not(await whereTasksRun(pool), before, 'the stuck worker was replaced');
      assert.is(await within(pool.run('square', [9]), 10_000, 'a later task'), 81);
      // A task that finishes in time is not affected by its timeout.
      assert.is(await within(pool.run('sleep', [10, 'in time'], { timeout: 5_000 }), 10_000, 'a quick task'), 'in time');
    });
  });

  test(`${mode}: the pool's timeout option applies to every task; run()'s own timeout overrides it`, async () => {
    await withPool(mode, { ...single, timeout: 150 }, async (pool) => {
      await rejection(pool.run('spin'), 'ERR_TROUPE_TIMEOUT', 10_000);
      assert.is(await within(pool.run('sleep', [300, 'longer'], { timeout: 5_000 }), 10_000, 'an overridden timeout'), 'longer');
      assert.is(await within(pool.run('square', [5]), 10_000, 'a later task'), 25);
    });
  });

  test(`${mode}: an already-aborted signal rejects at once with ERR_TROUPE_ABORTED; nothing is queued`, async () => {
    await withPool(mode, single, async (pool) => {
      const promise = pool.run('square', [2], { signal: AbortSignal.abort('too late') });
      assert.ok(await settledAtOnce(promise));
      const error = await rejection(promise, 'ERR_TROUPE_ABORTED');
      assert.is(error.cause, 'too late');
      const stats = pool.stats();
      assert.is(stats.queued + stats.running + stats.completed, 0);
    });
  });

  test(`${mode}: aborting after a task settled changes nothing`, async () => {
    await withPool(mode, single, async (pool) => {
      const controller = new AbortController();
      assert.is(await pool.run('square', [6], { signal: controller.signal }), 36);
      const workers = pool.stats().workers.map((w) => w.id);
      controller.abort();
      assert.is(await pool.run('square', [7]), 49);
      assert.equal(pool.stats().workers.map((w) => w.id), workers, 'no worker was stopped');
      assert.is(pool.stats().failed, 0);
    });
  });
}

test.run();
