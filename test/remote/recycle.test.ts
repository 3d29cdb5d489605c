// Recycling on an agent: its own maxTasksPerWorker / maxMemoryPerWorker replace its workers
// between tasks; the scheduler loses nothing and the agent stays connected.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, HOST, joined, newKey, Scope, within } from './helpers.js';

const PARITY = fixture('parity-tasks.js');

interface Where {
  pid: number;
  threadId: number;
  ran: number;
}

const identity = (w: Where) => `${w.pid}:${w.threadId}`;

async function agentPool(scope: Scope, options: Record<string, unknown>) {
  const key = newKey();
  const { pool, log } = await scope.pool({ tasks: PARITY, size: 0, listen: { host: HOST, port: 0, authkey: key } });
  const agent = scope.childAgent({ connect: `${HOST}:${pool.address()!.port}`, tasks: PARITY, size: 1, ...options }, key);
  await joined(log, agent);
  return { pool, log, agent };
}

test('agent (thread): maxTasksPerWorker 2 replaces its worker every 2 tasks', async () => {
  const scope = new Scope();
  try {
    const { pool, log } = await agentPool(scope, { mode: 'thread', maxTasksPerWorker: 2 });
    const seen: Where[] = [];
    for (let i = 0; i < 6; i++) seen.push(await within(pool.run<Where>('whoami'), 15_000, `task ${i}`));
    assert.ok(seen.every((w) => w.ran <= 2), `no worker ran a third task: ${seen.map((w) => w.ran)}`);
    assert.is(new Set(seen.map(identity)).size, 3, seen.map(identity).join(', '));
    assert.is(log.leaves.length, 0, 'the agent stayed connected');
  } finally {
    await scope.close();
  }
});

test('agent (process): maxMemoryPerWorker replaces a worker whose heap grew past it', async () => {
  const scope = new Scope();
  try {
    const { pool, log } = await agentPool(scope, { mode: 'process', maxMemoryPerWorker: 100 });
    const first = await within(pool.run<Where>('grow', [130]), 20_000, 'grow');
    const next = await within(pool.run<Where>('whoami'), 20_000, 'whoami');
    assert.is.not(next.pid, first.pid, 'a fresh worker process');
    assert.is(next.ran, 1);
    assert.is(log.leaves.length, 0, 'the agent stayed connected');
  } finally {
    await scope.close();
  }
});

test.run();
