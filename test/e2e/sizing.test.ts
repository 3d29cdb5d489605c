// minSize / maxSize / idleTimeout: workers start while tasks wait and stop when idle,
// no task lost; `size` is minSize = maxSize.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createPool } from '../../lib/index.js';
import { MODES, rejection, TASKS, waitFor, within, withPool } from './helpers.js';

for (const mode of MODES) {
  test(`${mode}: grows to maxSize while tasks wait, back to minSize when idle; every task settles`, async () => {
    await withPool(mode, { size: undefined, minSize: 1, maxSize: 3, idleTimeout: 300 }, async (pool) => {
      assert.is(pool.stats().workers.length, 1, 'minSize at start');
      let most = 0;
      const watch = setInterval(() => (most = Math.max(most, pool.stats().workers.length)), 5);
      try {
        // CPU-bound: a task that awaits leaves its worker free for more, and needs no new worker.
        const all = Promise.all(Array.from({ length: 30 }, (_, i) => pool.run('burn', [50, i])));
        await waitFor(() => pool.stats().workers.length === 3, 15_000, 'three workers');
        assert.equal(await within(all, 30_000, '30 tasks'), Array.from({ length: 30 }, (_, i) => i));
        await waitFor(() => pool.stats().workers.length === 1, 10_000, 'back to one worker');
        assert.ok(most <= 3, `never more than maxSize: ${most}`);
      } finally {
        clearInterval(watch);
      }
      assert.is(await within(pool.run('square', [6]), 10_000, 'a task after shrinking'), 36);
    });
  });

  test(`${mode}: minSize 0 starts one worker to check the module, lets it go when idle, starts one for the next task`, async () => {
    await withPool(mode, { size: undefined, minSize: 0, maxSize: 2, idleTimeout: 200 }, async (pool) => {
      await waitFor(() => pool.stats().workers.length === 0, 10_000, 'no worker left');
      assert.is(await within(pool.run('square', [5]), 20_000, 'a task with no worker up'), 25);
    });
  });

  test(`${mode}: a busy worker is never stopped for being idle`, async () => {
    await withPool(mode, { size: undefined, minSize: 0, maxSize: 1, idleTimeout: 50 }, async (pool) => {
      await within(pool.run('square', [1]), 10_000, 'a worker up');
      let starts = 0;
      pool.on('workerStart', () => starts++);
      // A task far longer than idleTimeout: its worker stays until it ends (stopping it
      // would run the task again on a new worker).
      assert.is(await within(pool.run('sleep', [600, 'kept']), 10_000, 'a long task'), 'kept');
      assert.is(starts, 0, 'no worker was started for it again');
      assert.is(pool.stats().workers.length, 1);
    });
  });
}

test('size with minSize or maxSize, or minSize above maxSize, is an option error naming them', async () => {
  const cases = [
    [{ size: 2, minSize: 1 }, /"size" cannot be given with "minSize"/],
    [{ size: 2, maxSize: 4 }, /"size" cannot be given with "maxSize"/],
    [{ minSize: 3, maxSize: 2 }, /"maxSize" must be at least minSize \(3\)/],
    [{ maxSize: 0 }, /"maxSize"/],
    [{ minSize: -1 }, /"minSize"/],
    [{ maxSize: 2, idleTimeout: -1 }, /"idleTimeout"/],
  ] as const;
  for (const [options, message] of cases) {
    const error = await rejection(createPool({ tasks: TASKS, ...options }), 'ERR_TROUPE_INVALID_OPTION');
    assert.match(error.message, message);
  }
});

test.run();
