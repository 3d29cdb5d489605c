// resourceLimits: a worker that hits them fails the task it ran with ERR_TROUPE_RESOURCE_LIMIT,
// its neighbours run again at no charge, and the pool lives on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createPool } from '../../lib/index.js';
import { fixture, MODES, rejection, within, withPool } from './helpers.js';

const PARITY = fixture('parity-tasks.js');
const LIMITS = { maxOldGenerationSizeMb: 64 };

for (const mode of MODES) {
  test(`${mode}: a task that runs its worker out of heap fails with ERR_TROUPE_RESOURCE_LIMIT; the pool lives on`, async () => {
    await withPool(mode, { tasks: PARITY, size: 1, resourceLimits: LIMITS }, async (pool) => {
      let exits = 0;
      pool.on('workerExit', () => exits++);
      const error = await rejection(pool.run('hog'), 'ERR_TROUPE_RESOURCE_LIMIT', 30_000);
      assert.is(error.name, 'ResourceLimitError');
      assert.is(pool.stats().retried, 0, 'not run again');
      assert.is(exits, 1);
      assert.is(await within(pool.run('square', [7]), 20_000, 'a task after'), 49);
    });
  });

  test(`${mode}: the neighbours of such a task in its batch run again at no charge`, async () => {
    await withPool(mode, { tasks: PARITY, size: 1, resourceLimits: LIMITS, retries: 0 }, async (pool) => {
      // Warm up, so that the worker's window holds many tasks and they travel together.
      await within(Promise.all(Array.from({ length: 2_000 }, (_, i) => pool.run('square', [i]))), 20_000, 'warm-up');
      const before = Array.from({ length: 20 }, (_, i) => pool.run('square', [i]));
      const hog = pool.run('hog');
      const after = Array.from({ length: 20 }, (_, i) => pool.run('square', [100 + i]));
      await rejection(hog, 'ERR_TROUPE_RESOURCE_LIMIT', 60_000);
      const values = await within(Promise.all([...before, ...after]), 60_000, 'the neighbours');
      assert.equal(values, [...Array.from({ length: 20 }, (_, i) => i * i), ...Array.from({ length: 20 }, (_, i) => (100 + i) ** 2)]);
      assert.is(pool.stats().retried, 0, 'no attempt charged (with retries: 0 a charge would have failed them)');
    }, 90_000);
  });
}

test('resourceLimits are checked, naming the field; processes take the heap limit only', async () => {
  const cases = [
    [{ mode: 'thread', resourceLimits: 5 }, /"resourceLimits"/],
    [{ mode: 'thread', resourceLimits: { maxOldGenerationSizeMb: -1 } }, /"resourceLimits.maxOldGenerationSizeMb"/],
    [{ mode: 'thread', resourceLimits: { heap: 1 } }, /"resourceLimits.heap"/],
    [{ mode: 'process', resourceLimits: { stackSizeMb: 4 } }, /"resourceLimits.stackSizeMb" applies to worker threads only/],
  ] as const;
  for (const [options, message] of cases) {
    const error = await rejection(createPool({ tasks: PARITY, size: 1, ...(options as object) }), 'ERR_TROUPE_INVALID_OPTION');
    assert.match(error.message, message);
  }
});

test.run();
