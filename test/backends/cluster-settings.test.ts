import cluster from 'node:cluster';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createPool } from '../../lib/index.js';

test("a process pool leaves node:cluster's settings as they were, for the user's own forks", async () => {
  cluster.setupPrimary({ exec: '/user/worker.js', args: ['--user'], silent: true });
  const before = { ...cluster.settings };
  const pool = await createPool({ tasks: new URL('../fixtures/tasks.js', import.meta.url), mode: 'process', size: 1 });
  try {
    assert.is(await pool.run('square', [3]), 9);
    assert.is(cluster.settings.exec, before.exec);
    assert.equal(cluster.settings.args, before.args);
    assert.equal(cluster.settings.execArgv, before.execArgv);
    assert.is(cluster.settings.silent, true);
    // Keys the user never set stay unset: a Troupe worker's stdio (its pipe) or serialization would override `silent` and the default.
    assert.is(cluster.settings.stdio, undefined);
    assert.is(cluster.settings.serialization, undefined);
  } finally {
    await pool.destroy();
  }
});

test.run();
