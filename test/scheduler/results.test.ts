import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ERR, OK } from '../../lib/backends/types.js';
import { serializeError, WorkerLostError } from '../../lib/errors.js';
import { FakeBackend, flush, makeScheduler, rejection, track, within } from './fake-backend.js';

test('results settle the promises of their own ids, in any order, OK or error', async () => {
  const fake = new FakeBackend();
  const s = makeScheduler({}, fake);
  const tracked = [0, 1, 2, 3, 4].map((i) => track(s.submit('id', [i])));
  await flush();
  const ids = fake.sent.map((t) => t.id);
  assert.is(ids.length, 5);
  const failure = Object.assign(new RangeError('bad input'), { code: 'E_BAD' });
  // One message, out of order, one of them an error.
  fake.results([
    ids[3], OK, 'three',
    ids[0], OK, 'zero',
    ids[2], ERR, structuredClone(serializeError(failure)),
    ids[4], OK, { four: 4 },
    ids[1], OK, 'one',
  ]);
  await flush();
  assert.equal(tracked.map((t) => t.state), ['resolved', 'resolved', 'rejected', 'resolved', 'resolved']);
  assert.equal(tracked.map((t) => t.value), ['zero', 'one', undefined, 'three', { four: 4 }]);
  const error = tracked[2].error!;
  assert.instance(error, RangeError);
  assert.is(error.message, 'bad input');
  assert.is(error.code, 'E_BAD');
  const stats = s.stats();
  assert.is(stats.completed, 4);
  assert.is(stats.failed, 1);
});

test('a result for an unknown id is dropped', async () => {
  const fake = new FakeBackend();
  const s = makeScheduler({}, fake);
  const t = track(s.submit('id', [1]));
  const id = fake.lastBatch[0].id;
  fake.results([id + 1000, OK, 'nobody'], 0);
  await flush();
  assert.is(t.state, 'pending');
  assert.is(s.stats().running, 1);
  assert.is(s.stats().completed, 0);
  fake.ok([[id, 'mine']]);
  await flush();
  assert.is(t.value, 'mine');
});

test('a duplicate result settles nothing twice and frees no extra room in the window', async () => {
  const fake = new FakeBackend({ capacity: 2 });
  const s = makeScheduler({ batchSize: 1 }, fake);
  const tracked = [1, 2, 3, 4].map((i) => track(s.submit('id', [i])));
  await flush();
  assert.is(fake.pending.size, 2);
  const first = fake.sent[0].id;
  fake.ok([[first, 'once']]);
  await flush();
  assert.is(fake.pending.size, 2, 'the third task took its place');
  fake.ok([[first, 'twice']]);
  await flush();
  assert.is(fake.pending.size, 2, 'the stale duplicate must not let a fifth task in flight');
  assert.is(fake.sent.length, 3);
  assert.is(tracked[0].value, 'once');
  assert.is(tracked[0].settlements, 1);
  assert.is(s.stats().completed, 1);
  while (fake.answerAll() > 0) await flush();
});

test('fencing: a late result from the backend a task was taken from is dropped, so is one from a backend that never had it', async () => {
  const a = new FakeBackend({ id: 'a' });
  const b = new FakeBackend({ id: 'b' });
  const s = makeScheduler({}, a, b);
  const t = track(s.submit('id', [1]));
  assert.is(a.sent.length, 1, 'a is attached first and goes first');
  const onA = a.sent[0].id;
  a.ready = false; // so that the retry has to go to b
  a.lose([onA], 'died');
  await flush();
  assert.is(b.sent.length, 1);
  const onB = b.sent[0].id;
  assert.is.not(onB, onA, 'a fresh wire id for each attempt');
  // a's worker had finished after all, and says so late.
  a.results([onA, OK, 'from a'], 0);
  // a claims b's attempt.
  a.results([onB, OK, 'forged by a'], 0);
  await flush();
  assert.is(t.state, 'pending');
  assert.is(s.stats().running, 1);
  b.ok([[onB, 'from b']]);
  await flush();
  assert.is(t.value, 'from b');
  assert.is(t.settlements, 1);
  assert.is(s.stats().completed, 1);
});

