// minSize / maxSize / idleTimeout size the pool's own workers; agents keep their own sizes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startAgent } from '../../lib/index.js';
import { HOST, joined, newKey, outcome, Scope, TASKS, waitFor, within } from './helpers.js';

test('a pool whose own workers idle away keeps running tasks on its agent, whose size stays', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log } = await scope.pool({
      tasks: TASKS, mode: 'thread', minSize: 0, maxSize: 1, idleTimeout: 100, listen: { host: HOST, port: 0, authkey: key },
    });
    const agent = scope.childAgent({ connect: `${HOST}:${pool.address()!.port}`, tasks: TASKS, mode: 'thread', size: 2 }, key);
    const info = await joined(log, agent);
    await waitFor(() => pool.stats().workers.every((w) => w.kind === 'agent'), 10_000, 'the local worker to idle away');
    const results = await within(Promise.all(Array.from({ length: 20 }, (_, i) => pool.run<{ value: number }>('tagged', [i]))), 20_000, 'tasks');
    assert.equal(results.map((r) => r.value), Array.from({ length: 20 }, (_, i) => i * i));
    assert.is(info.parallelism, 2);
    assert.is(pool.stats().workers.find((w) => w.kind === 'agent')!.id, `agent-${info.id}`);
  } finally {
    await scope.close();
  }
});

test('an agent takes no minSize, maxSize or idleTimeout: its size is fixed', async () => {
  for (const option of ['minSize', 'maxSize', 'idleTimeout']) {
    const result = await outcome(
      startAgent({ connect: `${HOST}:1`, authkey: newKey(), tasks: TASKS, size: 1, [option]: 1 } as never),
      10_000,
      `startAgent with ${option}`,
    );
    assert.is(result.ok ? 'started' : result.error.code, 'ERR_TROUPE_INVALID_OPTION');
    if (!result.ok) assert.match(result.error.message, new RegExp(`"${option}"`));
  }
});

test.run();
