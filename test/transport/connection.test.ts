import { execFile } from 'node:child_process';
import * as net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameTooLargeError, PeerLostError } from '../../lib/errors.js';
import { FrameDecoder, encodeFrame } from '../../lib/transport/framing.js';
import { encode } from '../../lib/transport/codec.js';
import { connect, listen, type Connection, type TransportServer } from '../../lib/transport/index.js';
import { Cleanup, KEY, acceptRawHandshake, nextEvent, rawHandshake, rawServer, within } from './helpers.js';

const cleanup = new Cleanup();
test.after.each(() => cleanup.run());

type Options = Partial<Parameters<typeof listen>[0]>;

/** A server and one client connected to it, with the server's side of the connection. */
async function pair(options: Options = {}): Promise<{ server: TransportServer; client: Connection; peer: Connection }> {
  const server = cleanup.add(await listen({ authkey: KEY, ...options }));
  const accepted = nextEvent<[Connection]>(server, 'connection');
  const client = cleanup.add(await connect({ authkey: KEY, ...options, port: server.address().port }));
  const [peer] = await accepted;
  return { server, client, peer };
}

/** Bounded observation window for "nothing happens" claims. */
const observe = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('many messages keep their order and values', async () => {
  const { client, peer } = await pair();
  const got: unknown[] = [];
  const all = new Promise<void>((resolve) =>
    peer.on('message', (type, value) => {
      got.push([type, value]);
      if (got.length === 1000) resolve();
    }),
  );
  for (let i = 0; i < 1000; i++) client.send(16 + (i % 240), { i, b: Buffer.alloc(i % 50, i) });
  await within(all, 3000, '1000 messages');
  got.forEach((m, i) => assert.equal(m, [16 + (i % 240), { i, b: Buffer.alloc(i % 50, i) }]));
});

test('bodies are v8 until useJsonBodies(), then small frames of JSON values go as JSON text; both read alike', async () => {
  const { client, peer } = await pair();
  const got: unknown[] = [];
  const both = new Promise<void>((resolve) => peer.on('message', (_type, value) => got.push(value) === 3 && resolve()));
  const write = net.Socket.prototype.write;
  const bodies: number[] = [];
  const decoder = new FrameDecoder();
  net.Socket.prototype.write = function (this: net.Socket, ...args: Parameters<typeof write>) {
    if (Buffer.isBuffer(args[0])) for (const frame of decoder.push(args[0])) if (frame.type === 16) bodies.push(frame.body[0]);
    return write.apply(this, args);
  } as typeof write;
  try {
    client.send(16, { base: 1, name: 'square', one: [3] });
    await Promise.resolve();
    client.useJsonBodies();
    client.send(16, { base: 2, name: 'square', one: [4] });
    client.send(16, { base: 3, at: new Date(7) });
    await Promise.resolve();
  } finally {
    net.Socket.prototype.write = write;
  }
  await within(both, 3000, 'three messages');
  assert.equal(bodies, [0xff, '{'.charCodeAt(0), 0xff]);
  assert.equal(got, [{ base: 1, name: 'square', one: [3] }, { base: 2, name: 'square', one: [4] }, { base: 3, at: new Date(7) }]);
});

test('frames sent in one tick leave in one socket write', async () => {
  const { client, peer } = await pair();
  const received = new Promise<void>((resolve) => {
    let n = 0;
    peer.on('message', () => ++n === 100 && resolve());
  });
  const write = net.Socket.prototype.write;
  let writes = 0;
  net.Socket.prototype.write = function (this: net.Socket, ...args: Parameters<typeof write>) {
    writes++;
    return write.apply(this, args);
  } as typeof write;
  try {
    for (let i = 0; i < 100; i++) client.send(16, [i, 'square', [i]]);
    await Promise.resolve();
  } finally {
    net.Socket.prototype.write = write;
  }
  assert.is(writes, 1);
  await within(received, 2000, 'the 100 messages');
});

test('send() refuses reserved types, oversized values and unserializable ones, before queuing', async () => {
  const { client, peer } = await pair({ maxFrameBytes: 1024 });
  for (const type of [0, 1, 2, 15, 256, 16.5]) assert.throws(() => client.send(type, 1), /message type/);
  assert.throws(() => client.send(16, Buffer.alloc(2000)), (err: Error) => err instanceof FrameTooLargeError);
  assert.throws(() => client.send(16, { f() {} }), /could not be cloned/);
  // none of that broke the connection
  const reply = nextEvent(peer, 'message');
  client.send(16, 'still fine');
  assert.equal(await reply, [16, 'still fine']);
});

