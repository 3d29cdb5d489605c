// Actors behind CLI agents on 127.0.0.1: placement, order, calls across media, and restarts
// after the hosting agent or the agent's worker process is SIGKILLed; the scheduler's queues
// from code on the agent's workers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ActorInfo } from '../../lib/index.js';
import { fixture, HOST, joined, newKey, outcome, Scope, waitFor, within } from './helpers.js';

const ACTORS = fixture('actor-tasks.js');

interface Where {
  pid: number;
  threadId: number;
}

/** A pool with `size` local workers, listening, and one CLI agent of `agentSize` workers joined. */
async function poolAndAgent(scope: Scope, size: number, agent: { mode?: 'thread' | 'process'; size?: number; extra?: string[] } = {}) {
  const key = newKey();
  const { pool, log } = await scope.pool({ tasks: ACTORS, mode: 'thread', size, listen: { host: HOST, port: 0, authkey: key } });
  const child = scope.cliAgent({ tasks: ACTORS, size: 2, ...agent, port: pool.address()!.port, keyFile: scope.keyFile(key) });
  const info = await joined(log, child);
  return { pool, child, info };
}

async function expectCode(promise: Promise<unknown>, code: string, what: string): Promise<void> {
  const result = await outcome(promise, 15_000, what);
  assert.ok(!result.ok, `${what} should have failed`);
  if (!result.ok) assert.is(result.error.code, code, result.error.message);
}

test('an actor on an agent: messages in order, tasks and actors there reach it by name, a cycle is refused', async () => {
  const scope = new Scope();
  try {
    const { pool, child } = await poolAndAgent(scope, 0);
    const c = await within(pool.spawn('Counter', [0], { name: 'remote' }), 15_000, 'spawn on the agent');
    assert.is((await c.call<Where>('where')).pid, child.pid);
    const calls: Promise<unknown>[] = [];
    for (let i = 1; i <= 1_000; i++) {
      if (i % 4 === 0) c.tell('inc', [i]);
      else calls.push(c.call('inc', [i]));
    }
    await within(Promise.all(calls), 20_000, '1,000 messages');
    assert.equal(await c.call('log'), Array.from({ length: 1_000 }, (_, i) => i + 1));
    const total = 500_500;
    assert.is(await within(pool.run('bump', ['remote', 1]), 15_000, 'a task on the agent calling the actor'), total + 1);
    const relay = await pool.spawn('Relay', [], { name: 'relay' });
    assert.is(await within(relay.call('forward', ['remote', 'get', []]), 15_000, 'relay'), total + 1);
    await expectCode(relay.call('self', ['relay']), 'ERR_TROUPE_ACTOR_DEADLOCK', 'a call to itself');
  } finally {
    await scope.close();
  }
});

test('an agent holding its actor credit (64 per unit of capacity): the scheduler keeps within it and nothing is dropped', async () => {
  const scope = new Scope();
  try {
    const { pool, child } = await poolAndAgent(scope, 0, { size: 1, extra: ['--max-in-flight', '1'] });
    const actors = await Promise.all(Array.from({ length: 3 }, () => pool.spawn('Counter', [0])));
    assert.is((await actors[0].call<Where>('where')).pid, child.pid);
    const calls = actors.flatMap((a) => Array.from({ length: 300 }, (_, i) => a.call('inc', [i + 1])));
    await within(Promise.all(calls), 20_000, '900 calls through a credit of 64');
    for (const a of actors) assert.equal(await a.call('log'), Array.from({ length: 300 }, (_, i) => i + 1));
    assert.ok(!child.exited && pool.stats().workers.length === 1, 'the agent kept its connection');
  } finally {
    await scope.close();
  }
});

test("calls that time out on an agent-hosted actor are dropped there and give back the agent's credit", async () => {
  const scope = new Scope();
  try {
    const { pool } = await poolAndAgent(scope, 0, { size: 1, extra: ['--max-in-flight', '1'] });
    const c = await pool.spawn('Counter', [0]);
    const slow = c.call('slowInc', [1_500]);
    const doomed = Array.from({ length: 60 }, () => c.call('inc', [1], { timeout: 100 }));
    for (const call of doomed) await expectCode(call, 'ERR_TROUPE_TIMEOUT', 'a call past its timeout');
    await within(slow, 10_000, 'the slow call');
    const after = await within(Promise.all(Array.from({ length: 60 }, () => c.call('inc', [1]))), 15_000, 'sixty more calls');
    assert.equal(after, Array.from({ length: 60 }, (_, i) => i + 2), 'none of the dropped calls ran');
  } finally {
    await scope.close();
  }
});