test("lost 'died' re-queues at the front with attempt+1; past `retries` it rejects ERR_TROUPE_WORKER_LOST", async () => {
  const fake = new FakeBackend({ capacity: 1 });
  const s = makeScheduler({ retries: 2 }, fake);
  const retries: { name: string; attempt: number; error: Error }[] = [];
  s.on('retry', (info) => retries.push(info));
  const first = track(s.submit('first', [1]));
  const second = track(s.submit('second', [2]));
  const third = track(s.submit('third', [3]));
  await flush();
  assert.equal(fake.sent.map((t) => t.name), ['first']);

  const crash = new Error('worker crashed');
  fake.lose([fake.lastBatch[0].id], 'died', crash);
  await flush();
  assert.equal(fake.sent.map((t) => t.name), ['first', 'first'], 'back at the head of the queue');
  assert.equal(retries.map((r) => [r.name, r.attempt]), [['first', 2]]);
  assert.is(retries[0].error, crash);
  assert.is(first.state, 'pending');

  fake.lose([fake.lastBatch[0].id], 'died', crash);
  await flush();
  assert.equal(fake.sent.map((t) => t.name), ['first', 'first', 'first']);
  assert.equal(retries.map((r) => r.attempt), [2, 3]);

  fake.lose([fake.lastBatch[0].id], 'died', crash);
  await flush();
  assert.is(first.state, 'rejected');
  const error = first.error!;
  assert.instance(error, WorkerLostError);
  assert.is(error.code, 'ERR_TROUPE_WORKER_LOST');
  assert.is(error.cause, crash);
  assert.match(error.message, /3 attempts/);
  assert.is(retries.length, 2, 'no retry event for the final loss');
  assert.equal(fake.sent.map((t) => t.name), ['first', 'first', 'first', 'second'], 'the queue moves on');
  const stats = s.stats();
  assert.is(stats.retried, 2);
  assert.is(stats.failed, 1);
  while (fake.answerAll() > 0) await flush();
  assert.equal([second.value, third.value], [2, 3]);
});

test('retries: 0 rejects on the first loss', async () => {
  const fake = new FakeBackend();
  const s = makeScheduler({ retries: 0 }, fake);
  const p = s.submit('id', [1]);
  fake.lose([fake.lastBatch[0].id], 'died');
  const error = await rejection(p);
  assert.is(error.code, 'ERR_TROUPE_WORKER_LOST');
  assert.is(fake.sent.length, 1);
});

test('tasks re-queued after a loss run alone, one at a time on a single-worker backend', async () => {
  const fake = new FakeBackend();
  const s = makeScheduler({ batchSize: 16 }, fake);
  const tracked = Array.from({ length: 6 }, (_, i) => track(s.submit('id', [i])));
  await flush();
  assert.equal(fake.batches.map((b) => b.tasks.length), [1, 5], 'a lone task, then the rest together');
  fake.lose(fake.batches[1].tasks.map((t) => t.id), 'died');
  await flush();
  // Submitted after the loss: an ordinary task, free to share a batch.
  const later = [6, 7].map((i) => track(s.submit('id', [i])));
  await flush();
  assert.is(fake.batches.length, 2, 'no suspect joins task 0, still running on the only worker');
  const order: unknown[][] = [];
  while (fake.answerAll() > 0) {
    await flush();
    if (fake.pendingIds.length > 0) order.push(fake.lastBatch.map((t) => t.args[0]));
  }
  assert.equal(order, [[1], [2], [3], [4], [5], [6, 7]], 'suspects alone and in order, then the rest together');
  assert.ok([...tracked, ...later].every((t) => t.state === 'resolved'));
  assert.is(s.stats().retried, 5);
});

test('after a loss, suspects on a backend with several workers still go alone but side by side', async () => {
  const fake = new FakeBackend({ parallelism: 4 });
  const s = makeScheduler({ batchSize: 16 }, fake);
  Array.from({ length: 6 }, (_, i) => track(s.submit('id', [i])));
  await flush();
  const lost = fake.batches.flatMap((b) => b.tasks.map((t) => t.id));
  fake.lose(lost, 'died');
  await flush();
  const retried = fake.batches.slice(-6);
  assert.ok(retried.every((b) => b.tasks.length === 1), 'each alone in its batch');
  assert.is(fake.pendingIds.length, 6, 'all in flight at once: each thread runs one batch');
});