test('close() delivers what was queued, then both sides see close', async () => {
  const { client, peer } = await pair();
  const last = nextEvent(peer, 'message');
  const peerClosed = nextEvent<[Error | undefined]>(peer, 'close');
  const clientClosed = nextEvent<[Error | undefined]>(client, 'close');
  client.send(16, 'last words');
  const closing = client.close();
  assert.throws(() => client.send(16, 'too late'), (err: Error) => err instanceof PeerLostError);
  assert.equal(await last, [16, 'last words']);
  await within(closing, 2000, 'close()');
  assert.equal(await clientClosed, [undefined]);
  const [reason] = await peerClosed;
  assert.instance(reason, PeerLostError);
  assert.ok(client.closed && peer.closed);
});

test('destroy(err) closes at once and reports err', async () => {
  const { client, peer } = await pair();
  const closed = nextEvent<[Error]>(client, 'close');
  const peerClosed = nextEvent<[Error]>(peer, 'close');
  const reason = new Error('enough');
  client.destroy(reason);
  assert.is((await closed)[0], reason);
  assert.instance((await peerClosed)[0], PeerLostError);
});

test('server.close() ends its connections and resolves', async () => {
  const { server, client } = await pair();
  const closed = nextEvent<[Error]>(client, 'close');
  await within(server.close(), 2000, 'server.close()');
  assert.instance((await closed)[0], PeerLostError);
  assert.is(server.connectionCount, 0);
});

test('a peer that goes silent after the handshake is declared dead within timeoutMs', async () => {
  const server = cleanup.add(await listen({ authkey: KEY, heartbeatIntervalMs: 50, heartbeatTimeoutMs: 300 }));
  const accepted = nextEvent<[Connection]>(server, 'connection');
  cleanup.add(await rawHandshake(server.address().port));
  const [peer] = await accepted;
  const started = performance.now();
  const [reason] = await nextEvent<[Error]>(peer, 'close', 2000);
  const elapsed = performance.now() - started;
  assert.instance(reason, PeerLostError);
  assert.match(reason.message, /no data from the peer/);
  assert.ok(elapsed < 300 + 250, `declared dead after ${elapsed} ms`);
});

test('a client notices a server that goes silent', async () => {
  const fake = cleanup.add(await rawServer((socket) => void acceptRawHandshake(socket).catch(() => {})));
  const client = cleanup.add(await connect({ port: fake.port, authkey: KEY, heartbeatIntervalMs: 50, heartbeatTimeoutMs: 300 }));
  const [reason] = await nextEvent<[Error]>(client, 'close', 2000);
  assert.instance(reason, PeerLostError);
});

test('an idle connection stays up across many heartbeat intervals', async () => {
  const { client, peer } = await pair({ heartbeatIntervalMs: 50, heartbeatTimeoutMs: 250 });
  let closes = 0;
  client.on('close', () => closes++);
  peer.on('close', () => closes++);
  await observe(1000);
  assert.is(closes, 0);
  const reply = nextEvent(peer, 'message');
  client.send(16, 'still here');
  assert.equal(await reply, [16, 'still here']);
});

