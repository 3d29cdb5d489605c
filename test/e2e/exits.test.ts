// Clean exits: no close() needed to exit, no orphan workers when the primary is killed,
// nothing left after close() / destroy() / `await using`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Pool } from '../../lib/index.js';
import {
  exited, fixture, lineMatching, MODES, openPool, pidAlive, rejection, runNode, startNode, waitFor, waitGone,
  within, workerPids,
} from './helpers.js';

test('a script with a process pool and a thread pool that never calls close() exits by itself with code 0', async () => {
  const result = await runNode(['--import', 'tsx', fixture('e2e-no-close.ts').pathname], 30_000);
  assert.is(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as { sums: number[]; pids: number[] };
  const sum = Array.from({ length: 100 }, (_, i) => i * i).reduce((a, b) => a + b, 0);
  assert.equal(report.sums, [sum, sum], 'both pools ran their tasks');
  assert.is(report.pids.length, 2);
  await waitGone(report.pids, 2_000, "the script's worker processes");
});

for (const mode of MODES) {
  test(`${mode}: a task that times out, with another behind it and nothing else keeping the process alive: both settle before it exits`, async () => {
    const result = await runNode(['--import', 'tsx', fixture('e2e-cancel-alive.ts').pathname, mode], 30_000);
    assert.is(result.code, 0, result.stderr);
    assert.is(result.stdout.trim().split('\n').pop(), JSON.stringify(['ERR_TROUPE_TIMEOUT', 49]), result.stdout);
  });
}

test('when the primary is SIGKILLed its worker processes are gone within 2 s', async () => {
  const child = startNode(['--import', 'tsx', fixture('e2e-hold.ts').pathname]);
  let pids: number[] = [];
  try {
    const [, json] = await lineMatching(child, /^pids (\[.*\])$/, 30_000);
    pids = JSON.parse(json) as number[];
    assert.is(pids.length, 2);
    assert.ok(pids.every(pidAlive), 'workers run while their primary does');
    child.kill('SIGKILL');
    await exited(child, 5_000, 'the killed primary');
    await waitGone(pids, 2_000, 'orphaned worker processes');
  } finally {
    child.kill('SIGKILL');
    for (const pid of pids.filter(pidAlive)) process.kill(pid, 'SIGKILL');
  }
});

test('a write to a worker process that has just died fails: its tasks go to the other worker, not back to it on every tick', async () => {
  const result = await runNode(['--import', 'tsx', fixture('e2e-write-fails.ts').pathname], 30_000);
  assert.is(result.code, 0, result.stderr);
  assert.ok(result.stdout.includes(`ok ${JSON.stringify(Array.from({ length: 20 }, (_, i) => i * i))}`), result.stdout);
});

// A worker's pipe carries its batches and results: a worker that breaks it is replaced.
for (const [task, what] of [
  ['garblePipe', 'writes bytes that are not a frame on its pipe'],
  ['closePipe', 'closes its pipe'],
] as const) {
  test(`process: a worker that ${what} is replaced: its task fails as lost, and the pool goes on`, async () => {
    const pool = await openPool('process', { size: 1, retries: 0 });
    try {
      const [pid] = workerPids(pool);
      await rejection(pool.run(task), 'ERR_TROUPE_WORKER_LOST');
      await waitGone([pid], 5_000, `the worker that ${what}`);
      assert.is(await within(pool.run<number>('square', [7]), 10_000, 'a task on the replacement'), 49);
      assert.not.equal(workerPids(pool), [pid]);
    } finally {
      await pool.destroy();
    }
  });
}

for (const mode of MODES) {
  test(`${mode}: close() lets in-flight and queued tasks finish, refuses new ones, then stops every worker`, async () => {
    const pool = await openPool(mode, { size: 2, maxInFlight: 1 });
    try {
      const pids = workerPids(pool);
      const tasks = Array.from({ length: 6 }, (_, i) => pool.run('sleep', [50, i]));
      assert.ok(pool.stats().queued > 0, 'some wait in the queue');
      const closing = pool.close();
      await rejection(pool.run('square', [1]), 'ERR_TROUPE_CLOSED');
      assert.equal(await within(Promise.all(tasks), 10_000, 'the submitted tasks'), [0, 1, 2, 3, 4, 5]);
      await within(closing, 10_000, 'close()');
      assert.equal(pool.stats().workers, [], 'no worker left');
      if (mode === 'process') {
        assert.is(pids.length, 2);
        await waitGone(pids, 2_000, 'worker processes after close()');
      }
      await rejection(pool.run('square', [1]), 'ERR_TROUPE_CLOSED');
      await within(pool.close(), 5_000, 'a second close()');
    } finally {
      await within(pool.destroy(), 10_000, 'destroy()');
    }
  });

  test(`${mode}: destroy() rejects running and queued tasks with ERR_TROUPE_DESTROYED and stops every worker`, async () => {
    const pool = await openPool(mode, { size: 2, maxInFlight: 1 });
    try {
      const pids = workerPids(pool);
      const running = [pool.run('spin'), pool.run('sleep', [60_000])];
      const queued = [pool.run('square', [1]), pool.run('square', [2])];
      const outcomes = Promise.allSettled([...running, ...queued]);
      await waitFor(() => pool.stats().running >= 1 && pool.stats().queued >= 1, 5_000, 'tasks running and queued');
      await within(pool.destroy(), 10_000, 'destroy()');
      const codes = (await within(outcomes, 1_000, 'every task to settle')).map((o) =>
        o.status === 'rejected' ? (o.reason as { code?: string }).code : 'resolved',
      );
      assert.equal(codes, Array(4).fill('ERR_TROUPE_DESTROYED'));
      assert.equal(pool.stats().workers, [], 'no worker left');
      if (mode === 'process') await waitGone(pids, 2_000, 'worker processes after destroy()');
      await rejection(pool.run('square', [1]), 'ERR_TROUPE_CLOSED');
    } finally {
      await within(pool.destroy(), 10_000, 'destroy()');
    }
  });

  test(`${mode}: \`await using\` closes the pool at the end of the block`, async () => {
    let escaped: Pool | undefined;
    let pids: number[] = [];
    {
      await using pool = await openPool(mode, { size: 1 });
      escaped = pool;
      pids = workerPids(pool);
      assert.is(await within(pool.run('square', [8]), 10_000, 'a task'), 64);
    }
    try {
      await rejection(escaped.run('square', [1]), 'ERR_TROUPE_CLOSED');
      assert.equal(escaped.stats().workers, []);
      if (mode === 'process') await waitGone(pids, 2_000, 'worker processes after `await using`');
    } finally {
      await within(escaped.destroy(), 10_000, 'destroy()');
    }
  });
}

test.run();
