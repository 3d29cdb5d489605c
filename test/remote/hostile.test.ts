// Hostile input on the pool's listening port, while a good CLI agent keeps working: peers
// without the key (garbage, half handshakes, silence) and peers with it that break the
// agent protocol. Each offender's connection is closed; the pool, its tasks and the good
// agent go on, and nothing reaches the pool process as an uncaught exception.
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Pool } from '../../lib/index.js';
import {
  AGENT_CALL, AGENT_HELLO, AGENT_LOST, AGENT_PROTOCOL_VERSION, AGENT_RESULTS, AGENT_RUN, type AgentHello,
} from '../../lib/backends/remote-protocol.js';
import { serializeError } from '../../lib/errors.js';
import { entryCount } from '../../lib/worker/batch.js';
import { parseAnyBatch } from '../../lib/worker/compact-forms.js';
import { resultsOf } from './wire.js';
import { clientHandshake, helloMessage } from '../../lib/transport/auth.js';
import { encodeFrameHeader, encodeFrame } from '../../lib/transport/framing.js';
import { connect } from '../../lib/transport/index.js';
import { HOST, Scope, TASKS, joined, newKey, outcome, runMany, waitFor, within, type Child, type PoolLog, type Tagged } from './helpers.js';

/** Whatever escapes to the process: with these handlers it is recorded instead of crashing it. */
const uncaught: unknown[] = [];
process.on('uncaughtException', (error) => uncaught.push(error));
process.on('unhandledRejection', (error) => uncaught.push(error));

function noUncaught(): void {
  const stacks = uncaught.map((e) => (e instanceof Error ? e.stack : String(e))).join('\n');
  assert.is(uncaught.length, 0, `uncaught in the pool process (it would have crashed):\n${stacks}`);
}

const HANDSHAKE_TIMEOUT_MS = 500;

interface Setup {
  pool: Pool;
  log: PoolLog;
  port: number;
  key: Buffer;
  good: Child;
}

/** A pure scheduler (size 0), so every task must run on the good agent or an offender. */
async function setup(scope: Scope): Promise<Setup> {
  uncaught.length = 0;
  const key = newKey();
  const { pool, log } = await scope.pool({
    tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS },
  });
  const port = pool.address()!.port;
  const good = scope.cliAgent({ port, keyFile: scope.keyFile(key) });
  await joined(log, good);
  return { pool, log, port, key, good };
}

/** The pool still runs tasks on the good agent, which never left. */
async function stillServing({ pool, log, good }: Setup): Promise<void> {
  const results = await runMany<Tagged>(pool, 'tagged', 50, (i) => [i], 10_000);
  results.forEach((r, i) => assert.equal([r.value, r.pid], [i * i, good.pid]));
  assert.not.ok(log.leaves.some((l) => l.agent.pid === good.pid), 'the good agent never left');
  noUncaught();
}

/** A raw TCP client: what it received, and when the pool closed it. */
function rawClient(port: number, scope: Scope) {
  const socket = net.connect({ host: HOST, port });
  scope.defer(() => socket.destroy());
  const chunks: Buffer[] = [];
  socket.on('data', (chunk) => chunks.push(chunk));
  socket.on('error', () => {});
  const connected = new Promise<void>((resolve) => socket.once('connect', resolve));
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
  return { socket, connected, closed, received: () => Buffer.concat(chunks) };
}

async function waitAuthFailure(log: PoolLog, count: number, code: string): Promise<void> {
  await waitFor(() => log.authFailures.length >= count, 3000, `authFailure #${count}`);
  const error = log.authFailures[count - 1].error as Error & { code?: string };
  assert.is(error.code, code, error.message);
}

test('garbage instead of a handshake is answered with the FAIL byte and closed', async () => {
  const scope = new Scope();
  try {
    const s = await setup(scope);
    const client = rawClient(s.port, scope);
    await within(client.connected, 3000, 'connecting');
    const garbage = randomBytes(4096);
    garbage[0] = 0; // never "TROUPE"
    client.socket.write(garbage);
    await within(client.closed, 3000, 'the pool to close the garbage connection');
    assert.equal([...client.received()], [0x15]);
    await waitAuthFailure(s.log, 1, 'ERR_TROUPE_AUTH');
    await stillServing(s);
  } finally {
    await scope.close();
  }
});