test('send() returns false on a peer that stops reading, then drain once it reads again', async () => {
  const server = cleanup.add(await listen({ authkey: KEY }));
  const accepted = nextEvent<[Connection]>(server, 'connection');
  const reader = cleanup.add(await rawHandshake(server.address().port));
  const [peer] = await accepted;
  reader.pause();
  // One small message per turn of the loop, so a false can only come from the socket
  // backing up behind the peer that stopped reading, not from one tick's batch.
  const chunk = Buffer.alloc(4 * 1024, 1);
  let sent = 0;
  for (; sent < 50_000; sent++) {
    if (!peer.send(16, chunk)) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.ok(sent < 50_000, 'send() never returned false');
  assert.ok(sent > 16, `false after only ${sent} small messages: the peer had not stopped yet`);
  const drained = nextEvent(peer, 'drain', 5000);
  const decoder = new FrameDecoder();
  let frames = 0;
  reader.on('data', (data: Buffer) => (frames += decoder.push(data).filter((f) => f.type === 16).length));
  reader.resume();
  await drained;
  assert.ok(peer.send(16, 'after drain'));
  await within(
    new Promise<void>((resolve) => {
      const check = setInterval(() => frames >= sent + 2 && (clearInterval(check), resolve()), 10);
    }),
    5000,
    'every frame to arrive',
  );
});

test('a false from send() is always followed by drain, also when the socket takes it all at once', async () => {
  const { client, peer } = await pair();
  let received = 0;
  peer.on('message', () => received++);
  // Over the high-water mark in one turn: false, though a reading peer lets the socket
  // take everything in its first write, so the socket itself never emits 'drain'.
  const big = Buffer.alloc(8 * 1024, 7);
  let ok = true;
  for (let i = 0; i < 4; i++) ok = client.send(16, big) && ok;
  assert.not.ok(ok, 'send() said false');
  await nextEvent(client, 'drain', 5000);
  assert.ok(client.send(16, 'after drain'));
  await within(
    new Promise<void>((resolve) => {
      const check = setInterval(() => received === 5 && (clearInterval(check), resolve()), 10);
    }),
    5000,
    'every message to arrive',
  );
});

test('a peer that floods PINGs and never reads gets at most one PONG per batch, not one per PING', async () => {
  const server = cleanup.add(await listen({ authkey: KEY }));
  server.on('connection', (peer) => peer.on('message', (type, value) => peer.send(type, value)));
  const raw = await rawHandshake(server.address().port);
  cleanup.add(raw);
  raw.pause();
  const pings = 1_000_000;
  const batch = Buffer.concat(Array(10_000).fill(encodeFrame(0)));
  for (let sent = 0; sent < pings; sent += 10_000) {
    if (!raw.write(batch)) await within(new Promise((r) => raw.once('drain', r)), 5000, 'our flood to drain');
  }
  raw.write(encodeFrame(16, encode('end')));
  // Now read what came back: PONGs, then the echo of 'end', which the server sent after them.
  const decoder = new FrameDecoder();
  let pongs = 0;
  await within(
    new Promise<void>((resolve) => {
      raw.on('data', (chunk: Buffer) => {
        for (const frame of decoder.push(chunk)) {
          if (frame.type === 1) pongs++;
          else if (frame.type === 16) resolve();
        }
      });
      raw.resume();
    }),
    10_000,
    'the echo after the flood',
  );
  assert.ok(pongs >= 1, 'PINGs are still answered');
  assert.ok(pongs < pings / 100, `${pongs} PONGs for ${pings} PINGs`);
});

function block(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test('a loss right after our own stall says so on the PeerLostError; an ordinary loss does not', async () => {
  const settings = { heartbeatIntervalMs: 50, heartbeatTimeoutMs: 200 };
  const first = await pair(settings);
  const plain = nextEvent<[Error]>(first.client, 'close', 2000);
  first.peer.destroy();
  const [ordinary] = await plain;
  assert.instance(ordinary, PeerLostError);
  assert.is((ordinary as PeerLostError).afterOwnStall, false);
  assert.is((ordinary as PeerLostError).ownStallMs, 0);

  const second = await pair(settings);
  await observe(60);
  const closed = nextEvent<[Error]>(second.client, 'close', 2000);
  block(600); // this process stalls, then the peer is gone
  second.peer.destroy();
  const [reason] = await closed;
  assert.instance(reason, PeerLostError);
  const lost = reason as PeerLostError;
  assert.is(lost.afterOwnStall, true);
  assert.ok(lost.ownStallMs >= 500, `ownStallMs ${lost.ownStallMs}`);
  assert.match(lost.message, /right after this process itself stalled/);
});

test('connect() to a closed port fails with the socket error; listen() on a taken port rejects', async () => {
  const server = cleanup.add(await listen({ authkey: KEY }));
  const { port } = server.address();
  const taken = await within(listen({ authkey: KEY, port }).then(() => null, (err: NodeJS.ErrnoException) => err), 2000, 'listen');
  assert.is(taken?.code, 'EADDRINUSE');
  await server.close();
  const refused = await within(connect({ port, authkey: KEY }).then(() => null, (err: NodeJS.ErrnoException) => err), 2000, 'connect');
  assert.is(refused?.code, 'ECONNREFUSED');
});

test('closed transport objects do not keep the process alive', async () => {
  const script = `
    import { listen, connect } from './lib/transport/index.ts';
    const key = '${KEY}';
    const server = await listen({ authkey: key });
    const client = await connect({ port: server.address().port, authkey: key });
    client.send(16, 'bye');
    await client.close();
    await server.close();
    console.log('closed');
  `;
  const out = await within(
    new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    ),
    8000,
    'the child to exit by itself',
  );
  assert.is(out.trim(), 'closed');
});

test.run();
