import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeBackend, flush, makeScheduler, track, within } from './fake-backend.js';

test('a lone task on an idle backend is dispatched within submit(), before any await', async () => {
  const fake = new FakeBackend();
  const s = makeScheduler({}, fake);
  const p = s.submit('square', [7]);
  assert.is(fake.batches.length, 1);
  assert.equal(fake.lastBatch.map((t) => [t.name, t.args]), [['square', [7]]]);
  fake.ok([[fake.lastBatch[0].id, 49]]);
  assert.is(await within(p), 49);
});

test('tasks submitted in one turn travel in batches of at most batchSize, spread over backends and workers', async () => {
  const a = new FakeBackend({ parallelism: 2, capacity: 64 });
  const b = new FakeBackend({ parallelism: 2, capacity: 64 });
  const s = makeScheduler({ batchSize: 8 }, a, b);
  const tracked = Array.from({ length: 50 }, (_, i) => track(s.submit<number>('id', [i])));
  // Only the first one went out at once; the rest wait for the end of the turn.
  assert.is(a.sent.length + b.sent.length, 1);
  await flush();

  const batches = [...a.batches, ...b.batches];
  const sent = [...a.sent, ...b.sent];
  assert.is(sent.length, 50, 'everything fits the two windows');
  assert.equal(new Set(sent.map((t) => t.id)).size, 50, 'each task has its own wire id');
  assert.equal(sent.map((t) => t.args[0]).sort((x, y) => (x as number) - (y as number)), [...Array(50).keys()]);
  for (const batch of batches) assert.ok(batch.tasks.length <= 8, `a batch of ${batch.tasks.length} > batchSize`);
  assert.ok(batches.length < 20, `they travel together (${batches.length} batches for 50 tasks)`);
  // Both backends, and more than one batch each (one per worker behind it).
  assert.ok(a.batches.length >= 2, `a got ${a.batches.length} batches`);
  assert.ok(b.batches.length >= 2, `b got ${b.batches.length} batches`);
  assert.ok(Math.abs(a.sent.length - b.sent.length) <= 8, `uneven: ${a.sent.length} vs ${b.sent.length}`);

  a.answerAll((t) => (t.args[0] as number) * 10);
  b.answerAll((t) => (t.args[0] as number) * 10);
  await flush();
  tracked.forEach((t, i) => {
    assert.is(t.state, 'resolved');
    assert.is(t.value, i * 10);
  });
});

test('the in-flight window never exceeds a backend\u2019s capacity', async () => {
  const fake = new FakeBackend({ parallelism: 2, capacity: 3 });
  const s = makeScheduler({ batchSize: 8 }, fake);
  const tracked = Array.from({ length: 20 }, (_, i) => track(s.submit('id', [i])));
  await flush();
  assert.is(fake.pending.size, 3, 'fills the window');
  while (fake.pending.size > 0) {
    fake.ok([[fake.pendingIds[0], 0]], 0);
    await flush();
    assert.ok(fake.pending.size <= 3, `in flight: ${fake.pending.size}`);
  }
  assert.is(fake.maxPending, 3);
  assert.is(fake.sent.length, 20);
  assert.ok(tracked.every((t) => t.state === 'resolved'));
});

test('slow start: one task per worker at first, then at most double per round trip, up to capacity for tiny tasks', async () => {
  const fake = new FakeBackend({ parallelism: 1, capacity: 100 });
  const s = makeScheduler({ batchSize: 8, initialWindow: 1 }, fake);
  const tracked = Array.from({ length: 400 }, (_, i) => track(s.submit('id', [i])));
  await flush();
  const sizes = [fake.pending.size];
  while (fake.answerAll(undefined, 0) > 0) {
    await flush();
    sizes.push(fake.pending.size);
  }
  assert.is(sizes[0], 1, 'nothing is sent blind beyond one task');
  for (let i = 1; i < sizes.length; i++) assert.ok(sizes[i] <= Math.max(2 * sizes[i - 1], 1), `round ${i}: ${sizes.join(' ')}`);
  assert.ok(Math.max(...sizes) > 100 - 8 && fake.maxPending <= 100, `grows to capacity: ${sizes.join(' ')}`);
  assert.ok(tracked.every((t) => t.state === 'resolved'));
});

test('slow start: a worker stuck on a long task is given nothing more while another one takes the rest', async () => {
  const a = new FakeBackend({ id: 'a' });
  const b = new FakeBackend({ id: 'b' });
  const s = makeScheduler({ batchSize: 8, initialWindow: 1 }, a, b);
  const tracked = Array.from({ length: 11 }, (_, i) => track(s.submit('id', [i])));
  await flush();
  assert.equal([a.pending.size, b.pending.size], [1, 1]);
  // b's tasks take 100 ms each; a's first never ends here.
  for (let i = 0; i < 9; i++) {
    b.answerAll(undefined, 100);
    await flush();
    assert.is(a.pending.size, 1, 'nothing waits behind the long task');
  }
  b.answerAll(undefined, 100);
  await flush();
  assert.is(tracked.filter((t) => t.state === 'resolved').length, 10);
  a.answerAll(undefined, 3000);
  await flush();
  assert.ok(tracked.every((t) => t.state === 'resolved'));
});

