// Agents started through the CLI join a listening pool, announce what they run, and get
// exactly the tasks they can run.
import { hostname } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AGENT_TASKS, HOST, THREADS, Scope, TASKS, TASK_NAMES, countByPid, describeCounts, joined, newKey, parentPid, runMany, waitFor, within,
  type Tagged,
} from './helpers.js';

test('a CLI agent joins with its names and capacity, and runs tasks in its own worker processes', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log } = await scope.pool({ tasks: TASKS, ...THREADS, size: 1, listen: { host: HOST, port: 0, authkey: key } });
    const { port } = pool.address()!;
    const agent = scope.cliAgent({ port, keyFile: scope.keyFile(key), mode: 'process', size: 1 });
    const info = await joined(log, agent);

    assert.equal([...info.names].sort(), TASK_NAMES);
    assert.is(info.mode, 'process');
    assert.is(info.parallelism, 1);
    assert.is(info.capacity, 1024, 'one worker process × the default maxInFlight');
    assert.is(info.hostname, hostname());
    assert.match(info.address, /127\.0\.0\.1$/);
    assert.match(info.id, /^[0-9a-f-]{36}$/);
    assert.ok(
      pool.stats().workers.some((w) => w.kind === 'agent' && w.pid === agent.pid),
      `stats() lists the agent: ${JSON.stringify(pool.stats().workers)}`,
    );

    const results = await runMany<Tagged>(pool, 'tagged', 200, (i) => [i], 15_000);
    results.forEach((r, i) => assert.is(r.value, i * i));
    const counts = countByPid(results);
    const remote = [...counts.keys()].filter((pid) => pid !== process.pid);
    assert.ok(remote.length > 0, `some tasks ran on the agent (${describeCounts(counts)})`);
    for (const pid of remote) {
      assert.is.not(pid, agent.pid, 'a process-mode agent runs tasks in worker processes, not in itself');
      if (process.platform === 'linux') assert.is(parentPid(pid), agent.pid, `pid ${pid} is a worker of the agent`);
    }
  } finally {
    await scope.close();
  }
});

test("an agent's extra task runs on that agent only; the pool's workers never get it", async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log } = await scope.pool({ tasks: TASKS, ...THREADS, size: 1, listen: { host: HOST, port: 0, authkey: key } });
    const agent = scope.cliAgent({ port: pool.address()!.port, keyFile: scope.keyFile(key), tasks: AGENT_TASKS });
    const info = await joined(log, agent);
    assert.ok(info.names.includes('agentOnly'), `announced names: ${info.names}`);

    const onlyAgent: Promise<Tagged>[] = [];
    const either: Promise<Tagged>[] = [];
    for (let i = 0; i < 300; i++) {
      onlyAgent.push(pool.run<Tagged>('agentOnly', [i]));
      either.push(pool.run<Tagged>('tagged', [i]));
    }
    const [extra, common] = await within(Promise.all([Promise.all(onlyAgent), Promise.all(either)]), 20_000, '600 tasks');
    extra.forEach((r, i) => assert.is(r.value, i + 1000));
    common.forEach((r, i) => assert.is(r.value, i * i));
    const counts = countByPid(extra);
    assert.equal([...counts.keys()], [agent.pid], `every agentOnly task ran on the agent (${describeCounts(counts)})`);
  } finally {
    await scope.close();
  }
});

test('with size 0, a task submitted before any agent joins waits, then runs on the first agent', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log } = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key } });
    let settled = false;
    const result = pool.run<Tagged>('tagged', [7]).finally(() => (settled = true));
    await waitFor(() => pool.stats().queued === 1, 2000, 'the task to be queued');
    let settledAtJoin: boolean | undefined;
    pool.once('agentJoin', () => (settledAtJoin = settled));

    const agent = scope.cliAgent({ port: pool.address()!.port, keyFile: scope.keyFile(key) });
    await joined(log, agent);
    assert.is(settledAtJoin, false, 'the task was still waiting when the agent joined');
    const r = await within(result, 10_000, 'the waiting task');
    assert.equal([r.value, r.pid], [49, agent.pid]);
    assert.is(pool.stats().queued, 0);
  } finally {
    await scope.close();
  }
});

test.run();
