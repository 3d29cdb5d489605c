// The ack deadline: an agent acknowledges each batch on receipt; one that takes work and sits
// on it is dropped after ackTimeoutMs and its work runs elsewhere, with no retry charged.
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AckDeadline } from '../../lib/backends/ack-deadline.js';
import { AGENT_HELLO, AGENT_PROTOCOL_VERSION, AGENT_RUN, type AgentHello } from '../../lib/backends/remote-protocol.js';
import { connect } from '../../lib/transport/index.js';
import { entryCount } from '../../lib/worker/batch.js';
import { parseAnyBatch } from '../../lib/worker/compact-forms.js';
import { HOST, Scope, TASKS, joined, newKey, runMany, waitFor, within, type Tagged } from './helpers.js';

test('AckDeadline: acknowledgements are cumulative; only the oldest batch still unacknowledged counts (injected clock)', () => {
  let now = 0;
  let expiries = 0;
  const deadline = new AckDeadline(100, () => expiries++, () => now);
  try {
    deadline.sent(1);
    now = 40;
    deadline.sent(5);
    deadline.sent(9);
    deadline.acked(5);
    assert.is(deadline.pending, 1);
    now = 139;
    assert.not.ok(deadline.expired, 'the batch sent at 40 has until 140');
    now = 140;
    assert.ok(deadline.expired);
    deadline.acked(9);
    assert.is(deadline.pending, 0);
    assert.not.ok(deadline.expired);
    assert.is(expiries, 0);
  } finally {
    deadline.stop();
  }
});

test('AckDeadline: a batch sent after every earlier one was acknowledged still expires, with its timer left armed or already fired', async () => {
  // The timer is not cleared when all is acknowledged: 0 sends while it is still armed, 120 once it has fired with nothing left.
  for (const gap of [0, 120]) {
    let expiries = 0;
    const deadline = new AckDeadline(50, () => expiries++);
    try {
      deadline.sent(1);
      deadline.acked(1);
      await delay(gap);
      deadline.sent(2);
      await waitFor(() => expiries > 0, 5_000, `the expiry of a batch sent ${gap} ms later`);
      assert.is(expiries, 1);
      assert.is(deadline.pending, 1);
    } finally {
      deadline.stop();
    }
  }
});

test('an agent that never acknowledges is given work for at most 64 workers, dropped after ackTimeoutMs, and its tasks run on a good agent, no retry charged', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log } = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key, ackTimeoutMs: 400 } });
    const port = pool.address()!.port;
    const good = scope.cliAgent({ port, keyFile: scope.keyFile(key) });
    await joined(log, good);

    // A peer that knows the key, announces many workers, takes work and never answers.
    const fake = await within(connect({ host: HOST, port, authkey: key }), 5000, 'an authenticated connection');
    scope.defer(() => fake.destroy());
    let given = 0;
    fake.on('message', (type, value) => {
      if (type === AGENT_RUN) given += entryCount(parseAnyBatch(value));
    });
    const hello: AgentHello = {
      version: AGENT_PROTOCOL_VERSION, agentId: `silent-${randomBytes(4).toString('hex')}`, hostname: 'silent', pid: 1,
      names: ['tagged'], parallelism: 4_096, capacity: 100_000, mode: 'thread',
    };
    fake.send(AGENT_HELLO, hello);
    await waitFor(() => log.joins.some((a) => a.id === hello.agentId), 5000, 'the silent agent to join');

    const results = await runMany<Tagged>(pool, 'tagged', 300, (i) => [i], 20_000);
    assert.ok(given > 0, 'the silent agent was given work');
    assert.ok(given <= 64, `an agent that never answered was given ${given} tasks, though it claims 4,096 workers`);
    results.forEach((r, i) => assert.equal([r.value, r.pid], [i * i, good.pid]));
    const leave = log.leaves.find((l) => l.agent.id === hello.agentId);
    assert.ok(leave, 'the silent agent was dropped');
    assert.match(String((leave!.error!.cause as Error | undefined)?.message), /ackTimeoutMs/);
    assert.is(pool.stats().retried, 0, 'no retry was charged');
  } finally {
    await scope.close();
  }
});

// A worker process spinning holds none of the agent's loop; an inline agent's task must await.
const LONG = {
  process: { task: 'spinTagged', args: (i: number) => [i, 600_000] },
  inline: { task: 'slowTagged', args: (i: number) => [i, 1_000] },
} as const;

for (const mode of ['process', 'inline'] as const) {
  test(`a ${mode} agent acknowledges a batch on receipt: tasks far longer than ackTimeoutMs finish there, the agent stays`, async () => {
    const scope = new Scope();
    try {
      const key = newKey();
      const { pool, log } = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key, ackTimeoutMs: 200 } });
      const agent = scope.cliAgent({ port: pool.address()!.port, keyFile: scope.keyFile(key), mode, size: 1 });
      await joined(log, agent);
      const results = await runMany<Tagged>(pool, LONG[mode].task, 2, LONG[mode].args, 10_000);
      assert.equal(results.map((r) => r.value), [0, 1]);
      assert.ok(results.every((r) => r.pid !== process.pid));
      assert.equal(log.leaves, [], 'the agent was not dropped');
    } finally {
      await scope.close();
    }
  });
}

test('ackTimeoutMs is validated by name', async () => {
  const scope = new Scope();
  try {
    const error = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: newKey(), ackTimeoutMs: 0 } }).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    assert.is(error?.code, 'ERR_TROUPE_INVALID_OPTION');
    assert.match(error!.message, /ackTimeoutMs/);
  } finally {
    await scope.close();
  }
});

test.run();
