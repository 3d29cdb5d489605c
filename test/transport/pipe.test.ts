// FramePipe: messages between a pool and its worker processes, here over a real loopback socket pair.
import { once } from 'node:events';
import * as net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FramePipe } from '../../lib/transport/pipe.js';
import { Cleanup, within } from './helpers.js';

const cleanup = new Cleanup();
test.after.each(() => cleanup.run());

/** Handlers for a pipe whose side of the talk a test does not follow. */
const QUIET = { message: () => {}, fault: () => {}, closed: () => {} };

/** Two connected sockets on 127.0.0.1; an error on either (a reset by the other) is not the test's failure. */
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = cleanup.add(net.createServer());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const client = cleanup.add(net.connect((server.address() as net.AddressInfo).port, '127.0.0.1'));
  const [peer] = (await within(accepted, 2000, 'connection')) as [net.Socket];
  cleanup.add(peer);
  for (const socket of [client, peer]) socket.on('error', () => {});
  return [client, peer];
}

/** A pipe on `socket` that collects what it receives, and the first fault. */
function receiver(socket: net.Socket) {
  const got: unknown[] = [];
  let fault: Error | undefined;
  let closed = false;
  const waiters: (() => void)[] = [];
  const pipe = new FramePipe(socket, {
    message: (value) => {
      got.push(value);
      waiters.splice(0).forEach((w) => w());
    },
    fault: (error) => {
      fault = error;
      waiters.splice(0).forEach((w) => w());
    },
    closed: () => {
      closed = true;
      waiters.splice(0).forEach((w) => w());
    },
  });
  const until = (what: string, done: () => boolean) =>
    within(
      new Promise<void>(function check(resolve) {
        if (done()) resolve();
        else waiters.push(() => check(resolve));
      }),
      3000,
      what,
    );
  return { pipe, got, fault: () => fault, closed: () => closed, until };
}

test('strings, plain values and v8-only values arrive as they were sent, in order', async () => {
  const [a, b] = await socketPair();
  const sender = new FramePipe(a, QUIET);
  const rx = receiver(b);
  const big = Buffer.alloc(300_000, 7);
  const sent: unknown[] = [
    '12 square 3',
    'ünïcødé ✓',
    '',
    42,
    [1, 'two', { three: 3 }],
    { t: 9, ids: [1, 2] },
    Buffer.from('bytes'),
    new Map([[1, new Set(['a'])]]),
    -0,
    undefined,
    big,
    'x'.repeat(100_000),
  ];
  for (const value of sent) sender.send(value);
  await rx.until('12 messages', () => rx.got.length === sent.length);
  assert.equal(rx.got.slice(0, 6), sent.slice(0, 6));
  assert.ok(Buffer.isBuffer(rx.got[6]) && (rx.got[6] as Buffer).toString() === 'bytes', 'a Buffer stays a Buffer');
  assert.equal(rx.got[7], sent[7]);
  assert.ok(rx.got[7] instanceof Map);
  assert.ok(Object.is(rx.got[8], -0), '-0 stays -0');
  assert.is(rx.got[9], undefined);
  assert.ok(Buffer.isBuffer(rx.got[10]) && big.equals(rx.got[10] as Buffer), 'a large Buffer arrives whole');
  assert.is(rx.got[11], sent[11]);
  assert.is(rx.fault(), undefined);
});

test('a pipe whose peer goes away says it closed', async () => {
  const [a, b] = await socketPair();
  const rx = receiver(b);
  a.destroy();
  await rx.until('closed', () => rx.closed());
  assert.is(rx.pipe.writable, false);
  assert.is(rx.fault(), undefined);
});

test('each write reports when it is done, and a write to a closed pipe reports its error', async () => {
  const [a, b] = await socketPair();
  const sender = new FramePipe(a, QUIET);
  receiver(b);
  const written = await within(new Promise<Error | null | undefined>((resolve) => sender.send('one', resolve)), 2000, 'write');
  assert.not.ok(written, 'written without error');
  sender.destroy();
  assert.is(sender.writable, false);
  const failed = await within(new Promise<Error | null | undefined>((resolve) => sender.send('two', resolve)), 2000, 'failed write');
  assert.instance(failed, Error);
});

test('a value that cannot be serialized throws at the sender, and nothing is written', async () => {
  const [a, b] = await socketPair();
  const sender = new FramePipe(a, QUIET);
  const rx = receiver(b);
  assert.throws(() => sender.send({ f: () => 1 }), /could not be cloned/);
  sender.send('after');
  await rx.until('the next message', () => rx.got.length === 1);
  assert.equal(rx.got, ['after']);
});

for (const [what, bytes] of [
  ['a length below the minimum', Buffer.from([0, 0, 0, 1, 1, 0])],
  ['an unknown frame type', Buffer.from([0, 0, 0, 3, 1, 77, 0x41])],
  ['a value that does not decode', Buffer.from([0, 0, 0, 4, 1, 0, 0x7b, 0x7b])],
] as const) {
  test(`${what}: the pipe reports a fault, closes, and hands on nothing after it`, async () => {
    const [a, b] = await socketPair();
    const rx = receiver(b);
    a.write(Buffer.concat([bytes, Buffer.from([0, 0, 0, 4, 1, 1, 0x6f, 0x6b])]));
    await rx.until('the fault', () => rx.fault() !== undefined);
    assert.equal(rx.got, []);
    await rx.until('the close', () => rx.closed());
    assert.ok(b.destroyed);
  });
}

test('drained() waits for what the peer wrote before it closed, or for its bound', async () => {
  const [a, b] = await socketPair();
  const sender = new FramePipe(a, QUIET);
  const rx = receiver(b);
  sender.send('last words');
  a.end();
  // A bound far past the wait: drained() must return when the peer closes, not at its bound.
  await within(rx.pipe.drained(60_000), 3000, 'drained after the peer closed');
  assert.equal(rx.got, ['last words']);
  assert.ok(rx.closed(), 'and the pipe said it closed');

  const [c, d] = await socketPair();
  const held = receiver(d);
  new FramePipe(c, QUIET);
  const started = performance.now();
  await within(held.pipe.drained(50), 2000, 'drained at its bound');
  assert.ok(performance.now() - started >= 45, 'waited for its bound while the peer held the pipe open');
  assert.ok(d.destroyed, 'and closed it then');
});

test.run();
