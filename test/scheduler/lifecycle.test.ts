import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getEventListeners } from 'node:events';
import { AbortError, PoolClosedError, PoolDestroyedError, QueueFullError, TimeoutError, UnknownTaskError } from '../../lib/errors.js';
import { FakeBackend, flush, makeScheduler, rejection, sleep, track, within } from './fake-backend.js';

// --- abort -----------------------------------------------------------------------------

test('abort of a queued task rejects ERR_TROUPE_ABORTED and it is never dispatched', async () => {
  const fake = new FakeBackend({ capacity: 1 });
  const s = makeScheduler({}, fake);
  const running = track(s.submit('running', [1]));
  const controller = new AbortController();
  const queued = track(s.submit('queued', [2], { signal: controller.signal }));
  const after = track(s.submit('after', [3]));
  await flush();
  assert.is(s.stats().queued, 2);
  const reason = new Error('user gave up');
  controller.abort(reason);
  await flush();
  assert.is(queued.state, 'rejected');
  assert.instance(queued.error, AbortError);
  assert.is(queued.error!.code, 'ERR_TROUPE_ABORTED');
  assert.is(queued.error!.cause, reason);
  assert.is(s.stats().queued, 1);
  assert.equal(fake.cancelled, [], 'nothing to cancel on the backend');
  while (fake.answerAll() > 0) await flush();
  assert.equal(fake.sent.map((t) => t.name), ['running', 'after']);
  assert.is(running.value, 1);
  assert.is(after.value, 3);
});

test('an already-aborted signal rejects at once and nothing is dispatched', async () => {
  const fake = new FakeBackend();
  const s = makeScheduler({}, fake);
  const error = await rejection(s.submit('id', [1], { signal: AbortSignal.abort() }));
  assert.is(error.code, 'ERR_TROUPE_ABORTED');
  assert.is(fake.sent.length, 0);
  assert.is(s.stats().queued, 0);
});

test('abort of a running task rejects it and cancels its wire id on the backend', async () => {
  const fake = new FakeBackend();
  const s = makeScheduler({}, fake);
  const controller = new AbortController();
  const t = track(s.submit('id', [1], { signal: controller.signal }));
  const other = track(s.submit('id', [2]));
  await flush();
  const id = fake.sent[0].id;
  controller.abort();
  assert.equal(fake.cancelled, [[id]]);
  await flush();
  assert.is(t.state, 'rejected');
  assert.is(t.error!.code, 'ERR_TROUPE_ABORTED');
  assert.is(s.stats().running, 1);
  // The worker's answer arrives anyway: dropped.
  fake.results([id, 0, 'too late'], 0);
  fake.answerAll();
  await flush();
  assert.is(t.settlements, 1);
  assert.is(other.value, 2);
  assert.is(s.stats().completed, 1);
  assert.is(s.stats().failed, 1);
});

test('aborting after the task settled does nothing', async () => {
  const fake = new FakeBackend();
  const s = makeScheduler({}, fake);
  const controller = new AbortController();
  const p = s.submit('id', [1], { signal: controller.signal });
  fake.answerAll();
  assert.is(await within(p), 1);
  assert.is(getEventListeners(controller.signal, 'abort').length, 0, 'its abort listener is removed');
  controller.abort();
  await flush();
  assert.equal(fake.cancelled, []);
  assert.is(s.stats().failed, 0);
});

// --- timeout ---------------------------------------------------------------------------

test('timeout counts from dispatch: a task queued behind a full window does not time out while it waits', async () => {
  const fake = new FakeBackend({ capacity: 1 });
  const s = makeScheduler({}, fake);
  const blocker = track(s.submit('blocker', [1]));
  const waiting = track(s.submit('waiting', [2], { timeout: 25 }));
  await sleep(60); // well past 25 ms, all of it queued
  assert.is(waiting.state, 'pending', 'timed out while still queued');
  assert.equal(fake.sent.map((t) => t.name), ['blocker']);
  fake.answerAll();
  await flush();
  assert.is(blocker.value, 1);
  assert.equal(fake.sent.map((t) => t.name), ['blocker', 'waiting']);
  const dispatchedAt = fake.batches[1].at;
  const id = fake.lastBatch[0].id;
  const error = await rejection(waiting.promise, 1000);
  assert.instance(error, TimeoutError);
  assert.is(error.code, 'ERR_TROUPE_TIMEOUT');
  assert.ok(performance.now() - dispatchedAt >= 24, 'not before its timeout');
  assert.equal(fake.cancelled, [[id]], 'its worker is stopped');
  assert.is(s.stats().running, 0);
});

