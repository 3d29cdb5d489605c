// Many small tasks are spread over the pool's own workers and two CLI agents.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HOST, Scope, TASKS, THREADS, countByPid, describeCounts, joined, newKey, runMany, type Tagged } from './helpers.js';

test('10,000 tasks over a local worker and two CLI agents: right values, everyone did some', async () => {
  const scope = new Scope();
  try {
    // A text key, so that the second agent can take it from TROUPE_AUTHKEY.
    const key = newKey().toString('hex');
    const { pool, log } = await scope.pool({ tasks: TASKS, ...THREADS, size: 1, listen: { host: HOST, port: 0, authkey: key } });
    const { port } = pool.address()!;
    const fromFile = scope.cliAgent({ port, keyFile: scope.keyFile(key) });
    const fromEnv = scope.cliAgent({ port, env: { TROUPE_AUTHKEY: key } });
    await Promise.all([joined(log, fromFile), joined(log, fromEnv)]);

    const results = await runMany<Tagged>(pool, 'tagged', 10_000, (i) => [i], 60_000);
    results.forEach((r, i) => {
      if (r.value !== i * i) assert.unreachable(`task ${i} resolved with ${r.value}`);
    });
    const counts = countByPid(results);
    const summary = describeCounts(counts);
    assert.ok((counts.get(process.pid) ?? 0) > 0, `the local worker ran some (${summary})`);
    assert.ok((counts.get(fromFile.pid) ?? 0) > 0, `the key-file agent ran some (${summary})`);
    assert.ok((counts.get(fromEnv.pid) ?? 0) > 0, `the TROUPE_AUTHKEY agent ran some (${summary})`);
    assert.is(counts.size, 3, `nobody else ran any (${summary})`);
    const stats = pool.stats();
    assert.equal([stats.completed, stats.failed, stats.retried, stats.queued, stats.running], [10_000, 0, 0, 0, 0]);
    assert.is(log.leaves.length, 0);
  } finally {
    await scope.close();
  }
});

test.run();
