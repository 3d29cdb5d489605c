// How work is spread: tasks travel in batches, and a free worker takes work while another is stuck.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Pool } from '../../lib/index.js';
import { MODES, rejection, waitFor, within, withPool } from './helpers.js';

/**
 * Runs `count` batchProbe tasks at once; returns how many tasks shared each batch. A probe
 * names its worker and its batch (see batchProbe in the fixture).
 */
async function batchSizes(pool: Pool, count: number): Promise<number[]> {
  const keys = await within(
    Promise.all(Array.from({ length: count }, () => pool.run<string>('batchProbe'))),
    30_000,
    `${count} probes`,
  );
  const groups = new Map<string, number>();
  for (const key of keys) groups.set(key, (groups.get(key) ?? 0) + 1);
  return [...groups.values()];
}

for (const mode of MODES) {
  test(`${mode}: many queued tasks travel several per message, at most batchSize (default 256)`, async () => {
    await withPool(mode, { size: 2 }, async (pool) => {
      const sizes = await batchSizes(pool, 3_000);
      assert.is(sizes.reduce((a, b) => a + b, 0), 3_000);
      assert.ok(sizes.length <= 3_000 / 4, `3000 tasks in ${sizes.length} messages: batched`);
      assert.ok(Math.max(...sizes) > 1);
      assert.ok(Math.max(...sizes) <= 256, `largest batch ${Math.max(...sizes)} <= 256`);
      assert.is(pool.stats().completed, 3_000);
    });
  });

  test(`${mode}: the batchSize option caps the tasks per message`, async () => {
    await withPool(mode, { size: 2, batchSize: 8 }, async (pool) => {
      const sizes = await batchSizes(pool, 2_000);
      assert.is(Math.max(...sizes), 8, `batch sizes seen: ${[...new Set(sizes)].sort((a, b) => a - b).join(', ')}`);
    });
  });

  test(`${mode}: 10,000 tasks submitted at once all complete, and stats() counts each once`, async () => {
    await withPool(mode, { size: 2 }, async (pool) => {
      const values = await within(
        Promise.all(Array.from({ length: 10_000 }, (_, i) => pool.run<number>('square', [i]))),
        30_000,
        '10,000 tasks',
      );
      assert.ok(values.every((v, i) => v === i * i));
      const stats = pool.stats();
      assert.is(stats.completed, 10_000);
      // Sampled per batch and per results message, not per task: far fewer samples than tasks.
      for (const what of ['runTime', 'waitTime', 'windowTime'] as const) {
        assert.ok(stats[what].count >= 1 && stats[what].count < 10_000 / 4, `${what}: ${stats[what].count} samples`);
      }
    });
  });

  // With one worker stuck in a long task, the other must keep taking queued tasks.
  test(`${mode}: a free worker keeps taking tasks while another is busy with a long one`, async () => {
    await withPool(mode, { size: 2 }, async (pool) => {
      // Teach the scheduler that tasks hold their worker for ~10 ms.
      await within(Promise.all(Array.from({ length: 20 }, (_, i) => pool.run('burn', [10, i]))), 15_000, 'warm-up');
      const controller = new AbortController();
      const stuck = pool.run('spin', [], { signal: controller.signal });
      try {
        await waitFor(() => pool.stats().running === 1, 5_000, 'the long task to start');
        const others = Promise.all(Array.from({ length: 6 }, (_, i) => pool.run('burn', [10, i])));
        assert.equal(await within(others, 5_000, 'tasks on the free worker'), [0, 1, 2, 3, 4, 5]);
      } finally {
        controller.abort();
        await rejection(stuck, 'ERR_TROUPE_ABORTED');
      }
    });
  });

  test(`${mode}: with maxInFlight: 1, a free worker takes a queued task while the other runs a long one`, async () => {
    await withPool(mode, { size: 2, maxInFlight: 1 }, async (pool) => {
      const controller = new AbortController();
      const stuck = pool.run('spin', [], { signal: controller.signal });
      try {
        const others = Promise.all([1, 2, 3].map((n) => pool.run('square', [n])));
        assert.equal(await within(others, 5_000, 'tasks on the free worker'), [1, 4, 9]);
      } finally {
        controller.abort();
        await rejection(stuck, 'ERR_TROUPE_ABORTED');
      }
    });
  });
}

test.run();
