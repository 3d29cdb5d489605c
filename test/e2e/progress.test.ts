// progress() from inside a task reaches run()'s onProgress, in order, before the outcome;
// a slow listener gets the latest report rather than a backlog.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { progress } from 'troupe/worker';
import { fixture, MODES, rejection, within, withPool } from './helpers.js';

const PARITY = fixture('parity-tasks.js');

interface Step {
  done: number;
  of: number;
}

function assertIncreasing(reports: Step[], of: number): void {
  assert.ok(reports.length > 0, 'some reports');
  for (let i = 0; i < reports.length; i++) {
    assert.is(reports[i].of, of);
    if (i > 0) assert.ok(reports[i].done > reports[i - 1].done, `in order: ${reports.map((r) => r.done)}`);
  }
}

for (const mode of MODES) {
  for (const task of ['countSync', 'countAsync'] as const) {
    test(`${mode}: ${task} reports progress while it runs, in order, the last before its result`, async () => {
      await withPool(mode, { tasks: PARITY, size: 1 }, async (pool) => {
        const events: (Step | 'result')[] = [];
        const result = await within(
          pool.run(task, [20, 10], { onProgress: (step) => void events.push(step as Step) }).then((value) => {
            events.push('result');
            return value;
          }),
          20_000,
          task,
        );
        assert.is(result, 20);
        assert.is(events.at(-1), 'result', 'nothing after the result');
        const reports = events.slice(0, -1) as Step[];
        assertIncreasing(reports, 20);
        assert.ok(reports.length >= 3, `reports arrived while the task ran (200 ms): ${reports.length}`);
        assert.is(reports.at(-1)!.done, 20, 'the last report arrived before the result');
      });
    });
  }

  test(`${mode}: a slow listener gets the latest report, not a backlog`, async () => {
    await withPool(mode, { tasks: PARITY, size: 1 }, async (pool) => {
      const seen: number[] = [];
      const slow = async (step: unknown) => {
        seen.push((step as Step).done);
        await new Promise((resolve) => setTimeout(resolve, 100));
      };
      // 100 reports over about 300 ms; the listener takes 100 ms each.
      assert.is(await within(pool.run('countSync', [100, 3], { onProgress: slow }), 20_000, 'countSync'), 100);
      // A backlog would call it 100 times with consecutive counts. How far each call skips
      // depends on how fast the worker runs (a loaded machine slows it), so only that it skips.
      assert.ok(seen.length >= 2 && seen.length < 50, `a handful of calls, not 100: ${seen}`);
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1], `latest first: ${seen}`);
      assert.ok(seen[1] - seen[0] > 1, `skipped to the latest: ${seen}`);
    });
  });
}

test('progress() outside a task throws; onProgress must be a function', async () => {
  assert.throws(() => progress(1), /must be called by a task running in a Troupe worker/);
  await withPool('thread', { tasks: PARITY, size: 1 }, async (pool) => {
    await rejection(pool.run('square', [1], { onProgress: 5 as never }), 'ERR_TROUPE_INVALID_ARGUMENT');
  });
});

test.run();
