// Clients that know the key but break the protocol: each malformed message closes that
// client's connection only; the pool and a good client go on, and the items the offender
// held go back. The limits: bounded windows, waiting puts and message sizes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AGENT_HELLO, AGENT_PROTOCOL_VERSION, AGENT_WELCOME } from '../../lib/backends/remote-protocol.js';
import {
  CLIENT_ACK, CLIENT_ACTOR, CLIENT_CREDIT, CLIENT_DELIVER, CLIENT_PUT, CLIENT_RUN, MAX_PREFETCH, MAX_WAITING_PUTS,
} from '../../lib/queues/protocol.js';
import { connect, type Connection } from '../../lib/transport/index.js';
import { HOST, listeningPool, Scope, startClient, waitFor, within } from './helpers.js';

const uncaught: unknown[] = [];
process.on('uncaughtException', (error) => uncaught.push(error));
process.on('unhandledRejection', (error) => uncaught.push(error));

/** An authenticated connection that has said a client's hello and been welcomed. */
async function rawClient(scope: Scope, port: number, key: Buffer) {
  const connection = await connect({ host: HOST, port, authkey: key });
  scope.defer(() => connection.destroy());
  const messages: [number, unknown][] = [];
  connection.on('message', (type, value) => messages.push([type, value]));
  const closed = new Promise<Error | undefined>((resolve) => connection.once('close', resolve));
  connection.send(AGENT_HELLO, { version: AGENT_PROTOCOL_VERSION, role: 'client', clientId: 'hostile', hostname: 'h', pid: 1 });
  await waitFor(() => messages.some(([type]) => type === AGENT_WELCOME), 5_000, 'the welcome');
  return { connection, messages, closed };
}

async function closesAfter(scope: Scope, port: number, key: Buffer, send: (c: Connection) => void, what: string): Promise<void> {
  const raw = await rawClient(scope, port, key);
  send(raw.connection);
  await within(raw.closed, 5_000, `the pool to close the connection after ${what}`);
}

test('malformed client messages close that connection only; a good client goes on', async () => {
  const scope = new Scope();
  try {
    uncaught.length = 0;
    const { pool, key, port, clients } = await listeningPool(scope);
    const q = pool.queue<number>('q');
    const good = await startClient(scope, port, key);
    const sparse: unknown[] = [];
    sparse.length = 2 ** 32 - 1;
    const cases: [string, (c: Connection) => void][] = [
      ['a window over the limit', (c) => c.send(CLIENT_CREDIT, { q: 'q', window: MAX_PREFETCH + 1 })],
      ['an ack of an item it does not hold', (c) => c.send(CLIENT_ACK, { ids: [12345], requeue: false })],
      ['a sparse put of length 2^32-1', (c) => c.send(CLIENT_PUT, { q: 'q', base: 0, items: sparse })],
      ['a run whose args are not an array', (c) => c.send(CLIENT_RUN, { id: 1, name: 'square', args: 'no' })],
      ['a queue name of 10,000 characters', (c) => c.send(CLIENT_PUT, { q: 'x'.repeat(10_000), base: 0, items: [1] })],
      ['a message only the pool sends', (c) => c.send(CLIENT_DELIVER, { q: 'q', base: 0, items: [] })],
      ['an unknown message type', (c) => c.send(99, {})],
      ['a put with a negative id', (c) => c.send(CLIENT_PUT, { q: 'q', base: -1, items: [1] })],
      ['an actor call whose args are a sparse array of length 2^32-1', (c) => c.send(CLIENT_ACTOR, { id: 1, actor: 'a', method: 'm', args: sparse, tell: false, chain: [] })],
      ['an actor call claiming a chain of actors', (c) => c.send(CLIENT_ACTOR, { id: 1, actor: 'a', method: 'm', args: [], tell: false, chain: [1] })],
      ['an actor call that is not an object', (c) => c.send(CLIENT_ACTOR, 'garbage')],
    ];
    for (const [what, send] of cases) {
      await closesAfter(scope, port, key, send, what);
      assert.equal((await good.call({ op: 'put', q: 'q', value: 7 })).ok, true, `the good client after ${what}`);
      assert.is(await q.get({ timeout: 5_000 }), 7);
    }
    assert.ok(clients.leaves.filter((l) => l.error).length >= cases.length, 'each offender left with an error');
    assert.is(uncaught.length, 0, String(uncaught[0]));
  } finally {
    await scope.close();
  }
});

test('an ack that names a held item twice closes the connection, and every item it held goes back to the queue', async () => {
  const scope = new Scope();
  try {
    const { pool, key, port } = await listeningPool(scope);
    const q = pool.queue<number>('acked', { capacity: 10 });
    for (const n of [1, 2, 3]) await q.put(n);
    const raw = await rawClient(scope, port, key);
    raw.connection.send(CLIENT_CREDIT, { q: 'acked', window: 3 });
    await waitFor(() => raw.messages.some(([type]) => type === CLIENT_DELIVER), 5_000, 'the items to be delivered');
    const ids = raw.messages.filter(([type]) => type === CLIENT_DELIVER).map(([, value]) => (value as { base: number }).base);
    raw.connection.send(CLIENT_ACK, { ids: [ids[0], ids[0]], requeue: true });
    await within(raw.closed, 5_000, 'the pool to close the connection');
    await waitFor(() => q.size() === 3, 3_000, `all three items back (size ${q.size()})`);
    q.close();
    const got: number[] = [];
    await within((async () => { for await (const n of q) got.push(n); })(), 3_000, 'a loop over the closed queue to end');
    assert.equal(got.sort(), [1, 2, 3]);
  } finally {
    await scope.close();
  }
});

test('limits: puts waiting for room per client are bounded; an offender\'s held items go back', async () => {
  const scope = new Scope();
  try {
    const { pool, key, port } = await listeningPool(scope);
    const full = pool.queue<number>('full', { capacity: 1 });
    await full.put(0);
    // Within the limit the puts wait; one past it closes the connection.
    const flood = await rawClient(scope, port, key);
    for (let base = 0; base <= MAX_WAITING_PUTS; base += 4_096) {
      flood.connection.send(CLIENT_PUT, { q: 'full', base, items: new Array(4_096).fill(1) });
    }
    await within(flood.closed, 5_000, 'the flood to be cut');
    assert.is(full.size(), 1, 'none of the flood landed');

    const q = pool.queue<string>('held');
    await q.put('precious');
    const taker = await rawClient(scope, port, key);
    taker.connection.send(CLIENT_CREDIT, { q: 'held', window: 4 });
    await waitFor(() => taker.messages.some(([type]) => type === CLIENT_DELIVER), 5_000, 'the delivery');
    assert.is(q.size(), 0);
    taker.connection.send(99, {});
    await within(taker.closed, 5_000, 'the taker to be cut');
    assert.is(await q.get({ timeout: 5_000 }), 'precious', 'back in the queue');
  } finally {
    await scope.close();
  }
});

test.run();
