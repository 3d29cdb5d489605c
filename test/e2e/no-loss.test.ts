// No task is ever lost or settled twice when workers die under load.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Pool, WorkerInfo } from '../../lib/index.js';
import { MODES, rejection, removeDir, tempDir, waitFor, within, withPool } from './helpers.js';

/**
 * Runs `count` square tasks at once, plus `extra` at `extraAt`; returns every outcome once
 * all have settled (bounded), after checking each square settled exactly once and correctly.
 */
async function runAll(
  pool: Pool,
  count: number,
  extra?: { at: number; run: () => Promise<unknown> },
  onResult?: (settledSoFar: number) => void,
): Promise<{ extra?: PromiseSettledResult<unknown> }> {
  const settledTimes = new Uint8Array(count);
  const wrong: string[] = [];
  let settled = 0;
  const promises: Promise<unknown>[] = [];
  let extraPromise: Promise<unknown> | undefined;
  for (let i = 0; i < count; i++) {
    if (extra && i === extra.at) extraPromise = extra.run();
    promises.push(
      pool.run<number>('square', [i]).then(
        (value) => {
          settledTimes[i]++;
          if (value !== i * i) wrong.push(`square(${i}) = ${value}`);
          onResult?.(++settled);
        },
        (error: Error) => {
          settledTimes[i]++;
          wrong.push(`square(${i}) rejected: ${error.message}`);
          onResult?.(++settled);
        },
      ),
    );
  }
  const [extraOutcome] = await within(
    Promise.all([extraPromise ? Promise.allSettled([extraPromise]).then(([r]) => r) : undefined, Promise.all(promises)]),
    60_000,
    `${count} tasks to settle`,
  );
  assert.equal(wrong.slice(0, 5), [], 'every task resolves with its own value');
  assert.ok(
    settledTimes.every((n) => n === 1),
    'every task settled exactly once',
  );
  return { extra: extraOutcome };
}

test('process: 20,000 tasks in flight, one worker SIGKILLed midway, every task resolves once and correctly', async () => {
  await withPool('process', { size: 2 }, async (pool) => {
    const exits: WorkerInfo[] = [];
    const starts: WorkerInfo[] = [];
    pool.on('workerExit', (info) => exits.push(info));
    pool.on('workerStart', (info) => starts.push(info));
    const [victim, survivor] = pool.stats().workers.map((w) => w.pid!);
    let killedWithInFlight = -1;
    const count = 20_000;
    await runAll(pool, count, undefined, (settled) => {
      if (settled !== 3_000) return;
      killedWithInFlight = pool.stats().workers.find((w) => w.pid === victim)?.inFlight ?? -1;
      process.kill(victim, 'SIGKILL');
    });
    const stats = pool.stats();
    assert.ok(killedWithInFlight >= 0, 'the victim was killed midway');
    assert.is(stats.completed, count, 'the scheduler counted each task once');
    assert.is(stats.failed, 0);
    assert.is(stats.queued + stats.running, 0);
    assert.equal(exits.map((w) => w.pid), [victim], 'workerExit fired for the killed worker');
    // Whatever it held ran again (stats.retried counts them, unless every result had been
    // written before the kill): the counts above prove none was lost or doubled.
    await waitFor(() => starts.length === 1, 10_000, 'a replacement worker');
    await waitFor(() => pool.stats().workers.length === 2, 10_000, 'two workers again');
    const pids = pool.stats().workers.map((w) => w.pid!);
    assert.ok(!pids.includes(victim), 'the killed worker is gone from stats()');
    assert.ok(pids.includes(survivor) && pids.includes(starts[0].pid!), 'survivor and replacement');
    assert.equal(await Promise.all([1, 2, 3, 4].map((n) => pool.run('square', [n]))), [1, 4, 9, 16]);
  });
});

