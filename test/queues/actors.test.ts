// hub.actor from a client process: calls and tells to the pool's actors by name, in order,
// with the same errors, timeout and abort as on the pool.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listeningPool, Scope, startClient } from './helpers.js';

test('hub.actor: call and tell in the order sent, errors with their codes, timeout and abort drop the message', async () => {
  const scope = new Scope();
  try {
    const { pool, key, port } = await listeningPool(scope, { size: 1 });
    await pool.spawn('Counter', [], { name: 'c' });
    const client = await startClient(scope, port, key);
    assert.is((await client.call({ op: 'actorCall', actor: 'c', method: 'inc', args: [2] })).value, 2);
    await client.call({ op: 'actorTell', actor: 'c', method: 'inc', args: [3] });
    assert.is((await client.call({ op: 'actorCall', actor: 'c', method: 'get', args: [] })).value, 5, 'the tell ran before the call');
    const missing = await client.call({ op: 'actorCall', actor: 'nobody', method: 'get', args: [] });
    assert.is(missing.error?.code, 'ERR_TROUPE_ACTOR_NOT_FOUND');
    const method = await client.call({ op: 'actorCall', actor: 'c', method: 'constructor', args: [] });
    assert.is(method.error?.code, 'ERR_TROUPE_ACTOR_METHOD');

    const slow = client.send({ op: 'actorCall', actor: 'c', method: 'slowInc', args: [600] });
    const timedOut = await client.call({ op: 'actorCall', actor: 'c', method: 'inc', args: [100], timeout: 100 });
    assert.is(timedOut.error?.code, 'ERR_TROUPE_TIMEOUT');
    const aborted = await client.call({ op: 'actorCall', actor: 'c', method: 'inc', args: [1_000], abortAfter: 100 });
    assert.is(aborted.error?.code, 'ERR_TROUPE_ABORTED');
    assert.is((await client.answer(slow)).value, 6);
    assert.is(await pool.actor('c').call('get'), 6, 'neither dropped message ran');
  } finally {
    await scope.close();
  }
});

test.run();