test("lost 'stopped' re-queues without counting an attempt", async () => {
  const fake = new FakeBackend();
  const s = makeScheduler({ retries: 1 }, fake);
  let retryEvents = 0;
  s.on('retry', () => retryEvents++);
  const t = track(s.submit('id', [1]));
  for (let i = 0; i < 5; i++) {
    fake.lose([fake.lastBatch[0].id], 'stopped');
    await flush();
    assert.is(t.state, 'pending');
  }
  assert.is(fake.sent.length, 6);
  assert.is(retryEvents, 0);
  assert.is(s.stats().retried, 0);
  // It still has its one retry: the first death re-queues, the second rejects.
  fake.lose([fake.lastBatch[0].id], 'died');
  await flush();
  assert.is(t.state, 'pending');
  assert.is(retryEvents, 1);
  fake.lose([fake.lastBatch[0].id], 'died');
  await flush();
  assert.is(t.state, 'rejected');
  assert.is(t.error!.code, 'ERR_TROUPE_WORKER_LOST');
  assert.match(t.error!.message, /2 attempts/);
});

test("lost 'isolate' re-runs each task alone; a lone task isolated again rejects with the given error", async () => {
  const fake = new FakeBackend();
  const s = makeScheduler({ retries: 0 }, fake);
  const tracked = Array.from({ length: 4 }, (_, i) => track(s.submit('id', [i])));
  await flush();
  const batch = fake.batches[1].tasks;
  assert.is(batch.length, 3);
  fake.lose(batch.map((t) => t.id), 'isolate', new Error('batch did not clone'));
  await flush();
  assert.equal(fake.batches.slice(2).map((b) => b.tasks.map((t) => t.args[0])), [[1], [2], [3]]);
  assert.ok(tracked.every((t) => t.state === 'pending'), 'isolation is no failed attempt, even with retries: 0');
  const culprit = fake.batches[3].tasks[0].id;
  const bad = new TypeError('task 2 does not clone');
  fake.lose([culprit], 'isolate', bad);
  await flush();
  assert.is(tracked[2].state, 'rejected');
  assert.is(tracked[2].error, bad);
  while (fake.answerAll() > 0) await flush();
  assert.equal(tracked.map((t) => t.state), ['resolved', 'resolved', 'rejected', 'resolved']);
  assert.is(fake.sent.filter((t) => t.args[0] === 2).length, 2, 'not run a third time');
  assert.is(s.stats().retried, 0);
});

test('a backend whose dispatch() throws (DataCloneError): its tasks are isolated and only the bad one rejects', async () => {
  const fake = new FakeBackend({ clone: true });
  const s = makeScheduler({}, fake);
  const lone = track(s.submit('id', [0]));
  const tracked = [
    track(s.submit('id', [1])),
    track(s.submit('id', [() => 'no clone'])),
    track(s.submit('id', [3])),
  ];
  await flush();
  assert.is(fake.refused.length, 2, 'the batch of three, then the bad task alone');
  assert.equal(fake.batches.map((b) => b.tasks.length), [1, 1, 1]);
  assert.is(tracked[1].state, 'rejected');
  assert.is(tracked[1].error!.name, 'DataCloneError');
  while (fake.answerAll() > 0) await flush();
  assert.is(lone.value, 0);
  assert.is(tracked[0].value, 1);
  assert.is(tracked[2].value, 3);
  assert.is(s.stats().failed, 1);
  assert.is(s.stats().running, 0);
  assert.is(fake.busyCalls[fake.busyCalls.length - 1], false);
});

test('a lone task whose dispatch() throws rejects within submit()', async () => {
  const fake = new FakeBackend({ clone: true });
  const s = makeScheduler({}, fake);
  const t = track(s.submit('id', [Symbol('no clone')]));
  assert.is(fake.refused.length, 2, 'tried alone once more');
  await flush();
  assert.is(t.state, 'rejected');
  assert.is(t.error!.name, 'DataCloneError');
  assert.is(s.stats().running, 0);
  assert.is(s.stats().queued, 0);
});