test('the pool-wide timeout applies when run() gives none; a per-run timeout overrides it', async () => {
  const fake = new FakeBackend();
  const s = makeScheduler({ timeout: 20 }, fake);
  const byDefault = track(s.submit('id', [1]));
  const overridden = track(s.submit('id', [2], { timeout: Infinity }));
  await flush();
  assert.is((await rejection(byDefault.promise, 1000)).code, 'ERR_TROUPE_TIMEOUT');
  await sleep(20);
  assert.is(overridden.state, 'pending');
  fake.answerAll();
  await flush();
  assert.is(overridden.value, 2);
});

test('a lost task gets a fresh timeout when it is dispatched again', async () => {
  const fake = new FakeBackend();
  const s = makeScheduler({ timeout: 200 }, fake);
  const t = track(s.submit('id', [1]));
  await sleep(50);
  assert.is(t.state, 'pending');
  fake.lose([fake.lastBatch[0].id], 'stopped');
  assert.is(fake.batches.length, 2);
  const error = await rejection(t.promise, 2000);
  assert.is(error.code, 'ERR_TROUPE_TIMEOUT');
  const sinceRedispatch = performance.now() - fake.batches[1].at;
  assert.ok(sinceRedispatch >= 195, `timed out ${sinceRedispatch.toFixed(0)} ms after its second dispatch`);
});

test('a timeout longer than 2^31-1 ms (about 24.8 days) does not fire at once', async () => {
  // Accepted by the option checks (any finite number > 0); setTimeout turns such delays into 1 ms.
  const fake = new FakeBackend();
  const s = makeScheduler({}, fake);
  const t = track(s.submit('id', [1], { timeout: 30 * 24 * 3600 * 1000 }));
  await sleep(30);
  assert.is(t.state, 'pending', `a 30-day timeout fired after 30 ms: ${t.error?.message}`);
  fake.answerAll();
  await flush();
  assert.is(t.value, 1);
});

// --- maxQueue and drain ----------------------------------------------------------------

test("maxQueue: refuses with ERR_TROUPE_QUEUE_FULL, then 'drain' once the queue is empty", async () => {
  const fake = new FakeBackend();
  fake.ready = false;
  const s = makeScheduler({ maxQueue: 2 }, fake);
  let drains = 0;
  s.on('drain', () => drains++);
  const tracked = [1, 2].map((i) => track(s.submit('id', [i])));
  const refused = await rejection(s.submit('id', [3]));
  assert.instance(refused, QueueFullError);
  assert.is(refused.code, 'ERR_TROUPE_QUEUE_FULL');
  assert.is(s.stats().queued, 2);
  assert.is(drains, 0);
  fake.drained();
  await flush();
  assert.is(s.stats().queued, 0);
  assert.is(drains, 1, 'drain as soon as the queue emptied (tasks still running)');
  assert.is(s.stats().running, 2);
  fake.answerAll();
  await flush();
  assert.is(drains, 1, 'once');
  assert.equal(tracked.map((t) => t.value), [1, 2]);
});

test('maxQueue counts queued tasks, not running ones', async () => {
  const fake = new FakeBackend({ capacity: 2 });
  const s = makeScheduler({ maxQueue: 1, batchSize: 1 }, fake);
  const a = track(s.submit('id', [1]));
  const b = track(s.submit('id', [2]));
  await flush();
  assert.is(s.stats().running, 2);
  const c = track(s.submit('id', [3]));
  await flush();
  assert.is(c.state, 'pending');
  assert.is((await rejection(s.submit('id', [4]))).code, 'ERR_TROUPE_QUEUE_FULL');
  while (fake.answerAll() > 0) await flush();
  assert.equal([a.value, b.value, c.value], [1, 2, 3]);
});

