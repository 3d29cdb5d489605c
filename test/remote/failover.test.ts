// Agents and schedulers that die or freeze: tasks are neither lost nor settled twice, and
// the survivors find each other again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Pool } from '../../lib/index.js';
import {
  HOST, Scope, TASKS, THREADS, countByPid, describeCounts, joined, newKey, runMany, waitFor, within, type Child,
  type Tagged,
} from './helpers.js';

/** Submits `count` spinTagged tasks; `done` counts the settled ones by the pid that ran them. */
function startRun(pool: Pool, count: number, us: number) {
  const done = new Map<number, number>();
  const all = Array.from({ length: count }, (_, i) =>
    pool.run<Tagged>('spinTagged', [i, us]).then((r) => {
      done.set(r.pid, (done.get(r.pid) ?? 0) + 1);
      return r;
    }),
  );
  return { done, all: Promise.all(all) };
}

/** Waits until `agent` has finished `min` tasks and still has some in flight: mid-run. */
async function midRun(pool: Pool, done: Map<number, number>, agent: Child, min: number): Promise<void> {
  const inFlight = () => pool.stats().workers.find((w) => w.kind === 'agent' && w.pid === agent.pid)?.inFlight ?? 0;
  await waitFor(
    () => (done.get(agent.pid) ?? 0) >= min && inFlight() > 0,
    30_000,
    `agent ${agent.pid} to be busy mid-run`,
    () => `done: ${describeCounts(done)}; stats: ${JSON.stringify(pool.stats().workers)}`,
    2,
  );
}

function checkValues(results: Tagged[]): void {
  results.forEach((r, i) => {
    if (r.value !== i * i) assert.unreachable(`task ${i} resolved with ${r.value}`);
  });
}

test('an agent SIGKILLed mid-run loses no task, settles none twice; a restarted agent rejoins and works', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const keyFile = scope.keyFile(key);
    const { pool, log } = await scope.pool({ tasks: TASKS, ...THREADS, size: 1, listen: { host: HOST, port: 0, authkey: key } });
    const { port } = pool.address()!;
    const victim = scope.cliAgent({ port, keyFile });
    const victimInfo = await joined(log, victim);

    const run = startRun(pool, 10_000, 100);
    await midRun(pool, run.done, victim, 300);
    victim.kill('SIGKILL');
    const successor = scope.cliAgent({ port, keyFile });

    await waitFor(() => log.leaves.some((l) => l.agent.pid === victim.pid), 5000, 'agentLeave of the killed agent');
    const leave = log.leaves.find((l) => l.agent.pid === victim.pid)!;
    assert.is(leave.agent.id, victimInfo.id);
    assert.is((leave.error as { code?: string } | undefined)?.code, 'ERR_TROUPE_PEER_LOST', `leave error: ${leave.error}`);

    const results = await within(run.all, 60_000, 'the 10,000 tasks');
    checkValues(results);
    const stats = pool.stats();
    assert.is(stats.completed, 10_000, 'each task settled exactly once');
    assert.is(stats.failed, 0);
    assert.ok(stats.retried > 0, 'the tasks in flight on the killed agent ran again');
    assert.ok((countByPid(results).get(victim.pid) ?? 0) > 0);

    const info = await joined(log, successor);
    assert.is.not(info.id, victimInfo.id, 'a new process is a new agent');
    const more = await runMany<Tagged>(pool, 'tagged', 2000, (i) => [i], 30_000);
    const counts = countByPid(more);
    assert.ok((counts.get(successor.pid) ?? 0) > 0, `the restarted agent got tasks (${describeCounts(counts)})`);
  } finally {
    await scope.close();
  }
});

test('a frozen agent (SIGSTOP) is dropped by heartbeat, its tasks run elsewhere; thawed, it rejoins', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const heartbeat = { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 500 };
    const { pool, log } = await scope.pool({
      tasks: TASKS, ...THREADS, size: 1, listen: { host: HOST, port: 0, authkey: key, ...heartbeat },
    });
    const agent = scope.childAgent(
      { connect: `${HOST}:${pool.address()!.port}`, tasks: TASKS, mode: 'thread', size: 1, ...heartbeat },
      key,
    );
    const first = await joined(log, agent);

    const run = startRun(pool, 4000, 100);
    await midRun(pool, run.done, agent, 100);
    agent.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await waitFor(() => log.leaves.some((l) => l.agent.pid === agent.pid), 5000, 'agentLeave of the frozen agent');
    const detectedAfter = Date.now() - stoppedAt;
    assert.ok(detectedAfter < 2500, `declared dead after ${detectedAfter} ms, with heartbeatTimeoutMs 500`);
    checkValues(await within(run.all, 30_000, 'the tasks of the frozen agent, run elsewhere'));
    assert.ok(pool.stats().retried > 0);

    const joinsBefore = log.joins.length;
    agent.kill('SIGCONT');
    await waitFor(() => log.joins.length > joinsBefore, 10_000, 'the thawed agent to rejoin', () => agent.describe());
    const again = log.joins[log.joins.length - 1];
    assert.equal([again.pid, again.id], [agent.pid, first.id], 'the same agent process, under its same id');
    const counts = countByPid(await runMany<Tagged>(pool, 'tagged', 2000, (i) => [i], 30_000));
    assert.ok((counts.get(agent.pid) ?? 0) > 0, `the thawed agent got tasks (${describeCounts(counts)})`);
  } finally {
    await scope.close();
  }
});

test('scheduler restart: the same agent process reconnects to a new pool on the same port', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const a = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key } });
    const { port } = a.pool.address()!;
    const agent = scope.cliAgent({ port, keyFile: scope.keyFile(key) });
    const onA = await joined(a.log, agent);
    assert.is((await within(a.pool.run<Tagged>('tagged', [3]), 10_000, 'a task on pool A')).pid, agent.pid);

    await within(a.pool.destroy(), 10_000, 'pool A to be destroyed');
    const b = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port, authkey: key } });
    const listening = Date.now();
    assert.is(b.pool.address()!.port, port);
    const onB = await joined(b.log, agent);
    const after = Date.now() - listening;
    assert.ok(after < 3000, `rejoined ${after} ms after pool B listened (the backoff starts at 100 ms)`);
    assert.is(onB.id, onA.id, 'the same agent, not a new one');
    assert.not.ok(agent.exited, 'the agent process lived through the restart');

    const results = await runMany<Tagged>(b.pool, 'tagged', 100, (i) => [i], 15_000);
    results.forEach((r, i) => assert.equal([r.value, r.pid], [i * i, agent.pid]));
    assert.match(agent.stderr, /reconnecting/);
  } finally {
    await scope.close();
  }
});

test.run();
