/**
 * The server-wide cap on bytes of frames still arriving: unit rules first, then real
 * connections on 127.0.0.1 that each start a large frame and stall.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProtocolError } from '../../lib/errors.js';
import { FrameBudget } from '../../lib/transport/frame-budget.js';
import { encodeFrameHeader } from '../../lib/transport/framing.js';
import { connect, listen } from '../../lib/transport/index.js';
import { Cleanup, KEY, nextEvent, rawHandshake } from './helpers.js';

const cleanup = new Cleanup();
test.after.each(() => cleanup.run());

test('over budget, the account holding the most is evicted and released', () => {
  const budget = new FrameBudget(100);
  const evicted: string[] = [];
  const a = budget.open(() => evicted.push('a'));
  const b = budget.open(() => evicted.push('b'));
  const c = budget.open(() => evicted.push('c'));
  a.set(60);
  b.set(30);
  assert.is(budget.usedBytes, 90);
  c.set(20);
  assert.equal(evicted, ['a']);
  assert.is(budget.usedBytes, 50);
  a.set(99); // a released account no longer counts
  assert.is(budget.usedBytes, 50);
  b.set(0);
  c.release();
  assert.is(budget.usedBytes, 0);
});

test('the evicted connection is told why', () => {
  const budget = new FrameBudget(10);
  let reason: Error | undefined;
  budget.open((e) => (reason = e)).set(11);
  assert.instance(reason, ProtocolError);
  assert.match(reason!.message, /budget of 10 bytes/);
  assert.is(budget.usedBytes, 0);
});

test('peers that each start a large frame and stall cannot hold more than the budget together', async () => {
  const MiB = 1024 * 1024;
  const server = cleanup.add(
    await listen({ authkey: KEY, maxFrameBytes: 8 * MiB, maxPartialFrameBytes: 12 * MiB, heartbeatTimeoutMs: 30_000 }),
  );
  server.on('connection', (peer) => peer.on('message', (type, value) => peer.send(type, value)));
  const good = cleanup.add(await connect({ authkey: KEY, port: server.address().port }));
  const hoarders = [];
  for (let i = 0; i < 4; i++) {
    const raw = cleanup.add(await rawHandshake(server.address().port));
    // each claims 7 MiB and sends 5 MiB of it, then nothing
    raw.write(encodeFrameHeader(16, 7 * MiB));
    raw.write(Buffer.alloc(5 * MiB));
    hoarders.push(raw);
  }
  for (const raw of hoarders) raw.resume(); // so that a close by the server is seen
  const deadline = Date.now() + 10_000;
  // wait until every byte sent has either been received or its connection cut
  while (Date.now() < deadline) {
    const closed = hoarders.filter((r) => r.destroyed).length;
    if (closed >= 2 && server.partialFrameBytes === (4 - closed) * 5 * MiB) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(server.partialFrameBytes <= 12 * MiB, `${server.partialFrameBytes} bytes held`);
  assert.is(hoarders.filter((r) => r.destroyed).length, 2, 'two of four 5 MiB hoarders fit a 12 MiB budget');
  // an ordinary frame from another peer still gets through, larger than what is left
  const reply = nextEvent<[number, unknown]>(good, 'message', 5000);
  good.send(16, Buffer.alloc(3 * MiB, 1));
  const [, value] = await reply;
  assert.is((value as Buffer).length, 3 * MiB);
  assert.ok(server.partialFrameBytes <= 12 * MiB);
});

test.run();