for (const mode of MODES) {
  test(`${mode}: a task that exits its worker on the first attempt, among 5,000 others in flight: all settle once, correctly`, async () => {
    const dir = tempDir();
    try {
      await withPool(mode, { size: 2 }, async (pool) => {
        const exits: WorkerInfo[] = [];
        const retries: { name: string; attempt: number }[] = [];
        pool.on('workerExit', (info) => exits.push(info));
        pool.on('retry', (info) => retries.push(info));
        const { extra } = await runAll(pool, 5_000, {
          at: 2_500,
          run: () => pool.run('exitOnce', [join(dir, 'exit-marker'), 'survived']),
        });
        assert.equal(extra, { status: 'fulfilled', value: 'survived' }, 'the killer ran again and succeeded');
        assert.ok(retries.some((r) => r.name === 'exitOnce' && r.attempt === 2), 'exitOnce was retried');
        assert.ok(pool.stats().retried >= 1);
        assert.is(pool.stats().completed, 5_001);
        assert.is(pool.stats().failed, 0);
        await waitFor(() => exits.length >= 1, 5_000, 'workerExit');
        await waitFor(() => pool.stats().workers.length === 2, 10_000, 'the worker to be replaced');
        assert.is(await pool.run('square', [12]), 144);
      });
    } finally {
      removeDir(dir);
    }
  });

  test(`${mode}: an uncaught exception inside a running task kills its worker; every task still settles once, correctly`, async () => {
    const dir = tempDir();
    try {
      await withPool(mode, { size: 2 }, async (pool) => {
        const retries: { name: string }[] = [];
        pool.on('retry', (info) => retries.push(info));
        const { extra } = await runAll(pool, 2_000, {
          at: 1_000,
          run: () => pool.run('throwLaterOnce', [join(dir, 'throw-marker'), 'recovered']),
        });
        assert.equal(extra, { status: 'fulfilled', value: 'recovered' });
        assert.ok(retries.some((r) => r.name === 'throwLaterOnce'), 'it was retried');
        assert.is(pool.stats().completed, 2_001);
        assert.is(await pool.run('square', [11]), 121);
      });
    } finally {
      removeDir(dir);
    }
  });

  test(`${mode}: a poison task rejects with ERR_TROUPE_WORKER_LOST after retries + 1 attempts; the pool keeps working`, async () => {
    const dir = tempDir();
    try {
      await withPool(mode, { size: 2, retries: 1 }, async (pool) => {
        const retries: { name: string; attempt: number }[] = [];
        pool.on('retry', (info) => retries.push(info));
        const counter = join(dir, 'attempts');
        const error = await rejection(pool.run('poison', [counter]), 'ERR_TROUPE_WORKER_LOST', 30_000);
        assert.is(readFileSync(counter, 'utf8'), 'xx', 'it ran exactly twice');
        assert.match(error.message, /2 attempts/);
        assert.ok(error.cause instanceof Error, 'the cause says how the worker died');
        assert.equal(retries.map((r) => [r.name, r.attempt]), [['poison', 2]], 'one retry, for attempt 2');
        assert.is(pool.stats().retried, 1);
        await waitFor(() => pool.stats().workers.length === 2, 10_000, 'both workers to be replaced');
        const after = await within(
          Promise.all(Array.from({ length: 200 }, (_, i) => pool.run('square', [i]))),
          30_000,
          'tasks after the poison',
        );
        assert.equal(after, Array.from({ length: 200 }, (_, i) => i * i));
      });
    } finally {
      removeDir(dir);
    }
  });

  // The tasks in flight with a task that killed their worker are suspects and run again,
  // each alone. They must not be sent along with the poison task to one worker again, or it
  // takes them down with it once more, and with retries: 1 they fail although innocent.
  test(`${mode}: innocent tasks sent to a worker along with a poison task still succeed`, async () => {
    const dir = tempDir();
    try {
      await withPool(mode, { size: 1, retries: 1 }, async (pool) => {
        const counter = join(dir, 'attempts');
        // The poison task goes out at once, the others follow in the same turn to the same worker.
        const poison = pool.run('poison', [counter]);
        const innocents = Promise.allSettled(Array.from({ length: 20 }, (_, i) => pool.run('square', [i])));
        await rejection(poison, 'ERR_TROUPE_WORKER_LOST', 30_000);
        const outcomes = await within(innocents, 30_000, 'the innocent tasks');
        const failures = outcomes.flatMap((o, i) =>
          o.status === 'rejected' ? [`square(${i}): ${(o.reason as { code?: string }).code}`] : [],
        );
        assert.equal(failures, [], 'no innocent task fails');
        assert.equal(
          outcomes.map((o) => (o as PromiseFulfilledResult<number>).value),
          Array.from({ length: 20 }, (_, i) => i * i),
        );
      });
    } finally {
      removeDir(dir);
    }
  });
}

test.run();
