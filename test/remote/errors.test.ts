// Errors thrown by tasks on an agent come back to the pool's caller intact, and no error a
// task can throw takes the agent (or the pool) down.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HOST, Scope, TASKS, joined, newKey, outcome, runMany, type Tagged } from './helpers.js';

async function setup(scope: Scope, mode: 'thread' | 'process') {
  const key = newKey();
  const { pool, log } = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key } });
  const agent = scope.cliAgent({ port: pool.address()!.port, keyFile: scope.keyFile(key), mode });
  await joined(log, agent);
  return { pool, log, agent };
}

for (const mode of ['thread', 'process'] as const) {
  test(`an error thrown on a ${mode}-mode agent keeps its class, message, code and cause`, async () => {
    const scope = new Scope();
    try {
      const { pool, log } = await setup(scope, mode);
      const result = await outcome(pool.run('throwTyped', ['bad input']), 10_000, 'the failing task');
      assert.not.ok(result.ok);
      if (result.ok) return;
      const error = result.error;
      assert.instance(error, TypeError);
      assert.is(error.message, 'bad input');
      assert.is(error.code, 'E_TROUPE_TEST');
      assert.instance(error.cause, RangeError);
      assert.is((error.cause as Error).message, 'the cause');
      assert.match(error.stack ?? '', /throwTyped/, 'the stack is the one from the agent');
      const after = await runMany<Tagged>(pool, 'tagged', 20, (i) => [i], 10_000);
      after.forEach((r, i) => assert.is(r.value, i * i));
      assert.is(log.leaves.length, 0);
    } finally {
      await scope.close();
    }
  });
}

test('errors named like Object.prototype members reject their task as such; the agent survives', async () => {
  const scope = new Scope();
  try {
    const { pool, log, agent } = await setup(scope, 'thread');
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      const task = outcome(pool.run('throwNamed', [name]), 10_000, `the task that throws an error named ${name}`);
      // Should the agent die instead, the task would wait for another agent: fail at once then.
      await Promise.race([task, agent.exit]);
      assert.not.ok(agent.exited, `the agent died on an error named "${name}":\n${agent.describe()}`);
      const result = await task;
      assert.not.ok(result.ok);
      if (result.ok) return;
      assert.instance(result.error, Error, `"${name}": ${Object.prototype.toString.call(result.error)}`);
      assert.is(result.error.name, name);
      assert.is(result.error.message, `named ${name}`);
    }
    assert.is(log.leaves.length, 0);
  } finally {
    await scope.close();
  }
});

test.run();