test('half a handshake, or nothing at all, is cut at handshakeTimeoutMs', async () => {
  const scope = new Scope();
  try {
    const s = await setup(scope);
    const half = rawClient(s.port, scope);
    const silent = rawClient(s.port, scope);
    await within(Promise.all([half.connected, silent.connected]), 3000, 'connecting');
    const started = Date.now();
    half.socket.write(helloMessage(randomBytes(32)).subarray(0, 20));
    const [halfClosed, silentClosed] = await within(Promise.all([half.closed, silent.closed]), 3000, 'both to be cut');
    for (const closedAt of [halfClosed, silentClosed]) {
      const after = closedAt - started;
      assert.ok(after >= HANDSHAKE_TIMEOUT_MS - 50 && after < HANDSHAKE_TIMEOUT_MS + 1500, `cut after ${after} ms`);
    }
    await waitAuthFailure(s.log, 2, 'ERR_TROUPE_HANDSHAKE_TIMEOUT');
    await stillServing(s);
  } finally {
    await scope.close();
  }
});

test('a valid HELLO followed by a wrong proof is refused', async () => {
  const scope = new Scope();
  try {
    const s = await setup(scope);
    const client = rawClient(s.port, scope);
    await within(client.connected, 3000, 'connecting');
    client.socket.write(helloMessage(randomBytes(32)));
    await waitFor(() => client.received().length >= 65, 3000, 'the challenge');
    assert.is(client.received()[0], 0x53);
    client.socket.write(randomBytes(32));
    await within(client.closed, 3000, 'the pool to close the connection');
    assert.is(client.received()[65], 0x15, 'FAIL after the challenge');
    await waitAuthFailure(s.log, 1, 'ERR_TROUPE_AUTH');
    await stillServing(s);
  } finally {
    await scope.close();
  }
});

test('a hundred silent connections at once do not stop the pool, and are all cut', async () => {
  const scope = new Scope();
  try {
    const s = await setup(scope);
    const clients = Array.from({ length: 100 }, () => rawClient(s.port, scope));
    await within(Promise.all(clients.map((c) => c.connected)), 5000, 'connecting');
    await stillServing(s);
    await within(Promise.all(clients.map((c) => c.closed)), 5000, 'all of them to be cut');
    await stillServing(s);
  } finally {
    await scope.close();
  }
});

// ——— peers that know the key ———

function helloOf(pid: number, overrides: Partial<AgentHello> = {}): AgentHello {
  return {
    version: AGENT_PROTOCOL_VERSION, agentId: `fake-${randomBytes(4).toString('hex')}`, hostname: 'fake', pid, names: ['tagged'],
    parallelism: 1, capacity: 8, mode: 'thread', ...overrides,
  };
}

/** An authenticated connection to the pool, its messages recorded. */
async function fakeAgent(s: Setup, scope: Scope) {
  const connection = await within(connect({ host: HOST, port: s.port, authkey: s.key }), 5000, 'an authenticated connection');
  scope.defer(() => connection.destroy());
  const messages: [number, unknown][] = [];
  connection.on('message', (type, value) => messages.push([type, value]));
  let closed = false;
  const close = new Promise<Error | undefined>((resolve) =>
    connection.once('close', (error) => {
      closed = true;
      resolve(error);
    }),
  );
  return { connection, messages, close, isClosed: () => closed };
}

/** Waits until the pool closed `fake`, or something escaped to the process: the latter fails. */
async function closedByPool(fake: { isClosed(): boolean }, what: string): Promise<void> {
  await waitFor(() => fake.isClosed() || uncaught.length > 0, 6000, `the pool to close ${what}`);
  noUncaught();
}

const BAD_HELLOS: [string, unknown][] = [
  ['not an object', 'hello'],
  ['another protocol version', helloOf(1, { version: 1 })],
  ['a parallelism that would claim the whole pool', helloOf(1, { parallelism: 1_000_000 })],
  ['too many names', helloOf(1, { names: Array.from({ length: 10_001 }, (_, i) => `n${i}`) })],
  ['capacity 0', helloOf(1, { capacity: 0 })],
  ['names that are not strings', helloOf(1, { names: [1, 2] as unknown as string[] })],
  ['an unknown mode', helloOf(1, { mode: 'gpu' as 'thread' })],
];

