// The agent CLI's lifecycle flags reach its workers: --worker-data, --max-tasks-per-worker,
// --max-old-generation-size-mb, --atomics.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, HOST, joined, newKey, outcome, Scope, within } from './helpers.js';

const PARITY = fixture('parity-tasks.js');

test('troupe agent --worker-data --max-tasks-per-worker --max-old-generation-size-mb --atomics', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log } = await scope.pool({ tasks: PARITY, size: 0, retries: 0, listen: { host: HOST, port: 0, authkey: key } });
    const agent = scope.cliAgent({
      port: pool.address()!.port, keyFile: scope.keyFile(key), tasks: PARITY, mode: 'thread', size: 1,
      extra: ['--worker-data', '{"region":"eu"}', '--max-tasks-per-worker', '2', '--max-old-generation-size-mb', '64', '--atomics', 'sync'],
    });
    await joined(log, agent);
    const seen: { workerData: unknown; pid: number; threadId: number; ran: number }[] = [];
    for (let i = 0; i < 4; i++) seen.push(await within(pool.run('probe'), 15_000, `probe ${i}`));
    assert.ok(seen.every((p) => (p.workerData as { region: string }).region === 'eu'), 'workerData reached setup()');
    assert.is(new Set(seen.map((p) => p.threadId)).size, 2, 'a new thread after 2 tasks');
    const hog = await outcome(pool.run('hog'), 60_000, 'the hog');
    assert.is(hog.ok ? 'resolved' : hog.error.code, 'ERR_TROUPE_RESOURCE_LIMIT');
    assert.is(log.leaves.length, 0);
  } finally {
    await scope.close();
  }
});

test.run();
