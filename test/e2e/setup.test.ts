// setup(workerData) / teardown(): once per worker, reserved names, failures at start.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createPool } from '../../lib/index.js';
import { fixture, MODES, rejection, removeDir, tempDir, within, withPool } from './helpers.js';

const PARITY = fixture('parity-tasks.js');

interface Probe {
  workerData: unknown;
  setups: number;
  pid: number;
  threadId: number;
}

for (const mode of MODES) {
  test(`${mode}: setup(workerData) runs once in each worker before its first task`, async () => {
    const workerData = { db: 'postgres://example', when: new Date(0), ids: new Set([1, 2]) };
    await withPool(mode, { tasks: PARITY, size: 2, workerData }, async (pool) => {
      const probes = await within(Promise.all(Array.from({ length: 40 }, () => pool.run<Probe>('probe'))), 15_000, 'probes');
      for (const p of probes) {
        assert.equal(p.workerData, workerData);
        assert.is(p.setups, 1, 'setup ran once in this worker');
      }
    });
  });

  test(`${mode}: setup and teardown are not tasks`, async () => {
    await withPool(mode, { tasks: PARITY, size: 1 }, async (pool) => {
      await rejection(pool.run('setup', [{}]), 'ERR_TROUPE_UNKNOWN_TASK');
      await rejection(pool.run('teardown'), 'ERR_TROUPE_UNKNOWN_TASK');
      assert.is(await within(pool.run('square', [3]), 10_000, 'square'), 9);
    });
  });

  test(`${mode}: close() runs teardown() once in each worker`, async () => {
    const dir = tempDir();
    try {
      const log = join(dir, 'teardown.log');
      const pool = await within(createPool({ tasks: PARITY, mode, size: 2, workerData: { log } }), 30_000, 'the pool');
      try {
        const probes = await within(Promise.all([1, 2, 3, 4].map(() => pool.run<Probe>('probe'))), 10_000, 'probes');
        assert.ok(probes.length === 4);
        await within(pool.close(), 15_000, 'close()');
      } finally {
        await pool.destroy();
      }
      const lines = readFileSync(log, 'utf8').trim().split('\n');
      assert.is(lines.length, 2, `one teardown per worker: ${lines.join(', ')}`);
      assert.is(new Set(lines).size, 2);
    } finally {
      removeDir(dir);
    }
  });

  test(`${mode}: a setup that throws fails createPool() with ERR_TROUPE_WORKER_START`, async () => {
    const error = await rejection(createPool({ tasks: PARITY, mode, size: 1, workerData: { fail: 'no database' } }), 'ERR_TROUPE_WORKER_START', 30_000);
    assert.match(error.message, /setup refused: no database/);
  });
}

test('workerData that cannot be copied is an option error naming it', async () => {
  const error = await rejection(createPool({ tasks: PARITY, size: 1, workerData: { f: () => 1 } }), 'ERR_TROUPE_INVALID_OPTION');
  assert.match(error.message, /"workerData"/);
});

test.run();
