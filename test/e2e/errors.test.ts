// A task's error reaches the caller with its class, message, code, cause chain, own
// properties and the worker's stack; a result that cannot cross fails its task only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MODES, within, withPool } from './helpers.js';

type Shaped = RangeError & { code?: string; limit?: number; details?: unknown };

async function caught(promise: Promise<unknown>): Promise<Error> {
  const outcome = await within(
    promise.then(
      (value) => ({ value }),
      (error: Error) => ({ error }),
    ),
    10_000,
    'the task to settle',
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${String(outcome.value)}`);
  return outcome.error;
}

for (const mode of MODES) {
  test(`${mode}: a RangeError keeps its class, message, code, cause chain, own properties and the worker's stack`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const error = (await caught(pool.run('throwShaped'))) as Shaped;
      assert.instance(error, RangeError);
      assert.is(error.name, 'RangeError');
      assert.is(error.message, 'out of range');
      assert.is(error.code, 'E_RANGE');
      assert.is(error.limit, 10);
      assert.equal(error.details, { got: 11, tags: ['a', 'b'] });
      // The stack is the worker's, where the error was made, not the caller's.
      assert.match(error.stack!, /RangeError: out of range/);
      assert.match(error.stack!, /at throwShaped \(.*e2e-tasks\.js:\d+:\d+\)/);
      const middle = error.cause as Error & { code?: string };
      assert.instance(middle, Error);
      assert.is(middle.message, 'middle');
      assert.is(middle.code, 'E_MIDDLE');
      assert.match(middle.stack!, /e2e-tasks\.js/);
      const root = middle.cause as Error;
      assert.instance(root, TypeError);
      assert.is(root.message, 'root cause');
      assert.is(root.cause, undefined);
    });
  });

  test(`${mode}: a custom error class keeps its name and properties, thrown or rejected`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      for (const [task, message] of [['throwCustom', 'over quota'], ['rejectCustom', 'over quota, async']]) {
        const error = (await caught(pool.run(task))) as Error & { quota?: number };
        assert.instance(error, Error);
        assert.is(error.name, 'QuotaError', task);
        assert.is(error.message, message);
        assert.is(error.quota, 5);
        assert.match(error.stack!, /QuotaError: over quota/);
      }
    });
  });

  test(`${mode}: a thrown non-error becomes an Error saying what was thrown`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const error = await caught(pool.run('throwString'));
      assert.instance(error, Error);
      assert.is(error.message, 'a plain string');
    });
  });

  test(`${mode}: a task whose result cannot be cloned (a function) fails alone; its batch-mates resolve`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const exits: unknown[] = [];
      pool.on('workerExit', (info) => exits.push(info));
      // One turn: the tasks travel together in one batch or a few.
      const runs = Array.from({ length: 30 }, (_, i) => (i === 10 ? pool.run('returnFunction') : pool.run('square', [i])));
      const outcomes = await within(Promise.allSettled(runs), 30_000, 'the batch');
      for (const [i, outcome] of outcomes.entries()) {
        if (i === 10) continue;
        assert.equal(outcome, { status: 'fulfilled', value: i * i }, `square(${i})`);
      }
      const bad = outcomes[10];
      assert.is(bad.status, 'rejected');
      const error = (bad as PromiseRejectedResult).reason as Error & { code?: unknown };
      assert.is.not(error.code, 'ERR_TROUPE_WORKER_LOST', `a clone failure is not a dead worker: ${error.message}`);
      assert.is(error.name, 'DataCloneError');
      assert.match(error.message, /could not be cloned/);
      assert.is(pool.stats().retried, 0, 'nothing counted as a worker death');
      assert.is(pool.stats().completed, 29);
    });
  });

  test(`${mode}: task errors do not hurt the pool: later tasks on the same workers succeed`, async () => {
    await withPool(mode, { size: 2 }, async (pool) => {
      const before = pool.stats().workers.map((w) => w.id);
      const runs = Array.from({ length: 200 }, (_, i) => (i % 2 ? pool.run('throwShaped') : pool.run('square', [i])));
      const outcomes = await within(Promise.allSettled(runs), 30_000, 'mixed tasks');
      assert.is(outcomes.filter((o) => o.status === 'rejected').length, 100);
      assert.ok(outcomes.every((o, i) => (i % 2 ? o.status === 'rejected' : (o as PromiseFulfilledResult<number>).value === i * i)));
      assert.equal(pool.stats().workers.map((w) => w.id), before, 'no worker was replaced');
      assert.is(pool.stats().failed, 100);
    });
  });
}

test.run();