test('the window shrinks to about one task per worker when tasks are long', async () => {
  const fake = new FakeBackend({ parallelism: 2, capacity: 100 });
  const s = makeScheduler({ batchSize: 8 }, fake);
  const tracked = Array.from({ length: 100 }, (_, i) => track(s.submit('id', [i])));
  await flush();
  assert.ok(fake.pending.size > 2, `starts deeper (${fake.pending.size})`);
  fake.answerAll(undefined, 100 * fake.pending.size); // 100 ms per task
  await flush();
  assert.is(fake.pending.size, 2, 'one per worker');
  for (let round = 0; round < 5; round++) {
    fake.answerAll(undefined, 100 * fake.pending.size);
    await flush();
    assert.is(fake.pending.size, 2);
  }
  while (fake.answerAll(undefined, 100 * fake.pending.size) > 0) await flush();
  assert.ok(tracked.every((t) => t.state === 'resolved'));
});

test('long tasks: a worker that finishes gets the next queued task at once', async () => {
  // Window shrunk to one task per worker: when one of the two finishes, one worker sits idle
  // unless the next task goes out now (not when the other one finishes too).
  const fake = new FakeBackend({ parallelism: 2, capacity: 100 });
  const s = makeScheduler({ batchSize: 8 }, fake);
  const tracked = Array.from({ length: 100 }, (_, i) => track(s.submit('id', [i])));
  await flush();
  fake.answerAll(undefined, 100 * fake.pending.size); // 100 ms per task: window -> 2
  await flush();
  assert.is(fake.pending.size, 2);
  fake.ok([[fake.pendingIds[0], 0]], 100);
  await flush();
  assert.is(fake.pending.size, 2, 'a worker sits idle while tasks are queued');
  while (fake.answerAll(undefined, 100 * fake.pending.size) > 0) await flush();
  assert.ok(tracked.every((t) => t.state === 'resolved'));
});

test('a backend exporting only some names receives only those', async () => {
  const a = new FakeBackend({ names: ['a'], parallelism: 2 });
  const b = new FakeBackend({ names: ['b'], parallelism: 2 });
  const s = makeScheduler({}, a, b);
  const tracked = Array.from({ length: 30 }, (_, i) => track(s.submit(i % 3 === 0 ? 'a' : 'b', [i])));
  await flush();
  assert.ok(a.sent.length > 0 && a.sent.every((t) => t.name === 'a'));
  assert.ok(b.sent.length > 0 && b.sent.every((t) => t.name === 'b'));
  while (a.answerAll() + b.answerAll() > 0) await flush();
  assert.is(a.sent.length, 10);
  assert.is(b.sent.length, 20);
  tracked.forEach((t, i) => assert.is(t.value, i));
});

test('a backend with names === null takes any name', async () => {
  const fake = new FakeBackend({ names: null });
  const s = makeScheduler({}, fake);
  const p = s.submit('whatever', [1]);
  assert.is(fake.lastBatch[0].name, 'whatever');
  fake.answerAll();
  assert.is(await within(p), 1);
});

test('setBusy(true) when in-flight goes from 0 to some, setBusy(false) when it returns to 0', async () => {
  const fake = new FakeBackend({ capacity: 8 });
  const s = makeScheduler({}, fake);
  assert.equal(fake.busyCalls, []);
  const p1 = s.submit('id', [1]);
  assert.equal(fake.busyCalls, [true]);
  const p2 = s.submit('id', [2]);
  await flush();
  assert.is(fake.pending.size, 2);
  assert.equal(fake.busyCalls, [true], 'no call while it stays busy');
  fake.ok([[fake.pendingIds[0], 1]]);
  assert.equal(fake.busyCalls, [true]);
  fake.ok([[fake.pendingIds[0], 2]]);
  assert.equal(fake.busyCalls, [true, false]);
  await within(Promise.all([p1, p2]));
  const p3 = s.submit('id', [3]);
  assert.equal(fake.busyCalls, [true, false, true]);
  fake.answerAll();
  await within(p3);
  assert.equal(fake.busyCalls, [true, false, true, false]);
});

test('a congested backend (ready=false) gets nothing more until writable()', async () => {
  const fake = new FakeBackend({ congest: true });
  const s = makeScheduler({}, fake);
  const tracked = [1, 2, 3].map((i) => track(s.submit('id', [i])));
  await flush();
  assert.is(fake.batches.length, 1, 'one batch, then congested');
  assert.is(fake.ready, false);
  assert.is(s.stats().queued, 2);
  fake.answerAll(); // results alone do not make it writable
  await flush();
  assert.is(fake.batches.length, 1);
  fake.drained();
  assert.is(fake.batches.length, 2, 'writable() resumes dispatch at once');
  assert.equal(fake.lastBatch.map((t) => t.args[0]), [2, 3]);
  fake.answerAll();
  await flush();
  assert.equal(tracked.map((t) => t.value), [1, 2, 3]);
});

test('a congested backend is skipped while another one takes the work', async () => {
  const a = new FakeBackend({ congest: true });
  const b = new FakeBackend();
  const s = makeScheduler({}, a, b);
  s.submit('id', [1]);
  assert.is(a.batches.length, 1);
  const p2 = s.submit('id', [2]);
  const p3 = s.submit('id', [3]);
  await flush();
  assert.is(a.batches.length, 1);
  assert.equal(b.sent.map((t) => t.args[0]), [2, 3]);
  b.answerAll();
  assert.equal(await within(Promise.all([p2, p3])), [2, 3]);
});

test.run();
