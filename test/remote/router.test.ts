// The agent as a router: losses among an agent's own workers (a worker process SIGKILLed,
// a task that exits its process or thread) reach the scheduler as AGENT_LOST and are retried
// there, while the agent stays joined and replaces its workers; and the tasks an agent holds
// when its scheduler goes away are stopped, so a new scheduler finds its workers free.
// (A task timing out on a thread-mode agent is covered by limits.test.ts.)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentInfo, Pool } from '../../lib/index.js';
import {
  HOST, Scope, countByPid, describeCounts, fixture, joined, newKey, outcome, parentPid, pidAlive, runMany, waitFor,
  within, type Child, type Tagged,
} from './helpers.js';

const TASKS = fixture('router-tasks.js');

interface Retry {
  name: string;
  attempt: number;
  error: Error;
}

function retries(pool: Pool): Retry[] {
  const seen: Retry[] = [];
  pool.on('retry', (info) => seen.push(info));
  return seen;
}

/** A pool with no workers of its own, and one CLI agent joined to it. */
async function poolWithAgent(
  scope: Scope,
  mode: 'thread' | 'process',
  size: number,
  retriesOption?: number,
  env?: NodeJS.ProcessEnv,
) {
  const key = newKey();
  const options = { tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key } };
  const { pool, log } = await scope.pool(retriesOption === undefined ? options : { ...options, retries: retriesOption });
  const keyFile = scope.keyFile(key);
  const agent = scope.cliAgent({ port: pool.address()!.port, keyFile, tasks: TASKS, mode, size, env });
  const info = await joined(log, agent);
  return { pool, log, agent, info, key, keyFile };
}

