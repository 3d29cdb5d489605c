// The typed proxy with run options: `pool.tasks<T>().with({ signal, timeout, transfer })`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MODES, rejection, withPool, within } from './helpers.js';

type Tasks = typeof import('../fixtures/e2e-tasks.js');

for (const mode of MODES) {
  test(`${mode}: tasks.with({ signal }) and tasks.with({ timeout }) apply to the calls made through them`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const tasks = pool.tasks<Tasks>();
      await rejection(tasks.with({ signal: AbortSignal.abort() }).square(7), 'ERR_TROUPE_ABORTED');
      const controller = new AbortController();
      const sleeping = tasks.with({ signal: controller.signal }).sleep(60_000, 'never');
      controller.abort();
      await rejection(sleeping, 'ERR_TROUPE_ABORTED');
      await rejection(tasks.with({ timeout: 50 }).sleep(60_000), 'ERR_TROUPE_TIMEOUT');
      // Options merge: the inner timeout and the outer signal both hold.
      const late = tasks.with({ signal: new AbortController().signal }).with({ timeout: 50 });
      await rejection(late.sleep(60_000), 'ERR_TROUPE_TIMEOUT');
      // The plain proxy and a with() proxy are independent.
      const n: number = await within(tasks.square(7), 10_000, 'a plain call');
      assert.is(n, 49);
      assert.is(await within(tasks.with({ timeout: 10_000 }).square(8), 10_000, 'a call with a timeout'), 64);
      // Checked by tsc, never run: a with() proxy keeps the task types.
      const typeChecks = () => {
        // @ts-expect-error square takes a number
        void tasks.with({}).square('7');
        // @ts-expect-error no such option
        void tasks.with({ retries: 3 });
      };
      void typeChecks;
    });
  });

  test(`${mode}: tasks.with({ transfer }) moves the buffers, and bad options throw at once`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const tasks = pool.tasks<Tasks>();
      const bytes = new Uint8Array([1, 2, 3]);
      const back = (await within(tasks.with({ transfer: [bytes.buffer] }).echo(bytes), 10_000, 'echo')) as Uint8Array;
      assert.equal([...back], [1, 2, 3]);
      if (mode === 'thread') assert.is(bytes.byteLength, 0, 'moved, not copied');
      assert.throws(() => tasks.with({ timeout: -1 }), (e: Error & { code?: string }) => e.code === 'ERR_TROUPE_INVALID_ARGUMENT');
      assert.throws(() => tasks.with({ signal: 'soon' as never }), /options\.signal must be an AbortSignal/);
    });
  });
}

test.run();
