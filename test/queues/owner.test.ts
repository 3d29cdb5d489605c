// The owner's own handle (pool.queue) in the pool's process: back-pressure, timeouts,
// aborts, manual acknowledgement, the end of iteration, and the options' checks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createPool, type Pool } from '../../lib/index.js';
import { outcome, TASKS, within } from '../remote/helpers.js';

let pool: Pool;

test.before(async () => {
  pool = await createPool({ tasks: TASKS, mode: 'thread', size: 1, maxQueues: 5 });
});

test.after(async () => {
  await pool.destroy();
});

test('put waits while the queue is full, and lands once there is room', async () => {
  const q = pool.queue<number>('full', { capacity: 2 });
  await q.put(1);
  await q.put(2);
  let landed = false;
  const third = q.put(3).then(() => (landed = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.is(landed, false, 'the third put waits');
  assert.is(q.size(), 2);
  assert.is(await q.get(), 1);
  await within(third, 1_000, 'the third put');
  assert.equal([await q.get(), await q.get()], [2, 3]);
});

test('get rejects with ERR_TROUPE_TIMEOUT, and an aborted get or put with ERR_TROUPE_ABORTED; the aborted put never lands', async () => {
  const q = pool.queue<number>('waits', { capacity: 1 });
  const timedOut = await outcome(q.get({ timeout: 30 }), 2_000, 'get with a timeout');
  assert.is(!timedOut.ok && timedOut.error.code, 'ERR_TROUPE_TIMEOUT');
  const controller = new AbortController();
  const aborted = outcome(q.get({ signal: controller.signal }), 2_000, 'an aborted get');
  controller.abort();
  const a = await aborted;
  assert.is(!a.ok && a.error.code, 'ERR_TROUPE_ABORTED');
  await q.put(1);
  const put = await outcome(q.put(2, { signal: AbortSignal.timeout(30) }), 2_000, 'an aborted put');
  assert.is(!put.ok && put.error.code, 'ERR_TROUPE_ABORTED');
  assert.is(await q.get(), 1);
  const more = await outcome(q.get({ timeout: 50 }), 2_000, 'a get after the aborted put');
  assert.is(!more.ok && more.error.code, 'ERR_TROUPE_TIMEOUT', 'the aborted put never landed');
});

test('a nacked item goes back to the front; leaving a loop gives the current item back', async () => {
  const q = pool.queue<string>('acks');
  await q.put('a');
  await q.put('b');
  const first = await q.get({ ack: 'manual' });
  assert.is(first.value, 'a');
  first.nack();
  first.ack(); // the first call counts
  for await (const item of q) {
    assert.is(item, 'a');
    break;
  }
  assert.equal([await q.get(), await q.get()], ['a', 'b']);
});

test('iteration ends once the queue is closed and drained; puts after close reject', async () => {
  const q = pool.queue<number>('ends');
  for (let i = 0; i < 5; i++) await q.put(i);
  const seen: number[] = [];
  const loop = (async () => {
    for await (const n of q) seen.push(n);
  })();
  q.close();
  await within(loop, 2_000, 'the loop to end');
  assert.equal(seen, [0, 1, 2, 3, 4]);
  const late = await outcome(q.put(5), 1_000, 'a put after close');
  assert.is(!late.ok && late.error.code, 'ERR_TROUPE_QUEUE_CLOSED');
  const get = await outcome(q.get(), 1_000, 'a get after close');
  assert.is(!get.ok && get.error.code, 'ERR_TROUPE_QUEUE_CLOSED');
});

test('maxQueues bounds the queues a pool makes; bad options name themselves', async () => {
  pool.queue('fifth'); // 'full', 'waits', 'acks' and 'ends' exist: this one makes five
  assert.throws(() => pool.queue('one-too-many'), (e: Error & { code?: string }) => e.code === 'ERR_TROUPE_QUEUE_LIMIT' && /maxQueues/.test(e.message));
  assert.throws(() => pool.queue('x', { capacity: 0 }), /option "capacity"/);
  assert.throws(() => pool.queue('full', { capacity: 5 }), /capacity 2/);
  const rejects = async (promise: Promise<unknown>, pattern: RegExp) => {
    const o = await outcome(promise, 2_000, String(pattern));
    assert.ok(!o.ok && pattern.test(o.error.message), o.ok ? 'resolved' : o.error.message);
  };
  await rejects(createPool({ tasks: TASKS, size: 1, maxQueues: 0 }), /option "maxQueues"/);
  const q = pool.queue('full');
  await rejects(q.get({ timeout: -1 }), /timeout/);
  await rejects(q.get({ ack: 'sometimes' as 'manual' }), /options.ack/);
});

test.run();
