// atomics: how an idle worker thread waits. 'disabled' (the default) and 'async': in its event
// loop, so a timer a task left behind fires while the thread is idle. 'sync': blocked in
// Atomics.wait, so it fires only once the next batch has woken the thread.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createPool } from '../../lib/index.js';
import { fixture, rejection, removeDir, tempDir, waitFor, within, withPool } from './helpers.js';

const PARITY = fixture('parity-tasks.js');

for (const atomics of [undefined, 'disabled', 'async'] as const) {
  test(`thread, atomics ${atomics ?? 'by default'}: a timer a task did not await fires while the thread is idle`, async () => {
    const dir = tempDir();
    try {
      await withPool('thread', { tasks: PARITY, size: 1, ...(atomics && { atomics }) }, async (pool) => {
        const marker = join(dir, 'timer');
        assert.is(await within(pool.run('later', [marker, 30]), 10_000, 'later'), 'started');
        await waitFor(() => existsSync(marker), 5_000, 'the timer to fire in the idle thread');
      });
    } finally {
      removeDir(dir);
    }
  });
}

test("thread, atomics 'sync': the idle thread blocks, the timer fires after the next batch; tasks of every kind run", async () => {
  const dir = tempDir();
  try {
    await withPool('thread', { tasks: PARITY, size: 1, atomics: 'sync' }, async (pool) => {
      const marker = join(dir, 'timer');
      assert.is(await within(pool.run('later', [marker, 30]), 10_000, 'later'), 'started');
      // A window ten times the timer's delay: the timer would have fired in an event loop.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.not.ok(existsSync(marker), 'the blocked thread ran no timer');
      assert.is(await within(pool.run('square', [5]), 10_000, 'square'), 25);
      await waitFor(() => existsSync(marker), 5_000, 'the timer to fire once the thread woke');
      // Awaited tasks (which need the event loop) and bursts of many tasks.
      assert.equal(await within(Promise.all([pool.run('nap', [20, 'a']), pool.run('nap', [10, 'b'])]), 10_000, 'naps'), ['a', 'b']);
      const squares = await within(Promise.all(Array.from({ length: 3_000 }, (_, i) => pool.run('square', [i]))), 20_000, 'a burst');
      assert.is(squares[2_999], 2_999 ** 2);
    });
  } finally {
    removeDir(dir);
  }
});

test("thread, atomics 'sync': close() still runs teardown in the blocked thread", async () => {
  const dir = tempDir();
  try {
    const log = join(dir, 'teardown.log');
    const pool = await within(createPool({ tasks: PARITY, mode: 'thread', size: 1, atomics: 'sync', workerData: { log } }), 30_000, 'pool');
    try {
      await within(pool.run('square', [2]), 10_000, 'square');
      await within(pool.close(), 10_000, 'close()');
    } finally {
      await pool.destroy();
    }
    assert.ok(existsSync(log), 'teardown ran');
  } finally {
    removeDir(dir);
  }
});

test('atomics is checked, and applies to threads only', async () => {
  let error = await rejection(createPool({ tasks: PARITY, mode: 'thread', size: 1, atomics: 'yes' as never }), 'ERR_TROUPE_INVALID_OPTION');
  assert.match(error.message, /"atomics"/);
  error = await rejection(createPool({ tasks: PARITY, mode: 'process', size: 1, atomics: 'sync' }), 'ERR_TROUPE_INVALID_OPTION');
  assert.match(error.message, /"atomics" applies to worker threads only/);
});

test.run();
