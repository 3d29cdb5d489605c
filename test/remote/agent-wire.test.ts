// A real CLI agent against a fake scheduler that knows the key: nothing it sends is ever
// executed, only names the agent's own module exports run, and bad input leaves it unharmed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AGENT_ACK, AGENT_CANCEL, AGENT_HELLO, AGENT_PROTOCOL_VERSION, AGENT_RESULTS, AGENT_RUN, AGENT_WELCOME, parseHello, type AgentHello,
} from '../../lib/backends/remote-protocol.js';
import { batchOf, resultTriples } from './wire.js';
import { SPAWN } from '../../lib/worker/batch.js';
import { listen, type Connection } from '../../lib/transport/index.js';
import { HOST, Scope, TASKS, TASK_NAMES, newKey, waitFor, type Child } from './helpers.js';

interface Peer {
  connection: Connection;
  hello: AgentHello;
  /** Results by wire id: [status, value]. */
  results: Map<number, [number, unknown]>;
  closed: boolean;
}

/** A fake scheduler, and the CLI agent connected to it. */
async function setup(scope: Scope) {
  const key = newKey();
  const server = await listen({ host: HOST, port: 0, authkey: key });
  scope.defer(() => server.close());
  const peers: Peer[] = [];
  const protocolErrors: string[] = [];
  server.on('connection', (connection) => {
    let peer: Peer | undefined;
    connection.on('message', (type, value) => {
      if (!peer) {
        if (type !== AGENT_HELLO) protocolErrors.push(`first message of type ${type}`);
        peers.push((peer = { connection, hello: value as AgentHello, results: new Map(), closed: false }));
        connection.send(AGENT_WELCOME, { version: AGENT_PROTOCOL_VERSION });
        return;
      }
      if (type === AGENT_ACK) return;
      if (type !== AGENT_RESULTS) return void protocolErrors.push(`message of type ${type} after the hello`);
      try {
        for (const [id, status, result] of resultTriples(value)) peer.results.set(id, [status, result]);
      } catch (error) {
        protocolErrors.push(`malformed results: ${(error as Error).message}`);
      }
    });
    connection.once('close', () => peer && (peer.closed = true));
  });
  const agent = scope.cliAgent({ port: server.address().port, keyFile: scope.keyFile(key) });
  await waitFor(() => peers.length > 0 || agent.exited, 15_000, 'the agent to say hello', () => agent.describe());
  assert.ok(peers.length > 0, agent.describe());
  return { peers, agent, protocolErrors };
}

/** Sends a batch and waits (bounded) for a result for each of its ids. */
async function runBatch(peer: Peer, batch: unknown[]): Promise<[number, unknown][]> {
  const ids = batch.filter((_, i) => i % 3 === 0) as number[];
  peer.connection.send(AGENT_RUN, batchOf(batch));
  await waitFor(() => ids.every((id) => peer.results.has(id)), 10_000, `results for ids ${ids.join(', ')}`);
  return ids.map((id) => peer.results.get(id)!);
}

function unharmed(agent: Child, peer: Peer, protocolErrors: string[]): void {
  assert.not.ok(agent.exited, agent.describe());
  assert.not.ok(peer.closed, 'the agent kept its connection');
  assert.equal(protocolErrors, []);
}

const NOT_EXPORTED = [
  'constructor', '__proto__', 'prototype', 'eval', 'Function', 'toString', 'valueOf', 'hasOwnProperty',
  '__defineGetter__', 'then', 'default', 'process', 'globalThis', 'import', 'require', '', ' square', 'square()',
  TASKS, `file://${TASKS}`, `${TASKS}#square`, 'node:child_process', '../../dist/cli.js',
];

test("the agent's hello describes it truthfully and passes the scheduler's checks", async () => {
  const scope = new Scope();
  try {
    const { peers, agent } = await setup(scope);
    const { hello } = peers[0];
    assert.equal(parseHello(hello), hello);
    assert.equal([hello.pid, hello.mode, hello.parallelism, hello.capacity], [agent.pid, 'thread', 1, 1024]);
    assert.equal([...hello.names].sort(), TASK_NAMES);
  } finally {
    await scope.close();
  }
});

