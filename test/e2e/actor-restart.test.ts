// Supervision on worker threads and processes: an actor whose worker dies is started again
// from its spawn arguments; what was pending is rejected and never run again (at most
// once); past its restart limit it stops for good.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ActorInfo } from '../../lib/index.js';
import { fixture, MODES, poolEvent, rejection, waitFor, within, withPool } from './helpers.js';

const ACTORS = { tasks: fixture('actor-tasks.js') };

for (const mode of MODES) {
  test(`${mode}: the worker dies: pending calls reject with ERR_TROUPE_ACTOR_LOST, the actor restarts fresh, the ref stays valid`, () =>
    withPool(mode, ACTORS, async (pool) => {
      const c = await pool.spawn('Counter', [10], { name: 'phoenix' });
      await c.call('inc', [1]);
      const restarted = poolEvent(pool, 'actorRestart', 15_000);
      const crash = c.call('crash');
      const behind = [c.call('inc', [100]), c.call('inc', [200])];
      await rejection(crash, 'ERR_TROUPE_ACTOR_LOST', 15_000);
      for (const call of behind) await rejection(call, 'ERR_TROUPE_ACTOR_LOST', 15_000);
      const [info] = await restarted;
      assert.is(info.name, 'phoenix');
      assert.is(info.restarts, 1);
      assert.is(await within(c.call('get'), 15_000, 'a call after the restart'), 10, 'started again from its spawn arguments');
      assert.equal(await c.call('log'), [], 'nothing pending at the crash ran again');
      assert.is(await pool.actor('phoenix').call('inc', [1]), 11);
    }));

  test(`${mode}: a worker hosting an actor is not recycled: it serves on, tasks keep running, the actor keeps its state`, () =>
    withPool(mode, { ...ACTORS, size: 1, maxTasksPerWorker: 5 }, async (pool) => {
      const c = await pool.spawn('Counter', [0]);
      const before = await c.call<{ pid: number; threadId: number }>('where');
      for (let round = 0; round < 6; round++) {
        await within(Promise.all(Array.from({ length: 5 }, (_, i) => pool.run('square', [i]))), 10_000, `round ${round} of tasks`);
        await c.call('inc', [1]);
      }
      assert.equal(await c.call('where'), before, 'the same worker');
      assert.is(await c.call('get'), 6);
      await c.stop();
      // Hosting nothing any more, it is recycled as usual.
      await within(Promise.all(Array.from({ length: 10 }, (_, i) => pool.run('square', [i]))), 10_000, 'tasks after the actor stopped');
      const probe = await within(pool.spawn('Counter'), 10_000, 'a spawn on the replacement');
      assert.not.equal(await probe.call('where'), before, 'recycled once it hosted no actor');
    }));

  test(`${mode}: a worker hosting an actor is not stopped for being idle; the others are`, () =>
    withPool(mode, { ...ACTORS, size: undefined, minSize: 0, maxSize: 2, idleTimeout: 50 }, async (pool) => {
      const c = await pool.spawn('Counter', [1]);
      const before = await c.call<{ pid: number; threadId: number }>('where');
      let started = 0;
      pool.on('workerStart', () => started++);
      // Tasks wait for room (windows start at one task), so a second worker starts for them;
      // it may be ready only after they have all run on the first.
      await within(Promise.all(Array.from({ length: 200 }, (_, i) => pool.run('square', [i]))), 10_000, 'tasks');
      await waitFor(() => started === 1, 10_000, 'a second worker to start for the tasks');
      await waitFor(() => pool.stats().workers.length === 1, 10_000, 'the idle workers to stop');
      // Several idle timeouts later, the actor's worker is still the one it was.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.is(pool.stats().workers.length, 1);
      assert.equal(await c.call('where'), before);
      assert.is(await c.call('inc', [1]), 2);
    }));

  test(`${mode}: past its restart limit the actor stops for good; later calls reject with ERR_TROUPE_ACTOR_STOPPED`, () =>
    withPool(mode, ACTORS, async (pool) => {
      const c = await pool.spawn('Counter', [0], { name: 'fragile', restart: { max: 1, withinMs: 60_000 } });
      await rejection(c.call('crash'), 'ERR_TROUPE_ACTOR_LOST', 15_000);
      await waitFor(() => c.info()?.restarts === 1 && c.info()?.worker !== undefined, 15_000, 'the restart');
      assert.is(await within(c.call('get'), 15_000, 'the restarted actor'), 0);
      const stopped = poolEvent(pool, 'actorStop', 15_000);
      await rejection(c.call('crash'), 'ERR_TROUPE_ACTOR_LOST', 15_000);
      const [info, error] = await stopped;
      assert.is(info.name, 'fragile');
      assert.ok(error, 'stopped with the error that killed it');
      await rejection(c.call('get'), 'ERR_TROUPE_ACTOR_STOPPED');
      await rejection(pool.actor('fragile').call('get'), 'ERR_TROUPE_ACTOR_NOT_FOUND');

      const never = await pool.spawn('Counter', [0], { restart: false });
      const gone = poolEvent(pool, 'actorStop', 15_000);
      await rejection(never.call('crash'), 'ERR_TROUPE_ACTOR_LOST', 15_000);
      await gone;
      await rejection(never.call('get'), 'ERR_TROUPE_ACTOR_STOPPED');
    }));
}

test('process: SIGKILL of the hosting worker process restarts the actor on a live worker', () =>
  withPool('process', ACTORS, async (pool) => {
    const c = await pool.spawn('Counter', [5]);
    const { pid } = await c.call<{ pid: number }>('where');
    const pending = c.call('slowInc', [10_000]);
    const restarted = poolEvent(pool, 'actorRestart', 15_000);
    process.kill(pid, 'SIGKILL');
    await rejection(pending, 'ERR_TROUPE_ACTOR_LOST', 15_000);
    await restarted;
    const after = await within(c.call<{ pid: number }>('where'), 15_000, 'the restarted actor');
    assert.is.not(after.pid, pid);
    assert.is(await c.call('get'), 5);
  }));

test.run();
