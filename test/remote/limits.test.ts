// Timeouts and cancellation of tasks running on an agent, and the agent's announced
// capacity as a hard limit on what the scheduler keeps in flight to it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  HOST, Scope, TASKS, joined, newKey, outcome, parentPid, pidAlive, runMany, waitFor, within, type Tagged,
} from './helpers.js';

interface Where {
  pid: number;
  threadId: number;
}

test('a busy-looping task on a process-mode agent times out; its worker is replaced and the agent goes on', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log } = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key } });
    const agent = scope.cliAgent({ port: pool.address()!.port, keyFile: scope.keyFile(key), mode: 'process', size: 1 });
    await joined(log, agent);
    const before = await within(pool.run<Where>('whoami'), 10_000, 'whoami before');
    assert.is(parentPid(before.pid) ?? agent.pid, agent.pid);

    const started = Date.now();
    const stuck = await outcome(pool.run('spinForever', [], { timeout: 500 }), 5000, 'the timeout');
    assert.not.ok(stuck.ok);
    if (!stuck.ok) assert.is(stuck.error.code, 'ERR_TROUPE_TIMEOUT', stuck.error.message);
    assert.ok(Date.now() - started < 3000, `rejected after ${Date.now() - started} ms`);

    const after = await within(pool.run<Where>('whoami'), 15_000, 'whoami after the timeout');
    assert.is.not(after.pid, before.pid, 'a new worker process');
    assert.is(parentPid(after.pid) ?? agent.pid, agent.pid);
    await waitFor(() => !pidAlive(before.pid), 5000, `the stuck worker ${before.pid} to be gone`);
    const results = await runMany<Tagged>(pool, 'tagged', 100, (i) => [i], 10_000);
    results.forEach((r, i) => assert.equal([r.value, r.pid], [i * i, after.pid]));
    assert.is(log.leaves.length, 0, 'the agent stayed connected');
  } finally {
    await scope.close();
  }
});

test('on a thread-mode agent, timeout and abort each stop the looping thread; the agent goes on', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log } = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key } });
    const agent = scope.cliAgent({ port: pool.address()!.port, keyFile: scope.keyFile(key), mode: 'thread', size: 1 });
    await joined(log, agent);
    let where = await within(pool.run<Where>('whoami'), 10_000, 'whoami');
    assert.is(where.pid, agent.pid);

    const timedOut = await outcome(pool.run('spinForever', [], { timeout: 300 }), 5000, 'the timeout');
    assert.is(timedOut.ok ? 'resolved' : timedOut.error.code, 'ERR_TROUPE_TIMEOUT');
    const afterTimeout = await within(pool.run<Where>('whoami'), 15_000, 'whoami after the timeout');
    assert.is.not(afterTimeout.threadId, where.threadId, 'a new thread');
    where = afterTimeout;

    const controller = new AbortController();
    const aborted = pool.run('spinForever', [], { signal: controller.signal });
    await waitFor(() => pool.stats().running === 1, 5000, 'the task to be dispatched to the agent');
    controller.abort();
    const result = await outcome(aborted, 5000, 'the abort');
    assert.is(result.ok ? 'resolved' : result.error.code, 'ERR_TROUPE_ABORTED');
    const afterAbort = await within(pool.run<Where>('whoami'), 15_000, 'whoami after the abort');
    assert.is.not(afterAbort.threadId, where.threadId, 'a new thread');
    assert.is(afterAbort.pid, agent.pid);
    assert.is(log.leaves.length, 0, 'the agent stayed connected');
  } finally {
    await scope.close();
  }
});

for (const mode of ['thread', 'process'] as const) {
  test(`${mode}-mode agent at its capacity: a task that times out makes room for the next at once, and the agent stays connected`, async () => {
    const scope = new Scope();
    try {
      const key = newKey();
      const { pool, log } = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key } });
      const agent = scope.cliAgent({ port: pool.address()!.port, keyFile: scope.keyFile(key), mode, size: 1, extra: ['--max-in-flight', '1'] });
      await joined(log, agent);
      // The next task is sent as soon as the stuck one is cancelled, before its worker is gone.
      const stuck = outcome(pool.run('spinForever', [], { timeout: 300 }), 5000, 'the timeout');
      const next = within(pool.run<number>('square', [5]), 15_000, 'the task behind it');
      const timedOut = await stuck;
      assert.is(timedOut.ok ? 'resolved' : timedOut.error.code, 'ERR_TROUPE_TIMEOUT');
      assert.is(await next, 25);
      assert.is(log.leaves.length, 0, 'the agent stayed connected');
    } finally {
      await scope.close();
    }
  });
}

test('a result larger than the agent\'s maxFrameBytes fails that task only; the agent survives', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log } = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key } });
    const options = { connect: `${HOST}:${pool.address()!.port}`, tasks: TASKS, mode: 'thread', size: 1, maxFrameBytes: 1 << 20 };
    const agent = scope.childAgent(options, key);
    await joined(log, agent);

    const task = outcome(pool.run('blob', [2 << 20]), 10_000, 'the task with a 2 MiB result');
    // Should the agent die instead, the task would wait for another agent: fail at once then.
    await Promise.race([task, agent.exit]);
    assert.not.ok(agent.exited, `the agent died:\n${agent.describe()}`);
    const big = await task;
    assert.is(big.ok ? 'resolved' : big.error.code, 'ERR_TROUPE_FRAME_TOO_LARGE', big.ok ? '' : big.error.message);
    assert.is(log.leaves.length, 0, 'the agent stayed connected');
    const small = await within(pool.run<Uint8Array>('blob', [1000]), 10_000, 'a task with a small result');
    assert.is(small.length, 1000);
  } finally {
    await scope.close();
  }
});

const CAPACITIES = [
  { mode: 'thread', size: 1, maxInFlight: 2 },
  { mode: 'process', size: 2, maxInFlight: 1 },
] as const;

for (const { mode, size, maxInFlight } of CAPACITIES) {
  test(`back-pressure: never more in flight to an agent than it announced (${mode}, size ${size}, maxInFlight ${maxInFlight})`, async () => {
    const scope = new Scope();
    try {
      const key = newKey();
      const { pool, log } = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key } });
      const agent = scope.childAgent({ connect: `${HOST}:${pool.address()!.port}`, tasks: TASKS, mode, size, maxInFlight }, key);
      const info = await joined(log, agent);
      const capacity = size * maxInFlight;
      assert.is(info.capacity, capacity);

      let settled = false;
      const all = runMany<Tagged>(pool, 'slowTagged', 150, (i) => [i, 5], 30_000).finally(() => (settled = true));
      let most = 0;
      let queued = 0;
      const deadline = Date.now() + 30_000;
      while (!settled && Date.now() < deadline) {
        const stats = pool.stats();
        const inFlight = stats.workers.filter((w) => w.kind === 'agent').reduce((sum, w) => sum + w.inFlight, 0);
        most = Math.max(most, inFlight);
        queued = Math.max(queued, stats.queued);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const results = await all;
      results.forEach((r, i) => assert.is(r.value, i * i));
      assert.ok(most <= capacity, `${most} in flight to an agent of capacity ${capacity}`);
      assert.is(most, capacity, 'the agent was kept full');
      assert.ok(queued > 100, `the rest waited at the scheduler (at most ${queued} queued)`);
    } finally {
      await scope.close();
    }
  });
}

test.run();