test('a batch naming things the module does not export: each fails ERR_TROUPE_UNKNOWN_TASK; square still works', async () => {
  const scope = new Scope();
  try {
    const { peers, agent, protocolErrors } = await setup(scope);
    const peer = peers[0];
    // If any of these ran, the agent would die: the code only needs to be evaluated.
    const lethal = 'process.kill(process.pid, "SIGKILL")';
    const batch = NOT_EXPORTED.flatMap((name, i) => [i + 1, name, [lethal]]);
    const results = await runBatch(peer, batch);
    results.forEach(([status, value], i) => {
      const error = value as { code?: string; message?: string };
      assert.is(status, 1, `"${NOT_EXPORTED[i]}" was not refused: ${JSON.stringify(value)}`);
      assert.is(error.code, 'ERR_TROUPE_UNKNOWN_TASK', `"${NOT_EXPORTED[i]}": ${error.message}`);
    });
    const [square, tagged] = await runBatch(peer, [1000, 'square', [7], 1001, 'tagged', [3]]);
    assert.equal(square, [0, 49]);
    assert.equal(tagged[0], 0);
    assert.equal((tagged[1] as { value: number; pid: number }).value, 9);
    assert.equal((tagged[1] as { value: number; pid: number }).pid, agent.pid);
    unharmed(agent, peer, protocolErrors);
  } finally {
    await scope.close();
  }
});

test('a spawn naming anything but an exported class is refused with ERR_TROUPE_ACTOR_CLASS; a spawned actor answers; a spawn twice drops the connection', async () => {
  const scope = new Scope();
  try {
    const { peers, agent, protocolErrors } = await setup(scope);
    const peer = peers[0];
    const lethal = 'process.kill(process.pid, "SIGKILL")';
    const names = [...NOT_EXPORTED, 'square', 'Object', 'Function', 'Array', 'Promise'];
    names.forEach((name, i) => peer.connection.send(AGENT_RUN, { base: i + 1, name, args: [[lethal]], actor: i + 1, op: SPAWN }));
    await waitFor(() => names.every((_, i) => peer.results.has(i + 1)), 10_000, 'an answer to every spawn');
    names.forEach((name, i) => {
      const [status, value] = peer.results.get(i + 1)!;
      assert.is(status, 1, `"${name}" was spawned`);
      assert.is((value as { code?: string }).code, 'ERR_TROUPE_ACTOR_CLASS', `"${name}"`);
    });
    const id = 5_000;
    peer.connection.send(AGENT_RUN, { base: id, name: 'Counter', args: [[]], actor: id, op: SPAWN });
    peer.connection.send(AGENT_RUN, { base: id + 1, name: ['inc', 'constructor', 'get'], args: [[2], [], []], actor: id });
    await waitFor(() => [1, 2, 3].every((i) => peer.results.has(id + i)), 10_000, 'the calls');
    assert.equal(peer.results.get(id + 1), [0, 2]);
    assert.is((peer.results.get(id + 2)![1] as { code?: string }).code, 'ERR_TROUPE_ACTOR_METHOD');
    assert.equal(peer.results.get(id + 3), [0, 2]);
    unharmed(agent, peer, protocolErrors);
    peer.connection.send(AGENT_RUN, { base: id + 10, name: 'Counter', args: [[]], actor: id, op: SPAWN });
    await waitFor(() => peer.closed, 5000, 'the agent to drop a scheduler that spawns one actor twice');
  } finally {
    await scope.close();
  }
});