test('actors on a local worker and on an agent call each other; placement is honoured', async () => {
  const scope = new Scope();
  try {
    const { pool, child, info } = await poolAndAgent(scope, 1);
    const local = await pool.spawn('Counter', [0], { name: 'local', place: 'local' });
    const far = await pool.spawn('Relay', [], { name: 'far', place: { agent: info.id } });
    const near = await pool.spawn('Relay', [], { name: 'near', place: 'local' });
    assert.is((await far.call<Where>('where')).pid, child.pid);
    assert.is((await near.call<Where>('where')).pid, process.pid);
    assert.is((await local.call<Where>('where')).pid, process.pid);
    assert.is(await within(far.call('forward', ['local', 'inc', [3]]), 15_000, 'agent -> local'), 3);
    await pool.spawn('Counter', [100], { name: 'farCounter', place: { agent: info.id } });
    assert.is(await within(near.call('forward', ['farCounter', 'inc', [1]]), 15_000, 'local -> agent'), 101);
    await pool.spawn('Ping', [], { name: 'ping', place: 'local' });
    await pool.spawn('Pong', [], { name: 'pong', place: { agent: info.id } });
    await expectCode(pool.actor('ping').call('ping', ['ping', 'pong']), 'ERR_TROUPE_ACTOR_DEADLOCK', 'local -> agent -> local');
  } finally {
    await scope.close();
  }
});

test('SIGKILL of the hosting agent: the pending call rejects with ERR_TROUPE_ACTOR_LOST and the actor restarts on a live worker', async () => {
  const scope = new Scope();
  try {
    const { pool, child } = await poolAndAgent(scope, 1);
    // The agent's two workers host nothing yet and the local worker hosts one: the next goes to the agent.
    await pool.spawn('Counter', [0], { place: 'local' });
    const c = await pool.spawn('Counter', [7], { name: 'roamer' });
    assert.is((await c.call<Where>('where')).pid, child.pid);
    await c.call('inc', [1]);
    const pending = c.call('slowInc', [30_000]);
    const restarted = new Promise<ActorInfo>((resolve) => pool.on('actorRestart', (actor) => actor.name === 'roamer' && resolve(actor)));
    child.kill('SIGKILL');
    await expectCode(pending, 'ERR_TROUPE_ACTOR_LOST', 'the call pending on the killed agent');
    await within(restarted, 15_000, 'actorRestart');
    assert.is((await within(c.call<Where>('where'), 15_000, 'the restarted actor')).pid, process.pid);
    assert.is(await c.call('get'), 7);
  } finally {
    await scope.close();
  }
});

test("SIGKILL of an agent's worker process hosting the actor: it restarts, the agent stays", async () => {
  const scope = new Scope();
  try {
    const { pool, child, info } = await poolAndAgent(scope, 0, { mode: 'process', size: 2 });
    const c = await pool.spawn('Counter', [3], { name: 'inner' });
    const before = await c.call<Where>('where');
    assert.is.not(before.pid, child.pid, 'it lives in a worker process of the agent');
    const pending = c.call('slowInc', [30_000]);
    process.kill(before.pid, 'SIGKILL');
    await expectCode(pending, 'ERR_TROUPE_ACTOR_LOST', 'the call pending in the killed worker');
    await waitFor(() => c.info()?.restarts === 1 && c.info()?.worker !== undefined, 15_000, 'the restart');
    const after = await within(c.call<Where>('where'), 15_000, 'the restarted actor');
    assert.is.not(after.pid, before.pid);
    assert.is(await c.call('get'), 3);
    assert.ok(pool.stats().workers.some((w) => w.id === `agent-${info.id}`), 'the agent is still attached');
  } finally {
    await scope.close();
  }
});

test("code on an agent's workers consumes and fills the scheduler's named queues", async () => {
  const scope = new Scope();
  try {
    const { pool } = await poolAndAgent(scope, 0);
    const jobs = pool.queue<number>('jobs', { capacity: 10 });
    const out = pool.queue<number>('out');
    const consumers = [pool.run<number>('squareAll', ['jobs', 'out']), pool.run<number>('squareAll', ['jobs', 'out'])];
    for (let n = 0; n < 100; n++) await within(jobs.put(n), 10_000, `put ${n}`);
    jobs.close();
    const results: number[] = [];
    for (let i = 0; i < 100; i++) results.push(await within(out.get(), 10_000, `result ${i}`));
    const counts = await within(Promise.all(consumers), 10_000, 'the consumers to end');
    assert.is(counts[0] + counts[1], 100);
    assert.equal(results.sort((a, b) => a - b), Array.from({ length: 100 }, (_, n) => n * n));
  } finally {
    await scope.close();
  }
});

test("an item held by an agent's worker that dies goes back to the front while the agent stays", async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log } = await scope.pool({ tasks: ACTORS, size: 0, retries: 0, listen: { host: HOST, port: 0, authkey: key } });
    const child = scope.cliAgent({ tasks: ACTORS, mode: 'process', size: 2, port: pool.address()!.port, keyFile: scope.keyFile(key) });
    const info = await joined(log, child);
    const jobs = pool.queue<number>('jobs');
    for (let n = 0; n < 5; n++) await jobs.put(n);
    await expectCode(pool.run('crashAt', ['jobs', 2]), 'ERR_TROUPE_WORKER_LOST', 'the task whose worker exits holding item 2');
    assert.is(await within(jobs.get(), 10_000, 'item 2, given back by the agent'), 2);
    assert.is(await jobs.get(), 3);
    assert.ok(pool.stats().workers.some((w) => w.id === `agent-${info.id}`), 'the agent is still attached');
  } finally {
    await scope.close();
  }
});

test.run();
