// pool.stats(): workers, queue, counters and latency percentiles.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Percentiles } from '../../lib/index.js';
import type { PoolStats } from '../../lib/index.js';
import { MODES, pidAlive, rejection, removeDir, tempDir, waitFor, within, withPool } from './helpers.js';

function assertPercentiles(p: Percentiles, count: number, what: string): void {
  assert.is(p.count, count, `${what}.count`);
  assert.ok(p.p50 >= 0 && p.p50 <= p.p90 && p.p90 <= p.p99 && p.p99 <= p.max, `${what} percentiles in order: ${JSON.stringify(p)}`);
  assert.ok(p.mean > 0 && p.mean <= p.max, `${what}.mean`);
}

for (const mode of MODES) {
  test(`${mode}: stats() of a fresh pool lists its workers and zero counters`, async () => {
    await withPool(mode, { size: 2 }, async (pool) => {
      const stats = pool.stats();
      assert.is(stats.workers.length, 2);
      for (const worker of stats.workers) {
        assert.is(worker.kind, mode);
        assert.is(worker.state, 'idle');
        assert.is(worker.inFlight, 0);
        if (mode === 'process') {
          assert.ok(pidAlive(worker.pid!) && worker.pid !== process.pid, 'a live pid of its own');
          assert.is(worker.id, `process-${worker.pid}`);
        } else {
          assert.is(worker.pid, process.pid);
          assert.ok(Number.isInteger(worker.threadId) && worker.threadId! > 0, 'a thread id');
        }
      }
      assert.is(new Set(stats.workers.map((w) => (mode === 'process' ? w.pid : w.threadId))).size, 2);
      assert.equal(
        [stats.queued, stats.running, stats.completed, stats.failed, stats.retried, stats.waitTime.count, stats.runTime.count],
        [0, 0, 0, 0, 0, 0, 0],
      );
    });
  });

  test(`${mode}: stats() shows running and queued tasks and busy workers, then counts and times them`, async () => {
    await withPool(mode, { size: 1, maxInFlight: 1 }, async (pool) => {
      const tasks = [pool.run('sleep', [300, 'slow']), ...[1, 2, 3, 4].map((n) => pool.run('square', [n]))];
      const all = Promise.allSettled(tasks);
      await waitFor(() => pool.stats().running === 1, 5_000, 'the worker busy');
      const busy = pool.stats();
      assert.is(busy.queued, 4);
      assert.equal(busy.workers.map((w) => [w.state, w.inFlight]), [['busy', 1]]);
      const values = (await within(all, 10_000, 'the tasks')).map((o) => (o as PromiseFulfilledResult<unknown>).value);
      assert.equal(values, ['slow', 1, 4, 9, 16]);
      const failures = await within(
        Promise.allSettled([pool.run('throwShaped'), pool.run('throwCustom'), pool.run('throwString')]),
        10_000,
        'failing tasks',
      );
      assert.ok(failures.every((f) => f.status === 'rejected'));
      const stats = pool.stats();
      assert.is(stats.completed, 5);
      assert.is(stats.failed, 3);
      assert.is(stats.retried, 0);
      assert.is(stats.queued + stats.running, 0);
      assert.ok(stats.workers.every((w) => w.state === 'idle' && w.inFlight === 0));
      // Every task that ran, failed or not, was timed once from run() to dispatch and from dispatch to result.
      assertPercentiles(stats.waitTime, 8, 'waitTime');
      assertPercentiles(stats.runTime, 8, 'runTime');
      // Lower bounds only: the queued squares waited for a 300 ms task, which ran that long.
      assert.ok(stats.waitTime.max >= 250, `waitTime.max ${stats.waitTime.max} >= 250 ms`);
      assert.ok(stats.runTime.max >= 250, `runTime.max ${stats.runTime.max} >= 250 ms`);
    });
  });

  test(`${mode}: stats().retried counts re-runs after a worker died; a timed-out task counts as failed, a refused one not at all`, async () => {
    const dir = tempDir();
    try {
      await withPool(mode, { size: 1 }, async (pool) => {
        assert.is(await within(pool.run('exitOnce', [join(dir, 'marker'), 'ok']), 15_000, 'exitOnce'), 'ok');
        let stats = pool.stats();
        assert.is(stats.retried, 1);
        assert.is(stats.completed, 1);
        assert.is(stats.failed, 0);
        await rejection(pool.run('spin', [], { timeout: 50 }), 'ERR_TROUPE_TIMEOUT');
        stats = pool.stats();
        assert.is(stats.failed, 1, 'a timed-out task failed');
        assert.is(stats.runTime.count, 1, 'no run time for a task that never returned');
        // Refused before it was queued: not a task that ran or failed.
        await rejection(pool.run('square', [1], { signal: AbortSignal.abort() }), 'ERR_TROUPE_ABORTED');
        await rejection(pool.run('nope'), 'ERR_TROUPE_UNKNOWN_TASK');
        stats = pool.stats();
        assert.equal([stats.completed, stats.failed, stats.retried], [1, 1, 1]);
      });
    } finally {
      removeDir(dir);
    }
  });

  test(`${mode}: stats() gives each worker's utilization and the pool's, from the time workers spent in task code`, async () => {
    await withPool(mode, { size: 2, maxInFlight: 1 }, async (pool) => {
      const fresh = pool.stats();
      assert.equal([fresh.utilization, ...fresh.workers.map((w) => w.utilization)], [0, 0, 0]);
      await within(pool.run('burn', [400, 'done']), 10_000, 'a 400 ms task');
      const stats = pool.stats();
      const shares = stats.workers.map((w) => w.utilization).sort();
      assert.is(shares[0], 0, `the idle worker: ${shares}`);
      // 400 ms busy on a worker a few seconds old at most (the window is 10 s).
      assert.ok(shares[1] > 0.04 && shares[1] <= 1, `the busy worker: ${shares}`);
      // The pool's is all busy time over all capacity: between the two (weighted by each worker's age).
      assert.ok(stats.utilization > 0 && stats.utilization < shares[1], `the pool: ${stats.utilization}, workers ${shares}`);
    });
  });

  test(`${mode}: stats().queueAge is the oldest queued task's wait, 0 when nothing waits`, async () => {
    await withPool(mode, { size: 1, maxInFlight: 1 }, async (pool) => {
      assert.is(pool.stats().queueAge, 0);
      const all = Promise.all([pool.run('sleep', [400, 'slow']), pool.run('square', [2]), pool.run('square', [3])]);
      await waitFor(() => pool.stats().running === 1 && pool.stats().queued === 2, 5_000, 'two tasks queued');
      const first = pool.stats().queueAge;
      await waitFor(() => pool.stats().queueAge >= first + 100, 5_000, 'the queue to age');
      assert.ok(pool.stats().queueAge < 5_000);
      await within(all, 10_000, 'the tasks');
      assert.is(pool.stats().queueAge, 0);
    });
  });

  test(`${mode}: statsInterval emits 'stats' at that interval until the pool stops`, async () => {
    let events = 0;
    let last: PoolStats | undefined;
    await withPool(mode, { size: 1, statsInterval: 30 }, async (pool) => {
      pool.on('stats', (stats) => {
        events++;
        last = stats;
      });
      await within(pool.run('square', [4]), 10_000, 'a task');
      const stats = await within(new Promise<PoolStats>((resolve) => pool.once('stats', resolve)), 2_000, "a 'stats' event");
      assert.is(stats.completed, 1);
      await waitFor(() => events >= 3, 2_000, 'three stats events');
      assert.is(last!.workers.length, 1);
    });
    const after = events;
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.is(events, after, 'no stats event after destroy()');
  });
}

test('statsInterval must be a number of ms', async () => {
  const { createPool } = await import('../../lib/index.js');
  const { TASKS } = await import('./helpers.js');
  const error = await rejection(createPool({ tasks: TASKS, size: 1, statsInterval: -5 }), 'ERR_TROUPE_INVALID_OPTION');
  assert.match(error.message, /"statsInterval"/);
});

test.run();
