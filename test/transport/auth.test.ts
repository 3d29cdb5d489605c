import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AuthenticationError,
  HandshakeTimeoutError,
  InvalidOptionError,
  PeerLostError,
  TroupeError,
} from '../../lib/errors.js';
import { encode } from '../../lib/transport/codec.js';
import { encodeFrame } from '../../lib/transport/framing.js';
import { connect, listen, type Connection, type TransportServer } from '../../lib/transport/index.js';
import {
  Cleanup,
  KEY,
  OTHER_KEY,
  acceptRawHandshake,
  closedByPeer,
  nextEvent,
  rawHandshake,
  rawServer,
  rawSocket,
  readExactly,
  within,
} from './helpers.js';

const cleanup = new Cleanup();
test.after.each(() => cleanup.run());

async function server(options: Partial<Parameters<typeof listen>[0]> = {}): Promise<TransportServer> {
  return cleanup.add(await listen({ authkey: KEY, ...options }));
}

function rejection(promise: Promise<unknown>, ms = 3000): Promise<Error> {
  return within(
    promise.then(
      () => {
        throw new Error('expected a rejection');
      },
      (err: Error) => err,
    ),
    ms,
    'the rejection',
  );
}

test('the right key connects, and messages flow both ways', async () => {
  const s = await server();
  const accepted = nextEvent<[Connection]>(s, 'connection');
  const client = cleanup.add(await within(connect({ port: s.address().port, authkey: KEY }), 3000, 'connect'));
  const [peer] = await accepted;
  peer.on('message', (type, value) => peer.send(type + 1, value));
  const reply = nextEvent<[number, unknown]>(client, 'message');
  client.send(20, { n: 7 });
  assert.equal(await reply, [21, { n: 7 }]);
});

test('a wrong key is refused: the client rejects and the server reports authFailure', async () => {
  const s = await server();
  const failure = nextEvent<[string, Error]>(s, 'authFailure');
  const err = await rejection(connect({ port: s.address().port, authkey: OTHER_KEY }));
  assert.instance(err, AuthenticationError);
  assert.is((err as TroupeError).code, 'ERR_TROUPE_AUTH');
  const [address, serverErr] = await failure;
  assert.is(address, '127.0.0.1');
  assert.instance(serverErr, AuthenticationError);
  assert.is(s.connectionCount, 0);
});

test('a server that does not know the key is refused, and gets no valid proof', async () => {
  let proof: Buffer | undefined;
  const impostor = cleanup.add(
    await rawServer(async (socket) => {
      await readExactly(socket, 40);
      socket.write(Buffer.concat([Buffer.from([0x53]), Buffer.alloc(64, 9)]));
      proof = await readExactly(socket, 32).catch(() => undefined);
    }),
  );
  const err = await rejection(connect({ port: impostor.port, authkey: KEY }));
  assert.instance(err, AuthenticationError);
  assert.match(err.message, /server did not prove/);
  if (proof) assert.ok(proof.equals(Buffer.alloc(32)), 'only a dummy proof may be sent');
});

test('keys shorter than 16 bytes are refused, naming authkey', async () => {
  for (const authkey of ['short', Buffer.alloc(15), 'é'.repeat(7)]) {
    const err = await rejection(connect({ port: 1, authkey }));
    assert.instance(err, InvalidOptionError);
    assert.match(err.message, /authkey/);
    assert.match(err.message, /16 bytes/);
    const listenErr = await rejection(listen({ authkey }));
    assert.instance(listenErr, InvalidOptionError);
    assert.match(listenErr.message, /authkey/);
  }
  const missing = await rejection(listen({} as never));
  assert.match(missing.message, /authkey/);
  // 16 bytes of UTF-8 is enough, however few characters that is
  const s = await server({ authkey: 'é'.repeat(8) });
  cleanup.add(await connect({ port: s.address().port, authkey: 'é'.repeat(8) }));
});

test('a client that sends nothing is cut at the handshake deadline', async () => {
  const s = await server({ handshakeTimeoutMs: 300 });
  const failure = nextEvent<[string, Error]>(s, 'authFailure');
  const socket = cleanup.add(await rawSocket(s.address().port));
  const started = performance.now();
  await closedByPeer(socket, 2000);
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 250 && elapsed < 1500, `cut after ${elapsed} ms`);
  const [, err] = await failure;
  assert.instance(err, HandshakeTimeoutError);
});

test('connect() gives up at its deadline on a server that never answers', async () => {
  const mute = cleanup.add(await rawServer(() => {}));
  const started = performance.now();
  const err = await rejection(connect({ port: mute.port, authkey: KEY, handshakeTimeoutMs: 300 }));
  assert.instance(err, HandshakeTimeoutError);
  assert.ok(performance.now() - started < 1500);
});

test('bytes that follow the handshake in the same chunk are not lost, on either side', async () => {
  const s = await server();
  // 'message' must be listened to from within 'connection': reading starts right after it
  const early = new Promise<unknown[]>((resolve) => s.once('connection', (peer) => resolve(nextEvent(peer, 'message'))));
  cleanup.add(await rawHandshake(s.address().port, KEY, encodeFrame(16, encode('early'))));
  assert.equal(await within(early, 2000, 'the early message'), [16, 'early']);

  const fake = cleanup.add(
    await rawServer((raw) => void acceptRawHandshake(raw, KEY, encodeFrame(17, encode('welcome'))).catch(() => {})),
  );
  const client = cleanup.add(await connect({ port: fake.port, authkey: KEY }));
  assert.equal(await nextEvent(client, 'message'), [17, 'welcome']);
});

test('repeated failures from one address are slowed down, and concurrent attempts refused', async () => {
  const s = await server();
  const port = s.address().port;
  for (let i = 0; i < 5; i++) {
    const err = await rejection(connect({ port, authkey: OTHER_KEY }));
    assert.instance(err, AuthenticationError);
  }
  let started = performance.now();
  await rejection(connect({ port, authkey: OTHER_KEY }));
  const sixth = performance.now() - started;
  assert.ok(sixth >= 240, `6th attempt answered after ${sixth} ms`);

  // While one throttled attempt is pending, a second from the same address is cut at once;
  // the right key still gets in, after the (doubled) delay.
  started = performance.now();
  const settledAt = (p: Promise<Connection>) =>
    p.then(
      (c) => ({ ok: cleanup.add(c), ms: performance.now() - started }),
      (err: Error) => ({ err, ms: performance.now() - started }),
    );
  const outcomes = await within(
    Promise.all([settledAt(connect({ port, authkey: KEY })), settledAt(connect({ port, authkey: KEY }))]),
    4000,
    'both attempts',
  );
  const admitted = outcomes.filter((o) => 'ok' in o);
  const refused = outcomes.filter((o) => 'err' in o) as Array<{ err: Error; ms: number }>;
  assert.is(admitted.length, 1);
  assert.is(refused.length, 1);
  assert.instance(refused[0].err, PeerLostError);
  assert.ok(refused[0].ms < 400, `the concurrent attempt was cut after ${refused[0].ms} ms`);
  assert.ok(admitted[0].ms >= 490, `the 7th attempt waited ${admitted[0].ms} ms, no longer than the 6th`);
});

test.run();
