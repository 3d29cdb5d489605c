// atomics on an agent's worker threads (the agent's own option).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, HOST, joined, newKey, Scope, waitFor, within } from './helpers.js';

const PARITY = fixture('parity-tasks.js');

test("agent (thread), atomics 'sync': its idle thread blocks; tasks of every kind run", async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log } = await scope.pool({ tasks: PARITY, size: 0, listen: { host: HOST, port: 0, authkey: key } });
    const agent = scope.childAgent({ connect: `${HOST}:${pool.address()!.port}`, tasks: PARITY, mode: 'thread', size: 1, atomics: 'sync' }, key);
    await joined(log, agent);
    const marker = join(scope.dir, 'timer');
    assert.is(await within(pool.run('later', [marker, 30]), 10_000, 'later'), 'started');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.not.ok(existsSync(marker), 'the blocked thread ran no timer');
    assert.is(await within(pool.run('square', [5]), 10_000, 'square'), 25);
    await waitFor(() => existsSync(marker), 5_000, 'the timer to fire once the thread woke');
    assert.equal(await within(Promise.all([pool.run('nap', [20, 'a']), pool.run('square', [3])]), 10_000, 'mixed'), ['a', 9]);
  } finally {
    await scope.close();
  }
});

test.run();
