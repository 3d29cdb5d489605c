import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeBackend, flush, makeScheduler, track } from './fake-backend.js';

test('a task only a full backend exports does not hold up tasks an idle backend can run', async () => {
  const special = new FakeBackend({ names: ['special'], capacity: 1 });
  const local = new FakeBackend({ names: ['square'] });
  const s = makeScheduler({ waitForBackends: true }, special, local);
  const first = track(s.submit('special', [0]));
  const blocked = track(s.submit('special', [1]));
  const squares = Array.from({ length: 5 }, (_, i) => track(s.submit('square', [i])));
  await flush();
  assert.is(special.pending.size, 1, 'the special backend is full');
  assert.equal(local.sent.map((t) => t.args[0]), [0, 1, 2, 3, 4], 'squares went past the waiting special task');
  while (local.answerAll() > 0 || special.answerAll() > 0) await flush();
  assert.ok([first, blocked, ...squares].every((t) => t.state === 'resolved'));
  assert.equal(special.sent.map((t) => t.args[0]), [0, 1], 'special tasks kept their order');
});

test('a cancelled task waiting for a backend that exports it is released at once', async () => {
  const local = new FakeBackend({ names: ['square'] });
  const s = makeScheduler({ waitForBackends: true }, local);
  const controller = new AbortController();
  const parked = track(s.submit('agentOnly', [1], { signal: controller.signal }));
  await flush();
  assert.is(s.stats().queued, 1);
  controller.abort();
  await flush();
  assert.is(parked.state, 'rejected');
  assert.is(s.stats().queued, 0);
  const later = new FakeBackend({ names: ['agentOnly'] });
  s.attach(later);
  await flush();
  assert.is(later.sent.length, 0, 'the cancelled task never runs');
});

test('close() refuses tasks no backend exports, instead of waiting forever', async () => {
  const s = makeScheduler({ waitForBackends: true }, new FakeBackend({ names: ['square'] }));
  const parked = track(s.submit('agentOnly', []));
  await flush();
  await s.close();
  assert.is(parked.state, 'rejected');
  assert.is((parked.error as Error & { code: string }).code, 'ERR_TROUPE_CLOSED');
});

test('maxQueue counts tasks no worker has room for, not tasks of this turn still on their way', async () => {
  const fake = new FakeBackend({ parallelism: 4, capacity: 64 });
  const s = makeScheduler({ maxQueue: 10 }, fake);
  const tracked = Array.from({ length: 30 }, (_, i) => track(s.submit('id', [i])));
  await flush();
  assert.ok(tracked.every((t) => t.state !== 'rejected'), 'idle workers had room for all 30');
  while (fake.answerAll() > 0) await flush();
  assert.ok(tracked.every((t) => t.state === 'resolved'));
});

test('thousands of cancelled tasks swept out of the queue: the others still all run', async () => {
  const fake = new FakeBackend({ capacity: 1 });
  const s = makeScheduler({}, fake);
  const controllers = Array.from({ length: 5000 }, () => new AbortController());
  const tracked = controllers.map((c, i) => track(s.submit('id', [i], { signal: c.signal })));
  await flush();
  for (const c of controllers.slice(1, 4990)) c.abort();
  await flush();
  assert.is(s.stats().queued, 10);
  while (fake.answerAll() > 0) await flush();
  assert.is(tracked.filter((t) => t.state === 'resolved').length, 11);
});

test('a task that may be stopped (signal or timeout) travels alone: stopping it re-runs no neighbour', async () => {
  const fake = new FakeBackend();
  const s = makeScheduler({}, fake);
  track(s.submit('id', [0]));
  const plain = [1, 2].map((i) => track(s.submit('id', [i])));
  const timed = track(s.submit('id', [3], { timeout: 60_000 }));
  const more = [4, 5].map((i) => track(s.submit('id', [i])));
  await flush();
  assert.equal(
    fake.batches.map((b) => b.tasks.map((t) => t.args[0])),
    [[0], [1, 2], [3], [4, 5]],
  );
  while (fake.answerAll() > 0) await flush();
  assert.ok([...plain, timed, ...more].every((t) => t.state === 'resolved'));
});


test('maxQueue and a burst in one turn: what the windows can take is not waiting; needsDrain says when run() would refuse', async () => {
  const a = new FakeBackend();
  const b = new FakeBackend();
  // Windows of 16 tasks each (the fake's initial window): room for 32 now.
  const s = makeScheduler({ maxQueue: 3 }, a, b);
  const tracked = Array.from({ length: 40 }, (_, i) => track(s.submit('id', [i])));
  await flush();
  assert.is(tracked.filter((t) => t.error?.code === 'ERR_TROUPE_QUEUE_FULL').length, 5, '32 in the windows, 3 waiting, 5 refused');
  assert.ok(s.needsDrain, 'at the bound');
  const drained = new Promise<void>((resolve) => s.once('drain', resolve));
  while (a.answerAll() + b.answerAll() > 0) await flush();
  await drained;
  assert.not.ok(s.needsDrain);
  assert.is(tracked.filter((t) => t.state === 'resolved').length, 35);
});

test.run();