test('batches in their compact forms: a lone number as text, a list as a flat array; results come back in the same forms', async () => {
  const scope = new Scope();
  try {
    const { peers, agent, protocolErrors } = await setup(scope);
    const peer = peers[0];
    const forms: unknown[] = [];
    peer.connection.on('message', (type, value) => type === AGENT_RESULTS && forms.push(value));
    peer.connection.send(AGENT_RUN, '7 square 12');
    peer.connection.send(AGENT_RUN, [8, 'square', [1, 2, 3]]);
    await waitFor(() => [7, 8, 9, 10].every((id) => peer.results.has(id)), 10_000, 'the results');
    assert.equal([7, 8, 9, 10].map((id) => peer.results.get(id)), [[0, 144], [0, 1], [0, 4], [0, 9]]);
    assert.ok(forms.some((f) => typeof f === 'string' && f.startsWith('7 144 ')), JSON.stringify(forms));
    assert.ok(forms.some((f) => Array.isArray(f) && f[0] === 8), JSON.stringify(forms));
    unharmed(agent, peer, protocolErrors);
  } finally {
    await scope.close();
  }
});

test('cancel messages with ids it never got are ignored', async () => {
  const scope = new Scope();
  try {
    const { peers, agent, protocolErrors } = await setup(scope);
    const peer = peers[0];
    peer.connection.send(AGENT_CANCEL, { ids: [0, 2 ** 52, 12345] });
    assert.equal(await runBatch(peer, [1, 'square', [5]]), [[0, 25]]);
    unharmed(agent, peer, protocolErrors);
  } finally {
    await scope.close();
  }
});

test('a malformed batch makes the agent drop that connection and reconnect; it still works', async () => {
  const scope = new Scope();
  try {
    const { peers, agent, protocolErrors } = await setup(scope);
    const sparse: unknown[] = [];
    sparse.length = 2 ** 32 - 1;
    const malformed: unknown[] = [
      'not a batch', { base: 1, name: 'square' }, { base: 'id', name: 'square', one: [1] }, { base: 1, name: 'square', args: ['not args'] },
      { base: 1, name: 42, one: [1] }, { base: 1, name: 'square', one: sparse }, { base: 1, name: 'square', args: [sparse] },
      { base: 1, name: ['square'], one: [1, 2] },
      // The compact forms (worker/compact-forms.ts): no number, a base past 2^53, a flat batch short of its list.
      '1 square', `${2 ** 53} square 1`, [1, 'square'], [1, 'square', 'x'],
      ['x', null, {}, -1],
    ];
    for (const [n, batch] of malformed.entries()) {
      const peer = peers[n];
      // The last one is a cancel message holding things other than ids.
      if (n === malformed.length - 1) peer.connection.send(AGENT_CANCEL, batch);
      else peer.connection.send(AGENT_RUN, batch);
      await waitFor(() => peer.closed, 5000, `the agent to drop the connection on ${`malformed message ${n}`}`);
      await waitFor(() => peers.length > n + 1, 10_000, 'the agent to reconnect', () => agent.describe());
      assert.is(peers[n + 1].hello.agentId, peer.hello.agentId, 'the same agent');
    }
    const last = peers[peers.length - 1];
    assert.equal(await runBatch(last, [1, 'square', [6]]), [[0, 36]]);
    unharmed(agent, last, protocolErrors);
  } finally {
    await scope.close();
  }
});

test('SIGTERM while tasks are still settling: the agent exits 0 (as documented), without a crash', async () => {
  // On SIGTERM the agent closes its connection and waits for the scheduler's FIN before it
  // stops its workers; tasks that settle in that window are sent on the closing connection.
  // This scheduler holds its FIN back for a moment (its event loop is busy), as a loaded
  // scheduler would, so that the window is certain to contain some results.
  const scope = new Scope();
  try {
    const { peers, agent } = await setup(scope);
    const peer = peers[0];
    peer.connection.send(AGENT_RUN, batchOf(Array.from({ length: 500 }, (_, i) => [i + 1, 'slowTagged', [i, 20]]).flat()));
    await waitFor(() => peer.results.size > 0, 10_000, 'the first results');
    agent.kill('SIGTERM');
    const until = Date.now() + 500;
    while (Date.now() < until); // the scheduler is busy: the agent stays in "closing"
    const { code, signal } = await agent.waitExit(10_000, 'the agent to stop on SIGTERM');
    assert.not.match(agent.stderr, /PeerLostError|cannot send/, agent.describe());
    assert.equal([code, signal], [0, null], agent.describe());
  } finally {
    await scope.close();
  }
});

test.run();
