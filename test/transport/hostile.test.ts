/**
 * Each kind of garbage against a live server, while a good connection keeps talking to it:
 * the bad socket must be closed, the good one must not notice.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameTooLargeError, HandshakeTimeoutError, PeerLostError, ProtocolError, TroupeError } from '../../lib/errors.js';
import { encode } from '../../lib/transport/codec.js';
import { encodeFrame } from '../../lib/transport/framing.js';
import { connect, listen, type Connection, type TransportServer } from '../../lib/transport/index.js';
import { Cleanup, KEY, closedByPeer, nextEvent, rawHandshake, rawSocket, readExactly, within } from './helpers.js';

const cleanup = new Cleanup();
test.after.each(() => cleanup.run());

const HANDSHAKE_MS = 400;
const HEARTBEAT_TIMEOUT_MS = 400;
const HELLO = Buffer.concat([Buffer.from('TROUPE'), Buffer.from([1, 0x63]), randomBytes(32)]);

interface Scene {
  server: TransportServer;
  port: number;
  /** Replies the good connection has received so far; it sends one every 10 ms. */
  replies(): number;
}

async function scene(): Promise<Scene> {
  const server = cleanup.add(
    await listen({ authkey: KEY, handshakeTimeoutMs: HANDSHAKE_MS, heartbeatIntervalMs: 100, heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS }),
  );
  server.once('connection', (peer) => peer.on('message', (type, value) => peer.send(type, value)));
  const good = cleanup.add(await connect({ port: server.address().port, authkey: KEY }));
  let replies = 0;
  good.on('message', () => replies++);
  const chatter = setInterval(() => good.send(16, { n: replies, pad: Buffer.alloc(100) }), 10);
  cleanup.defer(() => clearInterval(chatter));
  return { server, port: server.address().port, replies: () => replies };
}

/** The good connection kept getting replies through the attack, and still does. */
async function goodStillWorks(s: Scene, before: number): Promise<void> {
  const target = Math.max(s.replies(), before) + 5;
  await within(
    new Promise<void>((resolve) => {
      const check = setInterval(() => s.replies() >= target && (clearInterval(check), resolve()), 5);
      cleanup.defer(() => clearInterval(check));
    }),
    2000,
    'the good connection to keep exchanging messages',
  );
  assert.is(s.server.connectionCount >= 1, true);
}

/** Sends `bytes` before authenticating; the server must answer FAIL (or nothing) and close. */
async function preAuth(bytes: Buffer, expect: (err: Error) => boolean, waitMs = 1500): Promise<void> {
  const s = await scene();
  const before = s.replies();
  const failure = nextEvent<[string, Error]>(s.server, 'authFailure', waitMs + 1000);
  const socket = cleanup.add(await rawSocket(s.port));
  const reply = readExactly(socket, 1, waitMs).catch(() => undefined);
  if (bytes.length > 0) socket.write(bytes);
  const answer = await reply;
  if (answer) assert.is(answer[0], 0x15, 'the one failure reply');
  await closedByPeer(socket, waitMs);
  const [, err] = await failure;
  assert.ok(expect(err), `unexpected reason: ${err.name}: ${err.message}`);
  await goodStillWorks(s, before);
}

/** Authenticates, then sends `bytes`; the server must close that connection for `expect`. */
async function postAuth(bytes: Buffer, expect: (err: Error) => boolean, waitMs = 1500): Promise<void> {
  const s = await scene();
  const before = s.replies();
  const accepted = nextEvent<[Connection]>(s.server, 'connection');
  const socket = cleanup.add(await rawHandshake(s.port));
  const [peer] = await accepted;
  const closed = nextEvent<[Error]>(peer, 'close', waitMs);
  socket.write(bytes);
  await closedByPeer(socket, waitMs);
  const [err] = await closed;
  assert.ok(err && expect(err), `unexpected reason: ${err?.name}: ${err?.message}`);
  await goodStillWorks(s, before);
}

const is = (Class: abstract new (...args: any[]) => Error, pattern?: RegExp) => (err: Error) =>
  err instanceof Class && (!pattern || pattern.test(err.message));

test('random bytes instead of HELLO', () => preAuth(randomBytes(64), is(TroupeError)));

test('a frame before authenticating', () => preAuth(encodeFrame(16, encode('x'.repeat(60))), is(TroupeError, /magic/)));

test('bytes sent before the challenge', () => preAuth(Buffer.concat([HELLO, Buffer.alloc(32)]), is(TroupeError, /before the challenge/)));

test('a wrong proof', async () => {
  const s = await scene();
  const failure = nextEvent<[string, Error]>(s.server, 'authFailure');
  const socket = cleanup.add(await rawSocket(s.port));
  socket.write(HELLO);
  await readExactly(socket, 65);
  socket.write(randomBytes(32));
  assert.is((await readExactly(socket, 1))[0], 0x15);
  await closedByPeer(socket, 1000);
  assert.match((await failure)[1].message, /wrong proof/);
  await goodStillWorks(s, 0);
});

test('a client that sends nothing', () => preAuth(Buffer.alloc(0), is(HandshakeTimeoutError), HANDSHAKE_MS + 1000));

test('a truncated HELLO, then silence', () => preAuth(HELLO.subarray(0, 20), is(HandshakeTimeoutError), HANDSHAKE_MS + 1000));

test('random bytes after authenticating', () =>
  postAuth(Buffer.concat([Buffer.from([0x7f, 0, 0, 10]), randomBytes(200)]), (e) => e instanceof ProtocolError || e instanceof FrameTooLargeError));

test('an absurd length', () => postAuth(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 16, 1, 2, 3]), is(FrameTooLargeError)));

test('a zero length', () => postAuth(Buffer.from([0, 0, 0, 0, 1, 16]), is(ProtocolError, /below the minimum/)));

test('a wrong protocol version', () => {
  const frame = encodeFrame(16, encode('hi'));
  frame[4] = 9;
  return postAuth(frame, is(ProtocolError, /version 9/));
});

test('an unknown (reserved) frame type', () => postAuth(encodeFrame(5, encode('hi')), is(ProtocolError, /unknown frame type 5/)));

test('an undecodable body', () => postAuth(encodeFrame(16, Buffer.from([0xff, 0x0f, 0x5c, 0x03])), is(ProtocolError, /undecodable/)));

test('a truncated frame, then silence: cut by the heartbeat', () =>
  postAuth(encodeFrame(16, encode('x'.repeat(100))).subarray(0, 30), is(PeerLostError, /no data/), HEARTBEAT_TIMEOUT_MS + 1000));

test('the reason is logged with NODE_DEBUG=troupe', async () => {
  const script = `
    import { listen } from './lib/transport/index.ts';
    import { encodeFrame } from './lib/transport/framing.ts';
    import { rawHandshake, closedByPeer } from './test/transport/helpers.ts';
    const server = await listen({ authkey: '${KEY}' });
    const socket = await rawHandshake(server.address().port);
    socket.write(encodeFrame(7, Buffer.from('x')));
    await closedByPeer(socket, 2000);
    await server.close();
  `;
  const stderr = await within(
    new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { env: { ...process.env, NODE_DEBUG: 'troupe' } },
        (err, _stdout, stderr) => (err ? reject(err) : resolve(stderr)),
      ),
    ),
    8000,
    'the child',
  );
  assert.match(stderr, /TROUPE \d+: connection to 127\.0\.0\.1:\d+ closed: unknown frame type 7/);
});

test.run();
