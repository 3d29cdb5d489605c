// maxTasksPerWorker / maxMemoryPerWorker: workers replaced between tasks, no task lost.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createPool } from '../../lib/index.js';
import { fixture, MODES, rejection, removeDir, tempDir, waitFor, within, withPool } from './helpers.js';

const PARITY = fixture('parity-tasks.js');

interface Where {
  pid: number;
  threadId: number;
  ran: number;
}

const identity = (w: Where) => `${w.pid}:${w.threadId}`;

for (const mode of MODES) {
  test(`${mode}: maxTasksPerWorker replaces a worker after that many tasks; every task settles`, async () => {
    const dir = tempDir();
    try {
      const log = join(dir, 'teardown.log');
      await withPool(mode, { tasks: PARITY, size: 1, maxTasksPerWorker: 3, workerData: { log } }, async (pool) => {
        let starts = 0;
        pool.on('workerStart', () => starts++);
        const results = await within(Promise.all(Array.from({ length: 10 }, () => pool.run<Where>('whoami'))), 30_000, '10 tasks');
        const perWorker = new Map<string, number>();
        for (const r of results) perWorker.set(identity(r), (perWorker.get(identity(r)) ?? 0) + 1);
        assert.ok([...perWorker.values()].every((n) => n <= 3), `at most 3 tasks per worker: ${[...perWorker.values()]}`);
        assert.ok(perWorker.size >= 4, `10 tasks need 4 workers at least: ${perWorker.size}`);
        assert.ok(results.every((r) => r.ran <= 3), 'no worker ran a 4th task');
        // Each replaced worker stopped on purpose: its teardown ran.
        await waitFor(() => lines(log).length >= 3, 10_000, 'teardowns of the recycled workers');
        await waitFor(() => starts >= 3, 10_000, 'replacements to start');
      });
    } finally {
      removeDir(dir);
    }
  });

  test(`${mode}: maxMemoryPerWorker replaces a worker whose heap grew past it, after the task`, async () => {
    await withPool(mode, { tasks: PARITY, size: 1, maxMemoryPerWorker: 100 }, async (pool) => {
      const a = await within(pool.run<Where>('whoami'), 10_000, 'whoami');
      const b = await within(pool.run<Where>('whoami'), 10_000, 'whoami');
      assert.is(identity(a), identity(b), 'a worker under the limit stays');
      const grown = await within(pool.run<Where>('grow', [130]), 20_000, 'grow');
      assert.is(identity(grown), identity(a), 'the task that grew the heap completed on its worker');
      const after = await within(pool.run<Where>('whoami'), 20_000, 'whoami after growth');
      assert.is.not(identity(after), identity(a), 'the next task runs on a fresh worker');
      assert.is(after.ran, 1);
    });
  });
}

test('recycling options are checked, naming the option', async () => {
  for (const [name, value] of [['maxTasksPerWorker', 0], ['maxTasksPerWorker', 1.5], ['maxMemoryPerWorker', -1], ['maxMemoryPerWorker', '1GB']] as const) {
    const error = await rejection(createPool({ tasks: PARITY, size: 1, [name]: value }), 'ERR_TROUPE_INVALID_OPTION');
    assert.match(error.message, new RegExp(`"${name}"`));
  }
});

function lines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

test.run();