test('an authenticated peer with a bad hello is closed and never joins', async () => {
  const scope = new Scope();
  try {
    const s = await setup(scope);
    for (const [what, hello] of BAD_HELLOS) {
      const fake = await fakeAgent(s, scope);
      fake.connection.send(AGENT_HELLO, hello);
      await closedByPool(fake, `a peer whose hello is ${what}`);
    }
    assert.is(s.log.joins.length, 1, 'only the good agent joined');
    await stillServing(s);
  } finally {
    await scope.close();
  }
});

test('an unknown message type, instead of a hello or after one, closes the connection', async () => {
  const scope = new Scope();
  try {
    const s = await setup(scope);
    const first = await fakeAgent(s, scope);
    first.connection.send(200, { hello: 'no' });
    await closedByPool(first, 'a peer that starts with message type 200');

    const second = await fakeAgent(s, scope);
    const hello = helloOf(999_999);
    second.connection.send(AGENT_HELLO, hello);
    await waitFor(() => s.log.joins.some((a) => a.id === hello.agentId), 3000, 'the fake agent to join');
    second.connection.send(200, { what: 'is this' });
    await closedByPool(second, 'a joined peer that sends message type 200');
    await waitFor(() => s.log.leaves.some((l) => l.agent.id === hello.agentId), 3000, 'agentLeave of the fake agent');
    await stillServing(s);
  } finally {
    await scope.close();
  }
});

test('an authenticated peer that never says hello is closed (after the 5 s hello deadline)', async () => {
  const scope = new Scope();
  try {
    const s = await setup(scope);
    const fake = await fakeAgent(s, scope);
    await stillServing(s);
    await within(fake.close, 8000, 'the pool to close a peer that never says hello');
    assert.is(s.log.joins.length, 1);
    await stillServing(s);
  } finally {
    await scope.close();
  }
});

/** A joined fake agent that has been handed a batch; resolves with it and the tasks in flight. */
async function fakeWithWork(s: Setup, scope: Scope) {
  const fake = await fakeAgent(s, scope);
  // Capacity 1: it holds exactly one task, and none of the later ones can go to it.
  const hello = helloOf(999_999, { capacity: 1 });
  fake.connection.send(AGENT_HELLO, hello);
  await waitFor(() => s.log.joins.some((a) => a.id === hello.agentId), 3000, 'the fake agent to join');
  const tasks = runMany<Tagged>(s.pool, 'tagged', 40, (i) => [i], 15_000);
  tasks.catch(() => {}); // awaited by the test
  await waitFor(() => fake.messages.some(([type]) => type === AGENT_RUN), 5000, 'a batch for the fake agent');
  const batch = parseAnyBatch(fake.messages.find(([type]) => type === AGENT_RUN)![1]);
  return { fake, hello, tasks, firstId: batch.base };
}

/** The wire ids of every task a fake agent was given. */
function givenIds(messages: [number, unknown][]): number[] {
  return messages
    .filter(([type]) => type === AGENT_RUN)
    .flatMap(([, run]) => {
      const batch = parseAnyBatch(run);
      return Array.from({ length: entryCount(batch) }, (_, i) => batch.base + i);
    });
}

function sparse(): unknown[] {
  const array: unknown[] = [];
  array.length = 2 ** 32 - 1;
  return array;
}

const GARBAGE_RESULTS: [string, (id: number) => [number, unknown]][] = [
  ['a RUN frame (scheduler → agent) sent to the scheduler', (id) => [AGENT_RUN, { base: id, name: 'tagged', one: [1] }]],
  ['results that are not an object', () => [AGENT_RESULTS, 'garbage']],
  ['results whose values are not an array', (id) => [AGENT_RESULTS, { base: id, values: 'garbage', busy: 0, run: 0 }]],
  ['results whose values are a sparse array of length 2^32-1', (id) => [AGENT_RESULTS, { base: id, values: sparse(), busy: 0, run: 0 }]],
  ['results whose ids are a sparse array of length 2^32-1', (id) => [AGENT_RESULTS, { base: id, ids: sparse(), values: [1], busy: 0, run: 0 }]],
  ['a failure index past the values', (id) => [AGENT_RESULTS, { base: id, values: [1], failed: [5], busy: 0, run: 0 }]],
  ['a negative busy time', (id) => [AGENT_RESULTS, { base: id, values: [1], busy: -1, run: 0 }]],
  ['a lost message whose ids are a sparse array of length 2^32-1', () => [AGENT_LOST, { ids: sparse(), reason: 'died', error: {} }]],
  ['a lost message with an unknown reason', (id) => [AGENT_LOST, { ids: [id], reason: 'bored', error: {} }]],
  ['an actor call that is not an object', () => [AGENT_CALL, 'garbage']],
  ['an actor call whose args are a sparse array of length 2^32-1', () => [AGENT_CALL, { id: 1, actor: 'a', method: 'm', args: sparse(), tell: false, chain: [] }]],
  ['an actor call whose chain is a sparse array of length 2^32-1', () => [AGENT_CALL, { id: 1, actor: 'a', method: 'm', args: [], tell: false, chain: sparse() }]],
  ['an actor call with a method that is not a string', () => [AGENT_CALL, { id: 1, actor: 'a', method: {}, args: [], tell: true, chain: [] }]],
];