/** Runs rounds of short tasks until `want` distinct worker pids have answered; each must be a child of the agent. */
async function workerPids(pool: Pool, agent: Child, want: (pids: Set<number>) => boolean, ms: number): Promise<Set<number>> {
  const pids = new Set<number>();
  const deadline = Date.now() + ms;
  while (!want(pids)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for worker pids; seen: ${[...pids].join(', ')}`);
    const round = await runMany<Tagged>(pool, 'slowTagged', 16, (i) => [i, 20], 10_000);
    for (const r of round) pids.add(r.pid);
  }
  for (const pid of pids) assert.is(parentPid(pid) ?? agent.pid, agent.pid, `worker ${pid} is a child of the agent`);
  return pids;
}

function checkValues(results: readonly Tagged[]): void {
  results.forEach((r, i) => {
    if (r.value !== i * i) assert.unreachable(`task ${i} resolved with ${r.value}`);
  });
}

test('a worker process of an agent SIGKILLed mid-run: every task settles once with its value, retried; the agent replaces it', async () => {
  const scope = new Scope();
  try {
    const { pool, log, agent } = await poolWithAgent(scope, 'process', 2);
    const seen = retries(pool);
    // Each round of 16 tasks is spread over both workers; the first round nearly always shows both.
    const before = await workerPids(pool, agent, (p) => p.size >= 2, 15_000);
    assert.is(before.size, 2, `the agent has 2 worker processes (${[...before].join(', ')})`);
    const victim = [...before][0];

    const completedBefore = pool.stats().completed;
    const count = 5000;
    const done = new Map<number, number>();
    let settled = 0;
    const all = Promise.all(
      Array.from({ length: count }, (_, i) =>
        pool.run<Tagged>('spinTagged', [i, 500]).then((r) => {
          done.set(r.pid, (done.get(r.pid) ?? 0) + 1);
          settled++;
          return r;
        }),
      ),
    );
    await waitFor(
      () => (done.get(victim) ?? 0) >= 200 || settled > count / 2,
      20_000,
      `worker ${victim} to be busy mid-run`,
      () => `done: ${describeCounts(done)}`,
      2,
    );
    assert.ok(settled < count / 2, `mid-run (${settled} of ${count} settled; ${describeCounts(done)})`);
    process.kill(victim, 'SIGKILL');

    const results = await within(all, 30_000, `the ${count} tasks`);
    checkValues(results);
    const stats = pool.stats();
    assert.is(stats.completed - completedBefore, count, 'each task settled exactly once');
    assert.is(stats.failed, 0);
    assert.ok(seen.length > 0, 'the pool emitted retry for the tasks the killed worker held');
    assert.ok(
      seen.every((r) => r.name === 'spinTagged' && r.attempt === 2 && r.error.message.includes(String(victim))),
      `retries name the killed worker: ${seen.slice(0, 3).map((r) => `${r.name} #${r.attempt}: ${r.error.message}`).join('; ')}`,
    );
    assert.is(stats.retried, seen.length);
    assert.is(log.leaves.length, 0, 'the agent stayed joined');
    assert.not.ok(agent.exited, 'the agent process lived on');

    await waitFor(() => !pidAlive(victim), 5000, `the killed worker ${victim} to be gone`);
    const after = await workerPids(pool, agent, (p) => [...p].some((pid) => !before.has(pid)), 15_000);
    assert.not.ok(after.has(victim), 'the killed worker runs nothing more');
    checkValues(await runMany<Tagged>(pool, 'tagged', 500, (i) => [i], 10_000));
    assert.is(log.leaves.length, 0);
  } finally {
    await scope.close();
  }
});

for (const size of [1, 2]) {
  test(`a task that exits its worker process on every attempt (agent of size ${size}): ERR_TROUPE_WORKER_LOST after retries + 1 attempts; its neighbours resolve; the agent stays`, async () => {
    const scope = new Scope();
    try {
      const { pool, log, agent } = await poolWithAgent(scope, 'process', size, 1);
      const seen = retries(pool);
      const dir = scope.dir;
      const bound = 30_000;
      // Innocents on both sides of the poison, submitted in one turn: they share its batches.
      const innocents: Promise<Awaited<ReturnType<typeof outcome<Tagged>>>>[] = [];
      for (let i = 0; i < 15; i++) innocents.push(outcome(pool.run<Tagged>('tagged', [i]), bound, `innocent ${i}`));
      const poisoned = outcome(pool.run('poison', [dir]), bound, 'the poison task');
      for (let i = 15; i < 30; i++) innocents.push(outcome(pool.run<Tagged>('tagged', [i]), bound, `innocent ${i}`));

      const result = await poisoned;
      assert.is(result.ok ? 'resolved' : result.error.code, 'ERR_TROUPE_WORKER_LOST', result.ok ? '' : result.error.message);
      if (!result.ok) assert.match(result.error.message, /2 attempts/);
      const attempts = readFileSync(join(dir, 'poison-attempts'), 'utf8').trim().split('\n');
      assert.is(attempts.length, 2, `the poison ran retries + 1 = 2 times (in ${attempts.join(', ')})`);
      const poisonRetries = seen.filter((r) => r.name === 'poison');
      assert.equal(poisonRetries.map((r) => r.attempt), [2], 'one retry event for the poison, for its second attempt');

      const outcomes = await Promise.all(innocents);
      const failed = outcomes.flatMap((o, i) => (o.ok ? [] : [`${i}: ${o.error.code} ${o.error.message}`]));
      assert.equal(failed, [], 'every innocent task resolved');
      outcomes.forEach((o, i) => assert.is(o.ok && o.value.value, i * i));

      assert.is(log.leaves.length, 0, 'the agent stayed joined');
      assert.not.ok(agent.exited, 'the agent process lived on');
      const more = await runMany<Tagged>(pool, 'tagged', 200, (i) => [i], 15_000);
      checkValues(more);
      assert.ok(attempts.every((pid) => !countByPid(more).has(Number(pid))), 'the poisoned workers were replaced');
    } finally {
      await scope.close();
    }
  });
}

test('thread-mode agent: a task that exits its worker thread on its first attempt is retried and resolves once', async () => {
  const scope = new Scope();
  try {
    const { pool, log, agent } = await poolWithAgent(scope, 'thread', 1);
    const seen = retries(pool);
    const dir = scope.dir;
    const result = await within(pool.run<Tagged>('exitOnce', [dir, 7]), 15_000, 'the task that exits its thread once');
    assert.is(result.value, 49);
    assert.is(result.pid, agent.pid, 'it ran in a thread of the agent process');
    const [pid, threadId] = readFileSync(join(dir, 'exited-once'), 'utf8').trim().split(' ').map(Number);
    assert.is(pid, agent.pid, 'the first attempt ran on the agent too');
    assert.is.not(result.threadId, threadId, 'the second attempt ran on a new thread');
    assert.equal(seen.map((r) => [r.name, r.attempt]), [['exitOnce', 2]], 'one retry');
    const stats = pool.stats();
    assert.equal([stats.completed, stats.failed, stats.retried], [1, 0, 1]);
    assert.is(log.leaves.length, 0, 'the agent stayed joined');
    checkValues(await runMany<Tagged>(pool, 'tagged', 100, (i) => [i], 10_000));
  } finally {
    await scope.close();
  }
});

for (const mode of ['process', 'thread'] as const) {
  test(`${mode}-mode agent: when its scheduler goes away mid-task, its workers are stopped; a new pool on the port finds them free`, async () => {
    const scope = new Scope();
    try {
      const size = 2;
      const dir = scope.dir;
      const slowStart = join(dir, 'slow-start');
      const a = await poolWithAgent(scope, mode, size, undefined, { TROUPE_ROUTER_SLOW_START: slowStart });
      const holdMs = 30_000;
      // One sleeping and one spinning task, each holding a worker far longer than this test waits.
      const held = Array.from({ length: size }, (_, i) =>
        a.pool.run('hold', [dir, i, holdMs, i % 2 === 1]).then(
          () => 'resolved',
          (error: Error & { code?: string }) => error.code,
        ),
      );
      await waitFor(
        // Written, not only created: the file appears before its contents.
        () => held.every((_, i) => existsSync(join(dir, `started-${i}`)) && readFileSync(join(dir, `started-${i}`), 'utf8').endsWith('}')),
        15_000,
        'both held tasks to start on the agent',
        () => a.agent.describe(),
      );
      const holders = held.map((_, i) => JSON.parse(readFileSync(join(dir, `started-${i}`), 'utf8')) as { pid: number; threadId: number });

      // Workers started from now on take a second to be ready: the agent reconnects before
      // its stopped workers are replaced.
      writeFileSync(slowStart, '');
      const port = a.pool.address()!.port;
      await within(a.pool.destroy(), 10_000, 'pool A to be destroyed');
      assert.equal(await within(Promise.all(held), 5000, 'the held tasks to settle'), ['ERR_TROUPE_DESTROYED', 'ERR_TROUPE_DESTROYED']);
      const b = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port, authkey: a.key } });
      const rejoined = await joined(b.log, a.agent);
      assert.is(rejoined.id, a.info.id, 'the same agent rejoined');
      const offer = (info: AgentInfo) => ({ names: info.names, parallelism: info.parallelism, capacity: info.capacity, mode: info.mode });
      assert.equal(offer(rejoined), offer(a.info), 'it offers the new pool the same tasks and workers as before');

      // Far less than the 30 s the held tasks would take; replacements load in about 1 s.
      const results = await runMany<Tagged>(b.pool, 'tagged', 4 * size, (i) => [i], 8000);
      checkValues(results);
      if (mode === 'process') {
        for (const { pid } of holders) {
          assert.ok(!results.some((r) => r.pid === pid), `the new pool's tasks did not run on held worker ${pid}`);
          await waitFor(() => !pidAlive(pid), 5000, `held worker process ${pid} to be stopped`);
        }
      } else {
        const threads = new Set(holders.map((h) => h.threadId));
        assert.ok(!results.some((r) => threads.has(r.threadId)), 'the held threads were replaced');
      }
    } finally {
      await scope.close();
    }
  });
}

test.run();
