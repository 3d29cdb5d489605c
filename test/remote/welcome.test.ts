import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, startAgent } from '../../lib/index.js';
import { AGENT_HELLO, AGENT_PROTOCOL_VERSION, AGENT_REFUSED, AGENT_WELCOME } from '../../lib/backends/remote-protocol.js';
import { connect, listen, type Connection } from '../../lib/transport/index.js';
import { HOST, newKey, outcome, Scope, TASKS, waitFor, within } from './helpers.js';

test('a pool answers a hello it accepts with a welcome, and one it cannot accept with the reason', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool } = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key } });
    const { port } = pool.address()!;
    const answers: [number, unknown][] = [];
    const peer = await connect({ host: HOST, port, authkey: key });
    scope.defer(() => peer.destroy());
    peer.on('message', (type, value) => answers.push([type, value]));
    let closed = false;
    peer.once('close', () => (closed = true));
    peer.send(AGENT_HELLO, { version: 999, agentId: 'x', hostname: 'h', pid: 1, names: [], parallelism: 1, capacity: 1, mode: 'process' });
    await waitFor(() => closed, 5000, 'the pool to close the refused connection');
    assert.is(answers.length, 1);
    assert.is(answers[0][0], AGENT_REFUSED);
    // Both versions are named, so whoever reads it knows which side to upgrade.
    assert.match(String((answers[0][1] as { reason: string }).reason), new RegExp(`version 999;.*version ${AGENT_PROTOCOL_VERSION}`));
  } finally {
    await scope.close();
  }
});

/** A scheduler stand-in that answers each hello with `answer(connection, nth)`. */
async function fakeScheduler(scope: Scope, key: Buffer, answer: (connection: Connection, nth: number) => void) {
  const server = await listen({ host: HOST, port: 0, authkey: key });
  scope.defer(() => server.close());
  let hellos = 0;
  server.on('connection', (connection) => {
    connection.on('message', (type) => {
      if (type === AGENT_HELLO) answer(connection, ++hellos);
    });
  });
  return { address: `${HOST}:${server.address().port}`, hellos: () => hellos };
}

test('an agent the scheduler refuses stops with ERR_TROUPE_AGENT_REFUSED instead of retrying', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const scheduler = await fakeScheduler(scope, key, (connection) => {
      connection.send(AGENT_REFUSED, { reason: 'no room for you' });
      void connection.close();
    });
    const attempt = startAgent({ connect: scheduler.address, authkey: key, tasks: TASKS, size: 1 });
    const result = await outcome(attempt, 20_000, 'startAgent against a refusing scheduler');
    if (result.ok) {
      scope.defer(() => result.value.close());
      assert.unreachable('the agent was accepted');
      return;
    }
    assert.is(result.error.code, 'ERR_TROUPE_AGENT_REFUSED');
    assert.match(result.error.message, /no room for you/);
    assert.is(scheduler.hellos(), 1, 'said hello once: a refusal is final');
  } finally {
    await scope.close();
  }
});

test('an agent that gets no welcome in time gives up on that connection and tries again', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    // Silent the first time, welcoming the second.
    const scheduler = await fakeScheduler(scope, key, (connection, nth) => {
      if (nth > 1) connection.send(AGENT_WELCOME, { version: AGENT_PROTOCOL_VERSION });
    });
    const agent = await within(
      startAgent({ connect: scheduler.address, authkey: key, tasks: TASKS, size: 1, handshakeTimeoutMs: 300 }),
      20_000,
      'startAgent to be welcomed on its second try',
    );
    scope.defer(() => agent.close());
    assert.is(scheduler.hellos(), 2);
  } finally {
    await scope.close();
  }
});

test('an agent closed while it waits for its welcome does not take up the connection when the welcome comes', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    let pending: Connection | undefined;
    const scheduler = await fakeScheduler(scope, key, (connection) => (pending = connection));
    const agent = await Agent.create({ connect: scheduler.address, authkey: key, tasks: TASKS, size: 1 });
    scope.defer(() => agent.close());
    const joining = outcome(agent.join(), 20_000, 'join()');
    await waitFor(() => pending !== undefined, 10_000, "the agent's hello");
    const closed = new Promise<void>((resolve) => pending!.once('close', () => resolve()));
    const closing = agent.close();
    pending!.send(AGENT_WELCOME, { version: AGENT_PROTOCOL_VERSION });
    await within(closing, 10_000, 'close()');
    await joining;
    await within(closed, 5_000, "the scheduler's side of the connection to close");
    assert.is(agent.connected, false);
  } finally {
    await scope.close();
  }
});

test('an agent welcomed by a scheduler of another protocol version stops, naming both versions', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    for (const welcome of [{}, { version: AGENT_PROTOCOL_VERSION + 1 }]) {
      const scheduler = await fakeScheduler(scope, key, (connection) => connection.send(AGENT_WELCOME, welcome));
      const result = await outcome(startAgent({ connect: scheduler.address, authkey: key, tasks: TASKS, size: 1 }), 20_000, 'startAgent');
      if (result.ok) {
        scope.defer(() => result.value.close());
        assert.unreachable('the agent worked with a scheduler of another version');
        return;
      }
      const theirs = 'version' in welcome ? welcome.version : 1;
      assert.is(result.error.code, 'ERR_TROUPE_AGENT_REFUSED');
      assert.match(result.error.message, new RegExp(`version ${theirs};.*version ${AGENT_PROTOCOL_VERSION}`));
      assert.is(scheduler.hellos(), 1, 'no retry: it cannot get better');
    }
  } finally {
    await scope.close();
  }
});

test.run();
