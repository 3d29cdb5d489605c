// setup(workerData) / teardown() on an agent's workers: the agent's own workerData.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, HOST, joined, newKey, Scope, waitFor, within } from './helpers.js';

const PARITY = fixture('parity-tasks.js');

// An inline agent is its own one worker: setup() and teardown() run in the agent process.
for (const mode of ['thread', 'process', 'inline'] as const) {
  const size = mode === 'inline' ? 1 : 2;
  test(`agent (${mode}): setup(workerData) once per worker before its tasks; teardown() when the agent stops`, async () => {
    const scope = new Scope();
    try {
      const key = newKey();
      const { pool, log } = await scope.pool({ tasks: PARITY, size: 0, listen: { host: HOST, port: 0, authkey: key } });
      const teardowns = join(scope.dir, 'teardown.log');
      const workerData = { region: 'eu', log: teardowns };
      const agent = scope.childAgent({ connect: `${HOST}:${pool.address()!.port}`, tasks: PARITY, mode, size, workerData }, key);
      await joined(log, agent);
      const probes = await within(
        Promise.all(Array.from({ length: 20 }, () => pool.run<{ workerData: unknown; setups: number; pid: number }>('probe'))),
        15_000,
        'probes on the agent',
      );
      for (const p of probes) {
        assert.equal(p.workerData, workerData);
        assert.is(p.setups, 1);
        if (mode === 'inline') assert.is(p.pid, agent.pid);
      }
      agent.kill('SIGTERM');
      await agent.waitExit(15_000, 'the agent to stop on SIGTERM');
      await waitFor(() => readLines(teardowns).length === size, 5_000, 'a teardown per worker', () => agent.describe());
      if (mode === 'inline') assert.equal(readLines(teardowns), [`${agent.pid}:0`]);
    } finally {
      await scope.close();
    }
  });
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

test.run();
