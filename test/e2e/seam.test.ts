// What the seam between scheduler and workers promises, on threads and processes: work is
// not sent blind ahead of what is known of its cost, async tasks overlap in one worker,
// bytes move, and every worker has an identity.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MODES, rejection, within, withPool } from './helpers.js';

for (const mode of MODES) {
  test(`${mode}: head of line on a fresh pool: short tasks do not wait behind a long one while a worker is free`, async () => {
    await withPool(mode, { size: 2 }, async (pool) => {
      const started = performance.now();
      const long = pool.run('burn', [3_000, 'long']);
      const shorts = Array.from({ length: 10 }, (_, i) => pool.run('burn', [100, i]).then(() => performance.now() - started));
      const finished = await within(Promise.all(shorts), 15_000, 'the short tasks');
      // Alone on the free worker they take 1 s; behind the long task, 3 s or more. The bound is generous.
      assert.ok(Math.max(...finished) < 2_500, `short tasks finished at ${finished.map(Math.round).join(', ')} ms`);
      assert.is(await within(long, 15_000, 'the long task'), 'long');
    });
  });

  test(`${mode}: async tasks overlap in one worker (each waits for the other to have started)`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const met = await within(Promise.all([pool.run('rendezvous', ['a', 2]), pool.run('rendezvous', ['a', 2])]), 5_000, 'both');
      assert.equal(met, ['a met', 'a met']);
      // Also when they arrive in separate turns, so separate batches.
      const first = pool.run('rendezvous', ['b', 2]);
      await new Promise((resolve) => setImmediate(resolve));
      const second = pool.run('rendezvous', ['b', 2]);
      assert.equal(await within(Promise.all([first, second]), 5_000, 'both, one turn apart'), ['b met', 'b met']);
    });
  });

  test(`${mode}: each worker is its own backend, with its own in-flight count`, async () => {
    await withPool(mode, { size: 2 }, async (pool) => {
      const workers = pool.stats().workers;
      assert.is(workers.length, 2);
      assert.is(new Set(workers.map((w) => w.id)).size, 2);
      const held = pool.run('sleep', [300, 'held']);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const counts = pool.stats().workers.map((w) => w.inFlight).sort();
      assert.equal(counts, [0, 1], 'one task is counted on the worker that has it');
      await held;
    });
  });

  test(`${mode}: a Buffer sent with transfer arrives, and returns, as a Buffer`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const buffer = Buffer.alloc(64 * 1024, 3);
      const back = await pool.run<Buffer>('echo', [buffer], { transfer: [buffer.buffer] });
      assert.ok(Buffer.isBuffer(back));
      assert.is(back.byteLength, 64 * 1024);
      assert.is(back[100], 3);
    });
  });

  test(`${mode}: move() from troupe/worker: the result arrives whole (moved on threads, copied elsewhere)`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const back = await pool.run<Buffer>('movedBuffer', [1024 * 1024]);
      assert.ok(Buffer.isBuffer(back));
      assert.is(back.byteLength, 1024 * 1024);
      assert.is(back[12345], 7);
    });
  });

  test(`${mode}: a returned function and a function argument both fail with DataCloneError (ERR_TROUPE_DATA_CLONE)`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      for (const run of [() => pool.run('returnFunction'), () => pool.run('echo', [() => 1])]) {
        const error = await rejection(run(), 'ERR_TROUPE_DATA_CLONE');
        assert.is(error.name, 'DataCloneError');
      }
      assert.is(await pool.run('square', [3]), 9, 'the worker lives on');
    });
  });
}

test.run();
