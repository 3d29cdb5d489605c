// stats() of a pool whose workers are behind an agent: the agent's utilization and the queue's age.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Scope, waitFor, within } from './helpers.js';

test('an agent that ran CPU-bound tasks shows utilization; the pool too; queueAge while tasks wait', async () => {
  const scope = new Scope();
  try {
    const { pool } = await scope.schedulerWithAgent({ mode: 'thread', size: 1 });
    assert.is(pool.stats().workers[0].utilization, 0);
    // 40 tasks of 10 ms on one worker: 400 ms of task code.
    const all = Promise.all(Array.from({ length: 40 }, (_, i) => pool.run('spinTagged', [i, 10_000])));
    await waitFor(() => pool.stats().queueAge > 0, 5_000, 'tasks waiting in the queue');
    await within(all, 20_000, 'the tasks');
    const stats = pool.stats();
    const agent = stats.workers.find((w) => w.kind === 'agent')!;
    assert.ok(agent.utilization > 0.04 && agent.utilization <= 1, `agent utilization ${agent.utilization}`);
    assert.ok(Math.abs(stats.utilization - agent.utilization) < 1e-9, 'the pool is its one agent');
    assert.is(stats.queueAge, 0);
  } finally {
    await scope.close();
  }
});

test.run();