for (const [what, garbage] of GARBAGE_RESULTS) {
  test(`garbage from a joined agent (${what}): closed, its tasks run elsewhere, no crash`, async () => {
    const scope = new Scope();
    try {
      const s = await setup(scope);
      const { fake, hello, tasks, firstId } = await fakeWithWork(s, scope);
      const [type, value] = garbage(firstId);
      fake.connection.send(type, value);
      await closedByPool(fake, `an agent that sent ${what}`);
      await waitFor(() => s.log.leaves.some((l) => l.agent.id === hello.agentId), 3000, 'agentLeave of the fake agent');
      const results = await tasks;
      results.forEach((r, i) => assert.equal([r.value, r.pid], [i * i, s.good.pid]));
      await stillServing(s);
    } finally {
      await scope.close();
    }
  });
}

test('error results named like Object.prototype members reject their tasks as such, without a crash', async () => {
  // Well-formed results (a task may throw an error of any name), so the connection stays.
  const scope = new Scope();
  try {
    const s = await setup(scope);
    const fake = await fakeAgent(s, scope);
    // One worker per task, so that all four are sent before any is answered (slow start).
    fake.connection.send(AGENT_HELLO, helloOf(999_999, { names: ['fakeOnly'], parallelism: 4 }));
    const names = ['toString', 'constructor', '__proto__', 'hasOwnProperty'];
    const tasks = names.map(() => outcome(s.pool.run('fakeOnly'), 10_000, 'a fakeOnly task'));
    await waitFor(() => givenIds(fake.messages).length === names.length, 5000, 'the fakeOnly tasks');
    const ids = givenIds(fake.messages);
    const r = ids.flatMap((id, i) => [id, 1, { name: names[i], message: `named ${names[i]}` }]);
    fake.connection.send(AGENT_RESULTS, resultsOf(r));
    await waitFor(() => uncaught.length > 0 || s.pool.stats().running === 0, 5000, 'the results to be taken');
    noUncaught();
    for (const [i, result] of (await Promise.all(tasks)).entries()) {
      assert.not.ok(result.ok);
      if (result.ok) continue;
      assert.instance(result.error, Error, `"${names[i]}": ${Object.prototype.toString.call(result.error)}`);
      assert.is(result.error.name, names[i]);
    }
    assert.not.ok(fake.isClosed());
    await stillServing(s);
  } finally {
    await scope.close();
  }
});

test('a joined agent cannot settle tasks it was not given', async () => {
  const scope = new Scope();
  try {
    const s = await setup(scope);
    const { fake, tasks, firstId } = await fakeWithWork(s, scope);
    const mine = new Set(givenIds(fake.messages));
    const forged: unknown[] = [];
    for (let id = Math.max(1, firstId - 100); id < firstId + 200; id++) if (!mine.has(id)) forged.push(id, 0, { value: -1, pid: 1 });
    fake.connection.send(AGENT_RESULTS, resultsOf(forged));
    // Its own tasks it never answers: once it is gone, they run on the good agent.
    await stillServing(s);
    fake.connection.destroy();
    const results = await tasks;
    results.forEach((r, i) => assert.equal([r.value, r.pid], [i * i, s.good.pid]));
    noUncaught();
  } finally {
    await scope.close();
  }
});