test('exited(): everything in flight on that backend runs again elsewhere; its later results are dropped', async () => {
  const a = new FakeBackend({ id: 'a' });
  const b = new FakeBackend({ id: 'b' });
  const s = makeScheduler({}, a, b);
  const tracked = [1, 2, 3].map((i) => track(s.submit('id', [i])));
  await flush();
  // Put everything on a: b is congested for now.
  b.ready = false;
  const more = [4, 5].map((i) => track(s.submit('id', [i])));
  await flush();
  const onA = a.sent.map((t) => t.id);
  const onB = b.sent.map((t) => t.id);
  assert.ok(onA.length >= 3, `a has ${onA.length}`);
  b.ready = true;
  b.answerAll();
  await flush();
  a.exit('stopped', new Error('a went away'));
  await flush();
  assert.is(b.sent.length, onB.length + onA.length, 'all of a\u2019s tasks went to b');
  assert.ok(!s.backends.includes(a), 'a is no longer attached');
  assert.equal(s.stats().workers.map((w) => w.id), ['b']);
  assert.is(a.busyCalls[a.busyCalls.length - 1], false, 'an exited backend holds nothing');
  // a's answers arrive after all: dropped.
  a.results(onA.flatMap((id) => [id, OK, 'stale']));
  await flush();
  assert.ok([...tracked, ...more].every((t) => t.state !== 'rejected'));
  assert.ok(tracked.every((t) => t.value !== 'stale'));
  while (b.answerAll() > 0) await flush();
  assert.equal([...tracked, ...more].map((t) => t.value), [1, 2, 3, 4, 5]);
});

test("exited('died') counts an attempt for each task it held", async () => {
  const a = new FakeBackend();
  const s = makeScheduler({ retries: 0 }, a);
  const t = track(s.submit('id', [1]));
  a.exit('died', new Error('segfault'));
  await flush();
  assert.is(t.state, 'rejected');
  assert.is(t.error!.code, 'ERR_TROUPE_WORKER_LOST');
});

test('exited(): nothing is dispatched to the backend that exited, even if it still reports ready', async () => {
  // `ready` is documented as channel congestion only; exited() is what says the backend is gone.
  const a = new FakeBackend({ id: 'a' });
  const b = new FakeBackend({ id: 'b' });
  const s = makeScheduler({}, a, b);
  const t = track(s.submit('id', [1]));
  assert.is(a.sent.length, 1);
  a.exit('stopped', new Error('a went away'), { stayReady: true });
  await flush();
  assert.is(a.batches.length, 1, 'the re-queued task was sent back to the backend that just exited');
  assert.is(b.sent.length, 1);
  b.answerAll();
  await within(t.promise, 500);
});

test('exited() of the only backend: its tasks wait for the next backend', async () => {
  const a = new FakeBackend({ id: 'a', names: ['id'] });
  const s = makeScheduler({}, a);
  const t = track(s.submit('id', [1]));
  a.exit('stopped', new Error('a went away'), { stayReady: true });
  await flush();
  assert.is(a.batches.length, 1, 'sent back to the backend that just exited');
  const b = new FakeBackend({ id: 'b', names: ['id'] });
  s.attach(b);
  await flush();
  assert.is(b.sent.length, 1);
  b.answerAll();
  await within(t.promise, 500);
});

test('a backend that is not attached (or no longer) cannot settle anything', async () => {
  const a = new FakeBackend();
  const stranger = new FakeBackend();
  const s = makeScheduler({}, a);
  const t = track(s.submit('id', [1]));
  const id = a.lastBatch[0].id;
  s.results(stranger, { base: id, values: ['forged'], busy: 0, run: 0 });
  s.lost(stranger, [id], 'died', new Error('forged'));
  s.exited(stranger, 'died', new Error('forged'));
  await flush();
  assert.is(t.state, 'pending');
  assert.is(a.sent.length, 1);
  a.answerAll();
  await flush();
  assert.is(t.value, 1);
});

test('a single-worker backend that dies charges only the batch it was running; the batches behind it run again free', async () => {
  const fake = new FakeBackend();
  const s = makeScheduler({ retries: 1 }, fake);
  const retried: string[] = [];
  s.on('retry', (r) => retried.push(String(r.attempt)));
  const first = track(s.submit('id', [0]));
  await flush();
  const rest = Array.from({ length: 5 }, (_, i) => track(s.submit('id', [i + 1])));
  await flush();
  assert.ok(fake.batches.length >= 2, 'the running batch, and others queued behind it');
  fake.lose(fake.pendingIds, 'died');
  await flush();
  assert.equal(retried, ['2'], 'one retry: the task of the batch it died in');
  assert.is(s.stats().retried, 1);
  while (fake.answerAll() > 0) await flush();
  assert.ok([first, ...rest].every((t) => t.state === 'resolved'));
});

test.run();
