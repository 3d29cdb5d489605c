// Competing consumers in processes of their own: distinct items, a fair share each, and
// no item lost when a consumer dies holding one (it goes back to the front).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listeningPool, Scope, startClient, waitFor } from './helpers.js';

const squares = (n: number) => Array.from({ length: n }, (_, i) => i * i);

test('two consumers of equal speed take about half each of a run much longer than the prefetch, each item once', async () => {
  const scope = new Scope();
  try {
    const { pool, key, port } = await listeningPool(scope);
    const jobs = pool.queue<number>('jobs', { capacity: 50 });
    const results = pool.queue<number>('results', { capacity: 2_000 });
    const N = 1_000;
    const consumers = [await startClient(scope, port, key, { prefetch: 8 }), await startClient(scope, port, key, { prefetch: 8 })];
    const loops = consumers.map((c) => c.send({ op: 'consume', q: 'jobs', into: 'results', delayMs: 1 }));
    for (let i = 0; i < N; i++) await jobs.put(i);
    const got: number[] = [];
    for (let i = 0; i < N; i++) got.push(await results.get({ timeout: 10_000 }));
    jobs.close();
    const counts = await Promise.all(consumers.map((c, i) => c.answer(loops[i], 10_000)));
    assert.equal(got.sort((a, b) => a - b), squares(N), 'every result once');
    const [a, b] = counts.map((c) => c.value as number);
    assert.is(a + b, N);
    assert.ok(a > N * 0.3 && b > N * 0.3, `shares ${a} and ${b}`);
    const took = consumers.flatMap((c) => c.took() as number[]);
    assert.is(new Set(took).size, N, 'no item went to both');
  } finally {
    await scope.close();
  }
});

test('a consumer SIGKILLed while holding an item: the item goes to the other consumer, and every result arrives once', async () => {
  const scope = new Scope();
  try {
    const { pool, key, port, clients } = await listeningPool(scope);
    const jobs = pool.queue<number>('jobs');
    const results = pool.queue<number>('results');
    const N = 200;
    for (let i = 0; i < N; i++) await jobs.put(i);
    // It stops in its loop body at item 5, holding it (and what it prefetched), unacknowledged.
    const doomed = await startClient(scope, port, key, { prefetch: 16 });
    doomed.send({ op: 'consume', q: 'jobs', into: 'results', holdAt: 5 });
    await doomed.event('took', 6);
    assert.is(doomed.took()[5], 5);
    doomed.kill('SIGKILL');
    await waitFor(() => clients.leaves.length === 1, 5_000, 'the killed consumer to leave');
    assert.ok(clients.leaves[0].error, 'a loss, not a goodbye');
    const survivor = await startClient(scope, port, key, { prefetch: 16 });
    const loop = survivor.send({ op: 'consume', q: 'jobs', into: 'results' });
    const got: number[] = [];
    for (let i = 0; i < N; i++) got.push(await results.get({ timeout: 10_000 }));
    assert.equal(got.sort((a, b) => a - b), squares(N), 'every result once, 5 * 5 included');
    assert.ok(survivor.took().includes(5), 'the held item was delivered again');
    jobs.close();
    assert.ok((await survivor.answer(loop)).ok);
    const extra = await results.get({ timeout: 100 }).then(
      (value) => value,
      () => undefined,
    );
    assert.is(extra, undefined, 'no result twice');
  } finally {
    await scope.close();
  }
});

test('a manual get holds its item until ack; nack or the client leaving gives it back to the front', async () => {
  const scope = new Scope();
  try {
    const { pool, key, port } = await listeningPool(scope);
    const q = pool.queue<string>('q');
    await q.put('a');
    await q.put('b');
    const client = await startClient(scope, port, key);
    const got = (await client.call({ op: 'get', q: 'q', manual: true })).value as { value: string; receipt: number };
    assert.is(got.value, 'a');
    assert.is(q.size(), 1, 'held, not queued');
    await client.call({ op: 'nack', receipt: got.receipt });
    await waitFor(() => q.size() === 2, 5_000, 'the nacked item back');
    assert.is(await q.get(), 'a', 'at the front');
    const held = (await client.call({ op: 'get', q: 'q', manual: true })).value as { value: string };
    assert.is(held.value, 'b');
    client.kill('SIGKILL');
    assert.is(await q.get({ timeout: 5_000 }), 'b', 'given back when the client died');
  } finally {
    await scope.close();
  }
});

test.run();