test('a joined agent reporting absurd task times breaks neither the scheduler nor its stats()', async () => {
  const scope = new Scope();
  try {
    const s = await setup(scope);
    const { fake, tasks, firstId } = await fakeWithWork(s, scope);
    const batch = parseAnyBatch(fake.messages.find(([type]) => type === AGENT_RUN)![1]);
    const n = batch.one![0] as number;
    fake.connection.send(AGENT_RESULTS, { base: firstId, values: [{ value: n * n, pid: 1 }], busy: 1e20, run: 1e20 });
    const results = await tasks;
    results.forEach((r, i) => assert.is(r.value, i * i));
    const { runTime } = s.pool.stats();
    assert.ok(Number.isFinite(runTime.max), `runTime.max ${runTime.max}`);
    // (The fake acknowledges no batch, so the pool may drop it later for that: not asserted here.)
    await stillServing(s);
  } finally {
    await scope.close();
  }
});

test('a joined agent cannot settle, fail or stop actors that live elsewhere', async () => {
  const scope = new Scope();
  try {
    const s = await setup(scope);
    const { fake, tasks, firstId } = await fakeWithWork(s, scope);
    const counter = await within(s.pool.spawn('Counter'), 10_000, 'spawn on the good agent');
    const stops: unknown[] = [];
    s.pool.on('actorStop', (info) => stops.push(info));
    const slow = counter.call<number>('slowInc', [300]);
    const mine = new Set(givenIds(fake.messages));
    const others = Array.from({ length: firstId + 500 }, (_, i) => i + 1).filter((id) => !mine.has(id));
    fake.connection.send(AGENT_RESULTS, { base: 0, ids: others, values: others.map(() => 'FORGED'), busy: 0, run: 0 });
    fake.connection.send(AGENT_LOST, { ids: others, reason: 'died', error: serializeError(new Error('forged')) });
    assert.is(await within(slow, 5_000, 'the actor call'), 1, 'the call is answered by its actor');
    assert.is(await within(counter.call<number>('get', []), 5_000, 'a later call'), 1);
    assert.is(stops.length, 0, 'no actor was stopped');
    fake.connection.destroy();
    await tasks;
    await stillServing(s);
  } finally {
    await scope.close();
  }
});

test('a joined agent that names a task twice in a loss: it runs once, and nothing stays queued', async () => {
  const scope = new Scope();
  try {
    const s = await setup(scope);
    const { fake, tasks, firstId } = await fakeWithWork(s, scope);
    fake.connection.send(AGENT_LOST, { ids: [firstId, firstId], reason: 'died', error: serializeError(new Error('lost')) });
    // Gone after the loss (a clean close sends what was queued first), so that no later task waits on it.
    await within(fake.connection.close(), 3000, 'the fake to close');
    const results = await tasks;
    results.forEach((r, i) => assert.equal([r.value, r.pid], [i * i, s.good.pid]));
    await waitFor(() => s.pool.stats().queued === 0 && s.pool.stats().running === 0, 3000, 'nothing queued or running');
    await within(s.pool.onIdle(), 3000, 'onIdle()');
    const counts = s.pool.stats().workers.map((w) => w.inFlight);
    assert.ok(counts.every((n) => n >= 0), `in flight per worker: ${counts.join(' ')}`);
    await stillServing(s);
  } finally {
    await scope.close();
  }
});

/** A raw socket that has passed the handshake, for frames the library would never write. */
async function authenticatedSocket(s: Setup, scope: Scope) {
  const socket = net.connect({ host: HOST, port: s.port });
  scope.defer(() => socket.destroy());
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await within(clientHandshake(socket, s.key, { timeoutMs: 3000 }), 5000, 'the handshake');
  socket.resume();
  return { socket, closed };
}

test('after the handshake: an absurd length prefix, a reserved frame type or a bad version byte close the connection', async () => {
  const scope = new Scope();
  try {
    const s = await setup(scope);
    const absurd = Buffer.from([0xff, 0xff, 0xff, 0xff, 1, AGENT_HELLO]);
    const reserved = encodeFrame(5, Buffer.from([1]));
    const badVersion = encodeFrameHeader(AGENT_HELLO, 0);
    badVersion[4] = 99;
    for (const [what, bytes] of [['length 0xffffffff', absurd], ['type 5', reserved], ['version 99', badVersion]] as const) {
      const raw = await authenticatedSocket(s, scope);
      raw.socket.write(bytes);
      await within(raw.closed, 3000, `the pool to close a peer that sent a frame with ${what}`);
      noUncaught();
    }
    assert.is(s.log.joins.length, 1);
    await stillServing(s);
  } finally {
    await scope.close();
  }
});

test.run();
