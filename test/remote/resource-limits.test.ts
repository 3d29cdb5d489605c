// resourceLimits on an agent's workers: the task that hit them fails with
// ERR_TROUPE_RESOURCE_LIMIT across the wire; the agent replaces its worker and stays.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, HOST, joined, newKey, outcome, Scope, within } from './helpers.js';

const PARITY = fixture('parity-tasks.js');

for (const mode of ['thread', 'process'] as const) {
  test(`agent (${mode}): a task over the heap limit fails with ERR_TROUPE_RESOURCE_LIMIT; its neighbours and the agent carry on`, async () => {
    const scope = new Scope();
    try {
      const key = newKey();
      const { pool, log } = await scope.pool({ tasks: PARITY, size: 0, retries: 0, listen: { host: HOST, port: 0, authkey: key } });
      const options = { connect: `${HOST}:${pool.address()!.port}`, tasks: PARITY, mode, size: 1, resourceLimits: { maxOldGenerationSizeMb: 64 } };
      const agent = scope.childAgent(options, key);
      await joined(log, agent);
      const neighbours = [1, 2, 3].map((n) => pool.run('square', [n]));
      const hog = await outcome(pool.run('hog'), 60_000, 'the hog');
      assert.is(hog.ok ? 'resolved' : hog.error.code, 'ERR_TROUPE_RESOURCE_LIMIT', hog.ok ? '' : hog.error.message);
      assert.equal(await within(Promise.all(neighbours), 30_000, 'the neighbours'), [1, 4, 9]);
      assert.is(await within(pool.run('square', [9]), 30_000, 'a task after'), 81);
      assert.is(pool.stats().retried, 0);
      assert.is(log.leaves.length, 0, 'the agent stayed connected');
    } finally {
      await scope.close();
    }
  });
}

test.run();