test("'drain' also fires when the queue empties because its tasks were aborted", async () => {
  const fake = new FakeBackend({ capacity: 1 });
  const s = makeScheduler({ maxQueue: 1 }, fake);
  let drains = 0;
  s.on('drain', () => drains++);
  const running = track(s.submit('id', [1]));
  await flush();
  assert.is(s.stats().running, 1);
  drains = 0;
  const controller = new AbortController();
  const queued = track(s.submit('id', [2], { signal: controller.signal }));
  await flush();
  assert.is((await rejection(s.submit('id', [3]))).code, 'ERR_TROUPE_QUEUE_FULL');
  controller.abort();
  await flush();
  assert.is(queued.state, 'rejected');
  assert.is(s.stats().queued, 0);
  assert.is(drains, 1, 'the queue is empty again but no drain until the running task ends');
  fake.answerAll();
  await flush();
  assert.is(running.value, 1);
});

// --- idle, close, destroy --------------------------------------------------------------

test("onIdle() and 'idle': at once when idle, else once nothing is queued or running", async () => {
  const fake = new FakeBackend({ capacity: 1 });
  const s = makeScheduler({}, fake);
  await within(s.onIdle(), 100);
  let idles = 0;
  s.on('idle', () => idles++);
  [1, 2].map((i) => s.submit('id', [i]));
  const idle = track(s.onIdle());
  fake.answerAll();
  await flush();
  assert.is(idle.state, 'pending', 'one still to run');
  assert.is(idles, 0);
  fake.answerAll();
  await flush();
  assert.is(idle.state, 'resolved');
  assert.is(idles, 1);
});

test('close() refuses new tasks with ERR_TROUPE_CLOSED and resolves once the submitted ones settle', async () => {
  const fake = new FakeBackend({ capacity: 1 });
  const s = makeScheduler({}, fake);
  const tracked = [1, 2].map((i) => track(s.submit('id', [i])));
  await flush();
  const closed = track(s.close());
  assert.is(s.closed, true);
  const refused = await rejection(s.submit('id', [3]));
  assert.instance(refused, PoolClosedError);
  assert.is(refused.code, 'ERR_TROUPE_CLOSED');
  fake.answerAll();
  await flush();
  assert.is(closed.state, 'pending');
  assert.equal(fake.sent.map((t) => t.args[0]), [1, 2], 'the queued task still runs');
  fake.answerAll();
  await flush();
  assert.is(closed.state, 'resolved');
  assert.equal(tracked.map((t) => t.value), [1, 2]);
});

test('close() with nothing pending resolves at once', async () => {
  const s = makeScheduler({}, new FakeBackend());
  await within(s.close(), 100);
});

test('destroy() rejects everything pending (queued, running, parked) with ERR_TROUPE_DESTROYED', async () => {
  const fake = new FakeBackend({ names: ['id'], capacity: 1 });
  const s = makeScheduler({ waitForBackends: true }, fake);
  const running = track(s.submit('id', [1]));
  const queued = track(s.submit('id', [2]));
  const parked = track(s.submit('elsewhere', [3]));
  await flush();
  assert.is(s.stats().running, 1);
  assert.is(s.stats().queued, 2);
  const runningId = fake.sent[0].id;
  s.destroy();
  await flush();
  for (const t of [running, queued, parked]) {
    assert.is(t.state, 'rejected');
    assert.instance(t.error, PoolDestroyedError);
    assert.is(t.error!.code, 'ERR_TROUPE_DESTROYED');
  }
  assert.is(s.stats().queued, 0);
  assert.is(s.stats().running, 0);
  await within(s.onIdle(), 100);
  assert.is((await rejection(s.submit('id', [4]))).code, 'ERR_TROUPE_CLOSED');
  fake.results([runningId, 0, 'late'], 0);
  await flush();
  assert.is(running.settlements, 1);
  assert.equal(fake.sent.map((t) => t.args[0]), [1]);
});

test('destroy() releases the backends it was keeping busy (setBusy(false))', async () => {
  const fake = new FakeBackend();
  const s = makeScheduler({}, fake);
  track(s.submit('id', [1]));
  assert.equal(fake.busyCalls, [true]);
  s.destroy();
  assert.equal(fake.busyCalls, [true, false], 'in flight went to 0 without setBusy(false)');
});

// --- names -----------------------------------------------------------------------------

