// Clients in processes of their own (connect()) on a pool's queues: back-pressure across
// the wire, timeouts and aborts, unknown names, the end of iteration on close, and the
// pool's clientJoin / clientLeave events.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listeningPool, Scope, startClient, waitFor, within } from './helpers.js';

test('a client put waits while the queue is full and lands once there is room; clientJoin and clientLeave', async () => {
  const scope = new Scope();
  try {
    const { pool, key, port, clients } = await listeningPool(scope);
    const q = pool.queue<number>('jobs', { capacity: 2 });
    const client = await startClient(scope, port, key);
    await waitFor(() => clients.joins.length === 1, 5_000, 'clientJoin');
    assert.is(clients.joins[0].pid, client.pid);
    const puts = [1, 2, 3, 4].map((value) => client.send({ op: 'put', q: 'jobs', value }));
    await client.answer(puts[1]);
    await waitFor(() => q.size() === 2, 5_000, 'two items to land');
    // Not a sleep-and-hope: the pool answers in order, so once a size() is answered the
    // third put has been seen, and waits.
    assert.equal((await client.call({ op: 'size', q: 'jobs' })).value, 2);
    assert.is(client.answered(puts[2]), false, 'the third put waits for room');
    assert.is(await q.get(), 1);
    assert.ok((await client.answer(puts[2])).ok);
    assert.equal([await q.get(), await q.get()], [2, 3]);
    assert.ok((await client.answer(puts[3])).ok);
    assert.is(await q.get(), 4);
    await client.call({ op: 'close' });
    await waitFor(() => clients.leaves.length === 1, 5_000, 'clientLeave');
    assert.is(clients.leaves[0].error, undefined, 'a clean leave after close()');
  } finally {
    await scope.close();
  }
});

test('a client get times out with ERR_TROUPE_TIMEOUT, aborts with ERR_TROUPE_ABORTED, and an aborted put never lands', async () => {
  const scope = new Scope();
  try {
    const { pool, key, port } = await listeningPool(scope);
    const q = pool.queue<string>('q', { capacity: 1 });
    const client = await startClient(scope, port, key);
    const timedOut = await client.call({ op: 'get', q: 'q', timeout: 100 });
    assert.is(timedOut.error?.code, 'ERR_TROUPE_TIMEOUT');
    const aborted = await client.call({ op: 'get', q: 'q', abortAfter: 100 });
    assert.is(aborted.error?.code, 'ERR_TROUPE_ABORTED');
    // An item put now goes to a live get, not to one that gave up.
    await q.put('first');
    assert.equal((await client.call({ op: 'get', q: 'q', timeout: 5_000 })).value, 'first');
    await q.put('fills it');
    const put = await client.call({ op: 'put', q: 'q', value: 'never', abortAfter: 100 });
    assert.is(put.error?.code, 'ERR_TROUPE_ABORTED');
    const putTimeout = await client.call({ op: 'put', q: 'q', value: 'never either', timeout: 100 });
    assert.is(putTimeout.error?.code, 'ERR_TROUPE_TIMEOUT');
    assert.is(await q.get(), 'fills it');
    const none = await within(q.get({ timeout: 200 }).catch((e: Error & { code?: string }) => e.code), 2_000, 'a last get');
    assert.is(none, 'ERR_TROUPE_TIMEOUT', 'the aborted puts never landed');
  } finally {
    await scope.close();
  }
});

test('a queue name the pool never made is ERR_TROUPE_UNKNOWN_QUEUE for put, get, size and iteration', async () => {
  const scope = new Scope();
  try {
    const { key, port } = await listeningPool(scope);
    const client = await startClient(scope, port, key);
    for (const op of ['put', 'get', 'size', 'consume']) {
      const answer = await client.call({ op, q: 'nobody-made-me', value: 1, into: 'nobody-made-me' });
      assert.is(answer.error?.code, 'ERR_TROUPE_UNKNOWN_QUEUE', `${op}: ${JSON.stringify(answer)}`);
    }
  } finally {
    await scope.close();
  }
});

test('consumers\' loops end cleanly once the owner closes the queue and it is drained', async () => {
  const scope = new Scope();
  try {
    const { pool, key, port } = await listeningPool(scope);
    const jobs = pool.queue<number>('jobs');
    const results = pool.queue<number>('results');
    const a = await startClient(scope, port, key, { prefetch: 4 });
    const b = await startClient(scope, port, key, { prefetch: 4 });
    const loops = [a, b].map((c) => c.send({ op: 'consume', q: 'jobs', into: 'results' }));
    for (let i = 0; i < 100; i++) await jobs.put(i);
    jobs.close();
    const counts = await Promise.all([a.answer(loops[0]), b.answer(loops[1])]);
    assert.ok(counts.every((c) => c.ok), JSON.stringify(counts));
    assert.is((counts[0].value as number) + (counts[1].value as number), 100);
    const squares: number[] = [];
    for (let i = 0; i < 100; i++) squares.push(await results.get({ timeout: 5_000 }));
    assert.equal(squares.sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i * i));
  } finally {
    await scope.close();
  }
});

test.run();
