// hub.run from a client process: the pool's tasks with the same results, errors, timeout
// and cancel as pool.run; calls in flight when the connection drops reject with a code and
// do not run again; a client outlives a scheduler restart on the same port.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { newKey } from '../remote/helpers.js';
import { listeningPool, Scope, startClient, waitFor } from './helpers.js';

test('hub.run returns the value, or the task error with its class, code and cause; timeout and abort as pool.run', async () => {
  const scope = new Scope();
  try {
    const { key, port } = await listeningPool(scope, { size: 1 });
    const client = await startClient(scope, port, key);
    assert.equal(await client.call({ op: 'run', name: 'square', args: [7] }), { id: 0, ok: true, value: 49 } as never);
    const thrown = await client.call({ op: 'run', name: 'throwTyped', args: ['boom'] });
    assert.equal(thrown.error, { code: 'E_TROUPE_TEST', name: 'TypeError', message: 'boom' });
    const timedOut = await client.call({ op: 'run', name: 'slowTagged', args: [1, 5_000], timeout: 100 });
    assert.is(timedOut.error?.code, 'ERR_TROUPE_TIMEOUT');
    const aborted = await client.call({ op: 'run', name: 'slowTagged', args: [1, 5_000], abortAfter: 100 });
    assert.is(aborted.error?.code, 'ERR_TROUPE_ABORTED');
    const bad = await client.call({ op: 'run', name: 'square', args: [1], timeout: -5 });
    assert.is(bad.error?.code, 'ERR_TROUPE_INVALID_ARGUMENT');
    assert.equal((await client.call({ op: 'run', name: 'square', args: [8] })).value, 64, 'still serving');
  } finally {
    await scope.close();
  }
});

test('pool.close() waits for a client\'s call in flight, then disconnects it', async () => {
  const scope = new Scope();
  try {
    const { pool, key, port, clients } = await listeningPool(scope, { size: 1 });
    const client = await startClient(scope, port, key);
    const slow = client.send({ op: 'run', name: 'slowTagged', args: [3, 300] });
    await waitFor(() => pool.stats().running === 1, 5_000, 'the client\'s task to run');
    await pool.close();
    assert.equal(((await client.answer(slow)).value as { value: number }).value, 9);
    await waitFor(() => clients.leaves.length === 1, 5_000, 'clientLeave');
  } finally {
    await scope.close();
  }
});

test('a scheduler restart under a client: the call in flight rejects with ERR_TROUPE_PEER_LOST and never reruns; the client reconnects and runs again', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const first = await listeningPool(scope, { size: 1 }, key);
    const port = first.port;
    const client = await startClient(scope, port, key);
    const inFlight = client.send({ op: 'run', name: 'slowTagged', args: [2, 2_000] });
    await waitFor(() => first.pool.stats().running === 1, 5_000, 'the call to run');
    await first.pool.destroy();
    const lost = await client.answer(inFlight);
    assert.is(lost.error?.code, 'ERR_TROUPE_PEER_LOST');
    await client.event('disconnect');
    const second = await listeningPool(scope, { size: 1, port }, key);
    await client.event('connect', 1, 10_000);
    assert.equal((await client.call({ op: 'run', name: 'square', args: [5] })).value, 25);
    assert.is(second.pool.stats().completed, 1, 'the lost call did not run again on the new scheduler');
    second.pool.queue('fresh');
    assert.equal((await client.call({ op: 'put', q: 'fresh', value: 1 })).ok, true);
  } finally {
    await scope.close();
  }
});

test.run();