test('an unknown name rejects ERR_TROUPE_UNKNOWN_TASK', async () => {
  const fake = new FakeBackend({ names: ['known'] });
  const s = makeScheduler({}, fake);
  const error = await rejection(s.submit('unknown', []));
  assert.instance(error, UnknownTaskError);
  assert.is(error.code, 'ERR_TROUPE_UNKNOWN_TASK');
  assert.is(fake.sent.length, 0);
  assert.is(s.stats().queued, 0);
  // With no backend at all, too.
  const empty = makeScheduler({});
  assert.is((await rejection(empty.submit('known', []))).code, 'ERR_TROUPE_UNKNOWN_TASK');
});

test('waitForBackends: a task nobody exports waits (parked) until a backend that exports it attaches', async () => {
  const s = makeScheduler({ waitForBackends: true });
  const x = track(s.submit('x', [1]));
  await flush();
  assert.is(x.state, 'pending');
  assert.is(s.stats().queued, 1);
  const idle = track(s.onIdle());

  const onlyY = new FakeBackend({ names: ['y'] });
  s.attach(onlyY);
  const y = track(s.submit('y', [2]));
  await flush();
  assert.equal(onlyY.sent.map((t) => t.name), ['y'], 'y is not held up behind the parked x, and x does not go to onlyY');
  onlyY.answerAll();
  await flush();
  assert.is(y.value, 2);
  assert.is(x.state, 'pending');
  assert.is(idle.state, 'pending', 'a parked task counts as pending');

  const exportsX = new FakeBackend({ names: ['x'] });
  s.attach(exportsX);
  assert.equal(exportsX.sent.map((t) => t.name), ['x'], 'dispatched on attach');
  exportsX.answerAll();
  await flush();
  assert.is(x.value, 1);
  assert.is(idle.state, 'resolved');
});

test('waitForBackends: a parked task can be aborted', async () => {
  const s = makeScheduler({ waitForBackends: true });
  const controller = new AbortController();
  const x = track(s.submit('x', [1], { signal: controller.signal }));
  await flush();
  controller.abort();
  await flush();
  assert.is(x.error?.code, 'ERR_TROUPE_ABORTED');
  await within(s.onIdle(), 100);
  const fake = new FakeBackend({ names: ['x'] });
  s.attach(fake);
  await flush();
  assert.is(fake.sent.length, 0);
});

// --- stats -----------------------------------------------------------------------------

test('stats(): queued, running, completed, failed, retried, wait and run time counts, workers', async () => {
  const fake = new FakeBackend({ id: 'w', capacity: 2 });
  const s = makeScheduler({ batchSize: 1 }, fake);
  const tracked = [1, 2, 3, 4].map((i) => track(s.submit('id', [i])));
  await flush();
  let stats = s.stats();
  assert.is(stats.queued, 2);
  assert.is(stats.running, 2);
  assert.is(stats.waitTime.count, 2, 'one wait per dispatch');
  assert.is(stats.runTime.count, 0);
  assert.equal(stats.workers, [{ id: 'w', kind: 'thread', state: 'busy', inFlight: 2, utilization: 0 }]);

  const [first, second] = fake.pendingIds;
  fake.ok([[first, 'ok']]);
  fake.fail(second, new Error('task threw'));
  await flush();
  stats = s.stats();
  assert.is(stats.completed, 1);
  assert.is(stats.failed, 1);
  assert.is(stats.queued, 0);
  assert.is(stats.running, 2);
  assert.is(stats.waitTime.count, 4);
  assert.is(stats.runTime.count, 2);
  assert.ok(stats.runTime.max >= 0 && stats.waitTime.max >= 0);

  fake.lose([fake.pendingIds[0]], 'died');
  await flush();
  assert.is(s.stats().retried, 1);
  while (fake.answerAll() > 0) await flush();
  stats = s.stats();
  assert.is(stats.completed, 3);
  assert.is(stats.failed, 1);
  assert.is(stats.retried, 1);
  assert.is(stats.queued, 0);
  assert.is(stats.running, 0);
  assert.is(stats.runTime.count, 4);
  const [{ utilization, ...worker }] = stats.workers;
  assert.equal(worker, { id: 'w', kind: 'thread', state: 'idle', inFlight: 0 });
  assert.ok(utilization >= 0 && utilization <= 1, `utilization ${utilization}`);
  assert.equal(tracked.map((t) => t.state), ['resolved', 'rejected', 'resolved', 'resolved']);
});

test.run();
