// progress() from a task on an agent: forwarded by its router, renumbered like results.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, HOST, joined, newKey, Scope, within } from './helpers.js';

const PARITY = fixture('parity-tasks.js');

for (const mode of ['thread', 'process'] as const) {
  test(`agent (${mode}): progress reaches onProgress in order, the last before the result`, async () => {
    const scope = new Scope();
    try {
      const key = newKey();
      const { pool, log } = await scope.pool({ tasks: PARITY, size: 0, listen: { host: HOST, port: 0, authkey: key } });
      const agent = scope.childAgent({ connect: `${HOST}:${pool.address()!.port}`, tasks: PARITY, mode, size: 2 }, key);
      await joined(log, agent);
      for (const task of ['countSync', 'countAsync']) {
        // Two at once, so that reports of two tasks share the agent's messages.
        const seen: [number[], number[]] = [[], []];
        const runs = [0, 1].map((k) =>
          pool.run(task, [20, 10], { onProgress: (step) => void seen[k].push((step as { done: number }).done) }).then((value) => {
            seen[k].push(-1);
            return value;
          }),
        );
        assert.equal(await within(Promise.all(runs), 20_000, task), [20, 20]);
        for (const reports of seen) {
          assert.is(reports.at(-1), -1, 'the result last');
          const steps = reports.slice(0, -1);
          assert.ok(steps.length >= 3, `${task}: reports while it ran: ${steps}`);
          assert.is(steps.at(-1), 20);
          for (let i = 1; i < steps.length; i++) assert.ok(steps[i] > steps[i - 1], `${task} in order: ${steps}`);
        }
      }
    } finally {
      await scope.close();
    }
  });
}

test.run();
