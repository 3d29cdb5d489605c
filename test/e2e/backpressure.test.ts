// maxQueue refuses tasks past it, 'drain' says when there is room again, onIdle() when all is done.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MODES, nextEvent, rejection, settledAtOnce, within, withPool } from './helpers.js';

for (const mode of MODES) {
  test(`${mode}: past maxQueue run() rejects with ERR_TROUPE_QUEUE_FULL; 'drain' fires once the queue empties`, async () => {
    await withPool(mode, { size: 1, maxInFlight: 1, maxQueue: 3 }, async (pool) => {
      const blocker = pool.run('sleep', [150, 'blocker']);
      const accepted = [1, 2, 3].map((n) => pool.run('square', [n]));
      assert.is(pool.stats().queued, 3);
      const drained = nextEvent(pool, 'drain', 10_000);
      const refused = pool.run('square', [4]);
      assert.ok(await settledAtOnce(refused), 'refused at once');
      const error = await rejection(refused, 'ERR_TROUPE_QUEUE_FULL');
      assert.match(error.message, /maxQueue: 3/);
      assert.is(pool.stats().queued, 3, 'the refused task was not queued');
      await drained;
      assert.is(pool.stats().queued, 0, "'drain' means the queue is empty");
      // Room again: run() accepts tasks.
      const later = pool.run('square', [5]);
      assert.equal(await within(Promise.all([blocker, ...accepted, later]), 10_000, 'every accepted task'), [
        'blocker', 1, 4, 9, 25,
      ]);
    });
  });

  test(`${mode}: onIdle() resolves once every task has settled, and at once on an idle pool`, async () => {
    await withPool(mode, { size: 2, maxInFlight: 2 }, async (pool) => {
      assert.ok(await settledAtOnce(pool.onIdle()), 'idle pool');
      let settled = 0;
      const count = 40;
      for (let i = 0; i < count; i++) {
        const task = i % 10 === 0 ? pool.run('throwShaped') : pool.run('sleep', [i % 3, i]);
        task.then(
          () => settled++,
          () => settled++,
        );
      }
      const idleEvent = nextEvent(pool, 'idle', 15_000);
      assert.not.ok(await settledAtOnce(pool.onIdle()), 'not idle while tasks run');
      await within(pool.onIdle(), 15_000, 'onIdle()');
      // Settlement callbacks were queued before onIdle() resolved.
      assert.is(settled, count, 'every task settled before onIdle() resolved');
      const stats = pool.stats();
      assert.is(stats.queued + stats.running, 0);
      assert.is(stats.completed + stats.failed, count);
      await idleEvent;
    });
  });
}

test.run();
