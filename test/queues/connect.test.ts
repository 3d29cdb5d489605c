// connect()'s options and refusals: the address in the agents' host:port form, named in
// errors; a wrong key is final; TLS as for agents; a closed hub refuses later calls.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AGENT_BYE, AGENT_HELLO, AGENT_PROTOCOL_VERSION, AGENT_WELCOME } from '../../lib/backends/remote-protocol.js';
import { connect } from '../../lib/index.js';
import { listen, type Connection } from '../../lib/transport/index.js';
import { newKey, outcome, TASKS } from '../remote/helpers.js';
import { makePki } from '../support/pki.js';
import { HOST, listeningPool, Scope, waitFor, within } from './helpers.js';

test('bad options throw ERR_TROUPE_INVALID_OPTION naming the option', async () => {
  const key = newKey();
  for (const [options, pattern] of [
    [{ address: 'no-port', authkey: key }, /option "address" must be "host:port"/],
    [{ address: '127.0.0.1:0', authkey: key }, /option "address"/],
    [{ address: '127.0.0.1:5000', authkey: 'short' }, /authkey/],
    [{ address: '127.0.0.1:5000', authkey: key, prefetch: 5_000 }, /option "prefetch"/],
    [{ address: '127.0.0.1:5000', authkey: key, nonsense: 1 }, /unknown option "nonsense"/],
  ] as const) {
    const o = await outcome(connect(options as never), 2_000, String(pattern));
    assert.ok(!o.ok && pattern.test(o.error.message), o.ok ? 'connected' : o.error.message);
    assert.is(!o.ok && o.error.code, 'ERR_TROUPE_INVALID_OPTION');
  }
});

test('a wrong authkey is refused once, for good: ERR_TROUPE_AUTH', async () => {
  const scope = new Scope();
  try {
    const { port } = await listeningPool(scope);
    const o = await outcome(connect({ address: `${HOST}:${port}`, authkey: newKey() }), 10_000, 'a refused connect');
    assert.is(!o.ok && o.error.code, 'ERR_TROUPE_AUTH');
  } finally {
    await scope.close();
  }
});

test("a pool's goodbye ends the client's queue loops, also one whose request for items the pool never answered", async () => {
  const key = newKey();
  // A stand-in for a pool that is closing: it welcomes the client, ignores what it asks, then says goodbye.
  const server = await listen({ host: HOST, port: 0, authkey: key });
  const accepted = new Promise<Connection>((resolve) => server.once('connection', resolve));
  const hub = connect({ address: `${HOST}:${server.address().port}`, authkey: key });
  try {
    const peer = await within(accepted, 10_000, 'the client to connect');
    await within(new Promise<void>((resolve) => peer.once('message', (type: number) => type === AGENT_HELLO && resolve())), 10_000, 'the hello');
    peer.send(AGENT_WELCOME, { version: AGENT_PROTOCOL_VERSION, maxPrefetch: 1_024 });
    const client = await within(hub, 10_000, 'connect()');
    const asked = new Promise<void>((resolve) => peer.on('message', () => resolve()));
    const loop = (async () => {
      let items = 0;
      for await (const _ of client.queue('tasks')) items++;
      return items;
    })();
    await within(asked, 10_000, "the client's request for items");
    peer.send(AGENT_BYE, {});
    assert.is(await within(loop, 10_000, 'the loop to end on the goodbye'), 0);
    await client.close();
  } finally {
    await hub.then((h) => h.close(), () => {});
    await server.close();
  }
});

test('a hub closed while a reconnect waits for its welcome does not take up that connection when the welcome comes', async () => {
  const key = newKey();
  const server = await listen({ host: HOST, port: 0, authkey: key });
  const peers: Connection[] = [];
  const hellos: Connection[] = [];
  server.on('connection', (peer) => {
    peers.push(peer);
    peer.on('message', (type: number) => type === AGENT_HELLO && hellos.push(peer));
  });
  const hub = connect({ address: `${HOST}:${server.address().port}`, authkey: key, reconnectDelay: 10 });
  try {
    await waitFor(() => hellos.length === 1, 10_000, 'the first hello');
    hellos[0].send(AGENT_WELCOME, { version: AGENT_PROTOCOL_VERSION, maxPrefetch: 1_024 });
    const client = await within(hub, 10_000, 'connect()');
    hellos[0].destroy();
    await waitFor(() => hellos.length === 2, 10_000, 'the hello of the reconnect');
    const second = hellos[1];
    const closed = new Promise<void>((resolve) => second.once('close', () => resolve()));
    const closing = client.close();
    second.send(AGENT_WELCOME, { version: AGENT_PROTOCOL_VERSION, maxPrefetch: 1_024 });
    await within(closing, 10_000, 'close()');
    await within(closed, 5_000, "the pool's side of the reconnect to close");
    assert.is(client.connected, false);
  } finally {
    await hub.then((h) => h.close(), () => {});
    for (const peer of peers) peer.destroy();
    await server.close();
  }
});

test('an in-process hub: { host, port } form, queue and run, then close() refuses later calls', async () => {
  const scope = new Scope();
  try {
    const { pool, key, port } = await listeningPool(scope, { size: 1 });
    const q = pool.queue<number>('q');
    const hub = await connect({ address: { host: HOST, port }, authkey: key });
    scope.defer(() => hub.close());
    await hub.queue<number>('q').put(3);
    assert.is(await q.get(), 3);
    assert.is(await hub.tasks<{ square(n: number): number }>().square(4), 16);
    await hub.close();
    const late = await outcome(hub.run('square', [1]), 2_000, 'a run after close');
    assert.is(!late.ok && late.error.code, 'ERR_TROUPE_CLIENT_CLOSED');
  } finally {
    await scope.close();
  }
});

test('over mutual TLS: a client with the CA and a client certificate connects; one without a certificate is refused', async () => {
  const scope = new Scope();
  try {
    makePki(scope.dir);
    const file = (name: string) => readFileSync(join(scope.dir, name));
    const key = newKey();
    const { pool } = await scope.pool({
      tasks: TASKS,
      size: 0,
      listen: { host: HOST, port: 0, authkey: key, tls: { cert: file('server.crt'), key: file('server.key'), ca: file('ca.crt') } },
    });
    const address = `${HOST}:${pool.address()!.port}`;
    const q = pool.queue<string>('q');
    const hub = await connect({ address, authkey: key, tls: { ca: file('ca.crt'), cert: file('client.crt'), key: file('client.key') } });
    scope.defer(() => hub.close());
    await hub.queue<string>('q').put('over TLS');
    assert.is(await q.get(), 'over TLS');
    const refused = await outcome(connect({ address, authkey: key, tls: { ca: file('ca.crt') } }), 10_000, 'a client without a certificate');
    assert.is(!refused.ok && refused.error.code, 'ERR_TROUPE_AUTH');
  } finally {
    await scope.close();
  }
});

test.run();
