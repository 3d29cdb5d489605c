// How an agent leaves and comes back: a clean stop is a clean leave (a goodbye before the
// close), a long outage is followed by a prompt rejoin, and huge delays stay delays.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, createPool, startAgent } from '../../lib/index.js';
import { reconnectBackoff } from '../../lib/agent/agent.js';
import { MAX_DELAY_MS } from '../../lib/timers.js';
import { HOST, joined, newKey, record, Scope, TASKS, THREADS, waitFor, within } from './helpers.js';

test('agent.close() reaches the scheduler as a clean leave: agentLeave without an error', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log } = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key } });
    const agent = await within(
      startAgent({ connect: { host: HOST, port: pool.address()!.port }, authkey: key, tasks: TASKS, size: 1, ...THREADS }),
      20_000,
      'the agent to join',
    );
    scope.defer(() => agent.close());
    await waitFor(() => log.joins.length === 1, 5_000, 'agentJoin');
    await within(agent.close(), 10_000, 'agent.close()');
    await waitFor(() => log.leaves.length === 1, 5_000, 'agentLeave');
    assert.is(log.leaves[0].error, undefined, `left with ${log.leaves[0].error?.message}`);
  } finally {
    await scope.close();
  }
});

test('SIGTERM to a CLI agent is a clean leave too', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log } = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key } });
    const agent = scope.cliAgent({ port: pool.address()!.port, keyFile: scope.keyFile(key), mode: 'process' });
    await joined(log, agent);
    agent.kill('SIGTERM');
    assert.is((await agent.waitExit(10_000, 'the agent to stop')).code, 0, agent.describe());
    await waitFor(() => log.leaves.length === 1, 5_000, 'agentLeave');
    assert.is(log.leaves[0].error, undefined, `left with ${log.leaves[0].error?.message}`);
  } finally {
    await scope.close();
  }
});

test('reconnect pauses double up to the cap, with jitter, and never past what setTimeout honours', () => {
  assert.equal([0, 1, 2, 3].map((n) => reconnectBackoff(n, 100, 2_000, 1 - Number.EPSILON)), [100, 200, 400, 800].map((ms) => ms * (1 - Number.EPSILON / 2)));
  assert.is(reconnectBackoff(10, 100, 2_000, 0), 1_000, 'half the cap at the lowest jitter');
  assert.ok(reconnectBackoff(60, 100, 2 ** 40, 0.999) <= MAX_DELAY_MS);
  assert.ok(reconnectBackoff(60, 100, Infinity, 0.999) <= MAX_DELAY_MS);
});

test('huge reconnect delays are clamped, not turned into a retry every millisecond', async () => {
  const agent = await within(
    Agent.create({ connect: `${HOST}:1`, authkey: newKey(), tasks: TASKS, size: 1, ...THREADS, reconnectDelay: 2 ** 33, maxReconnectDelay: 2 ** 34 }),
    20_000,
    'the agent to start its workers',
  );
  const failures: number[] = [];
  agent.on('connectFailed', ({ retryIn }) => failures.push(retryIn));
  try {
    const joining = agent.join();
    await waitFor(() => failures.length > 0, 5_000, 'the first failed attempt');
    // Refused at once on 127.0.0.1:1: an overflowing timer would retry within a few ms.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.is(failures.length, 1, `${failures.length} attempts in 300 ms`);
    assert.ok(failures[0] > 2 ** 30 && failures[0] <= MAX_DELAY_MS, `next attempt in ${failures[0]} ms`);
    await within(agent.close(), 10_000, 'agent.close()');
    await within(joining, 5_000, 'join() to return once closed');
  } finally {
    await agent.close();
  }
});

test('after a 10 s outage of its scheduler, an agent rejoins within 3 s of it being back on the same port', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const options = { tasks: TASKS, size: 0 };
    const first = await within(createPool({ ...options, listen: { host: HOST, port: 0, authkey: key } }), 10_000, 'the first pool');
    const port = first.address()!.port;
    const agent = scope.cliAgent({ port, keyFile: scope.keyFile(key) });
    let firstLog = record(first);
    try {
      await joined(firstLog, agent);
    } finally {
      await within(first.destroy(), 10_000, 'the first pool to stop');
    }
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const back = Date.now();
    const { pool, log } = await scope.pool({ ...options, listen: { host: HOST, port, authkey: key } });
    await joined(log, agent, 10_000);
    const took = Date.now() - back;
    assert.ok(took <= 3_000, `rejoined ${took} ms after the scheduler was back\n${agent.describe()}`);
    const r = await within(pool.run<{ value: number }>('tagged', [4]), 10_000, 'a task on the rejoined agent');
    assert.is(r.value, 16);
    firstLog = undefined!;
  } finally {
    await scope.close();
  }
});

test.run();
