// An agent with mode 'inline' runs tasks on its own event loop: its one worker holds the
// connection to the scheduler, with no worker process or thread behind it.
import * as net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AGENT_RUN, AGENT_WELCOME } from '../../lib/backends/remote-protocol.js';
import { startAgent, type AgentOptions } from '../../lib/index.js';
import { FrameDecoder } from '../../lib/transport/framing.js';
import { fixture, HOST, joined, newKey, outcome, parentPid, pidAlive, Scope, waitFor, within } from './helpers.js';

const E2E = fixture('e2e-tasks.js');

async function inlineAgent(scope: Scope, tasks = E2E) {
  const key = newKey();
  const { pool, log } = await scope.pool({ tasks, size: 0, listen: { host: HOST, port: 0, authkey: key } });
  const agent = scope.cliAgent({ port: pool.address()!.port, keyFile: scope.keyFile(key), tasks, mode: 'inline' });
  const info = await joined(log, agent);
  return { pool, agent, info };
}

test('an inline agent announces mode "inline" with one worker, and runs tasks in its own process', async () => {
  const scope = new Scope();
  try {
    const { pool, agent, info } = await inlineAgent(scope);
    assert.is(info.mode, 'inline');
    assert.is(info.parallelism, 1);
    const where = await within(Promise.all(Array.from({ length: 20 }, () => pool.run<{ pid: number }>('whoami'))), 10_000, 'whoami');
    assert.equal(new Set(where.map((w) => w.pid)), new Set([agent.pid]));
    const squares = await within(Promise.all(Array.from({ length: 500 }, (_, i) => pool.run<number>('square', [i]))), 10_000, 'squares');
    assert.equal(squares, Array.from({ length: 500 }, (_, i) => i * i));
    const mapped: number[] = [];
    for await (const value of pool.map<number>('square', Array.from({ length: 100 }, (_, i) => i))) mapped.push(value);
    assert.equal(mapped, Array.from({ length: 100 }, (_, i) => i * i));
  } finally {
    await scope.close();
  }
});

test('the welcome goes as v8, so that a peer of any version reads it; the batches after it as JSON text', async () => {
  const scope = new Scope();
  const write = net.Socket.prototype.write;
  const firstBytes = new Map<number, number[]>();
  net.Socket.prototype.write = function (this: net.Socket, ...args: Parameters<typeof write>) {
    // Each write holds whole frames once the handshake is done; the handshake's own writes are not frames.
    if (Buffer.isBuffer(args[0])) {
      try {
        for (const frame of new FrameDecoder().push(args[0])) firstBytes.set(frame.type, [...(firstBytes.get(frame.type) ?? []), frame.body[0]]);
      } catch {}
    }
    return write.apply(this, args);
  } as typeof write;
  try {
    const { pool } = await inlineAgent(scope);
    assert.is(await within(pool.run('square', [5]), 10_000, 'a task'), 25);
    assert.equal(firstBytes.get(AGENT_WELCOME), [0xff]);
    assert.ok((firstBytes.get(AGENT_RUN) ?? []).length > 0, 'a batch was sent');
    // A lone call with a number: its compact text form ("base name n"), as a JSON string.
    assert.ok(firstBytes.get(AGENT_RUN)!.every((byte) => byte === '"'.charCodeAt(0)), String(firstBytes.get(AGENT_RUN)));
  } finally {
    net.Socket.prototype.write = write;
    await scope.close();
  }
});

test('inline: an actor lives in the agent process; its messages run in order', async () => {
  const scope = new Scope();
  try {
    const { pool, agent } = await inlineAgent(scope, fixture('actor-tasks.js'));
    const counter = await within(pool.spawn('Counter', [0]), 10_000, 'spawn on the inline agent');
    assert.is((await within(counter.call<{ pid: number }>('where'), 10_000, 'where')).pid, agent.pid);
    const calls = Array.from({ length: 200 }, (_, i) => counter.call<number>('inc', [i + 1]));
    const totals = await within(Promise.all(calls), 10_000, 'inc calls');
    assert.equal(totals, Array.from({ length: 200 }, (_, i) => ((i + 1) * (i + 2)) / 2));
    assert.equal(await within(counter.call('log'), 10_000, 'log'), Array.from({ length: 200 }, (_, i) => i + 1));
  } finally {
    await scope.close();
  }
});

test('inline: async tasks overlap; errors come back typed; a value that cannot be sent fails its own task', async () => {
  const scope = new Scope();
  try {
    const { pool } = await inlineAgent(scope);
    // Ten 300 ms naps one after another would take 3 s: together they end long before.
    const started = performance.now();
    const naps = await within(Promise.all(Array.from({ length: 10 }, (_, i) => pool.run('sleep', [300, i]))), 10_000, 'naps');
    assert.equal(naps, Array.from({ length: 10 }, (_, i) => i));
    assert.ok(performance.now() - started < 2_000, `naps took ${(performance.now() - started).toFixed(0)} ms`);
    const custom = await outcome(pool.run('throwCustom'), 10_000, 'throwCustom');
    assert.ok(!custom.ok);
    assert.is(custom.error.name, 'QuotaError');
    const fn = await outcome(pool.run('returnFunction'), 10_000, 'returnFunction');
    assert.ok(!fn.ok);
    assert.match(fn.error.message, /could not be cloned|clone/i);
    assert.is(await within(pool.run('square', [9]), 10_000, 'a task after the failures'), 81);
  } finally {
    await scope.close();
  }
});

test('inline: a task past its timeout fails with the timeout at once, and the agent serves on', async () => {
  const scope = new Scope();
  try {
    const { pool } = await inlineAgent(scope);
    const late = await outcome(pool.run('sleep', [1_500, 'late'], { timeout: 100 }), 10_000, 'the timed-out task');
    assert.ok(!late.ok);
    assert.is(late.error.code, 'ERR_TROUPE_TIMEOUT');
    assert.is(await within(pool.run('sleep', [10, 'next']), 10_000, 'the next task'), 'next');
    // A nap that outlasts the abandoned one: that one's late answer is dropped meanwhile, and disturbs nothing.
    const after = await within(Promise.all([pool.run('sleep', [1_600, 'after']), pool.run('square', [4])]), 10_000, 'tasks after');
    assert.equal(after, ['after', 16]);
    assert.is(await within(pool.run('square', [3]), 10_000, 'a task after the late answer'), 9);
  } finally {
    await scope.close();
  }
});

test('inline: options about worker processes or threads are refused, naming the option', async () => {
  const base = { connect: `${HOST}:9`, authkey: newKey(), tasks: E2E, mode: 'inline' as const };
  const refused: [Partial<AgentOptions>, string][] = [
    [{ size: 2 }, 'size'],
    [{ mode: 'fiber' as 'inline' }, 'mode'],
    [{ execArgv: ['--no-warnings'] }, 'execArgv'],
    [{ maxTasksPerWorker: 10 }, 'maxTasksPerWorker'],
    [{ resourceLimits: { maxOldGenerationSizeMb: 64 } }, 'resourceLimits'],
  ];
  for (const [extra, name] of refused) {
    const result = await outcome(startAgent({ ...base, ...extra }), 5_000, `startAgent with ${name}`);
    assert.ok(!result.ok, name);
    assert.is(result.error.code, 'ERR_TROUPE_INVALID_OPTION');
    assert.match(result.error.message, `"${name}"`);
  }
});

test('inline: one inline agent per process; another may start once it has closed', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log } = await scope.pool({ tasks: E2E, size: 0, listen: { host: HOST, port: 0, authkey: key } });
    const options = { connect: `${HOST}:${pool.address()!.port}`, authkey: key, tasks: E2E, mode: 'inline' as const };
    const first = await within(startAgent(options), 10_000, 'the first inline agent');
    scope.defer(() => first.close());
    const second = await outcome(startAgent(options), 10_000, 'a second inline agent in this process');
    if (second.ok) scope.defer(() => second.value.close());
    assert.ok(!second.ok, 'a second inline agent started');
    assert.is(second.error.code, 'ERR_TROUPE_WORKER_START');
    assert.match(second.error.message, 'already runs in this process');
    await waitFor(() => log.joins.length === 1, 10_000, 'the first agent to join');
    assert.is(await within(pool.run<number>('square', [7]), 10_000, 'a task on the first'), 49);
    await within(first.close(), 10_000, 'the first agent to close');
    const third = await within(startAgent(options), 10_000, 'an inline agent after the first closed');
    scope.defer(() => third.close());
    await waitFor(() => log.joins.length === 2, 10_000, 'the third agent to join');
  } finally {
    await scope.close();
  }
});

test('troupe agent --mode must be process, thread or inline', async () => {
  const scope = new Scope();
  try {
    const child = scope.node(['dist/cli.js', 'agent', '--connect', `${HOST}:9`, '--tasks', E2E, '--mode', 'fiber']);
    const { code } = await child.waitExit(10_000, 'troupe agent --mode fiber');
    assert.is(code, 2);
    assert.match(child.stderr, '--mode must be "process", "thread" or "inline"');
  } finally {
    await scope.close();
  }
});

test('troupe agent --mode inline --size 2: two agent processes, each its own worker and connection, one that dies started again', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log } = await scope.pool({ tasks: E2E, size: 0, listen: { host: HOST, port: 0, authkey: key } });
    const cli = scope.cliAgent({ port: pool.address()!.port, keyFile: scope.keyFile(key), tasks: E2E, mode: 'inline', size: 2 });
    await waitFor(() => log.joins.length === 2, 15_000, 'two inline agents to join', () => cli.describe());
    const [first, second] = log.joins;
    assert.equal([first.mode, second.mode], ['inline', 'inline']);
    assert.ok(first.pid !== second.pid && first.pid !== cli.pid);
    assert.is(parentPid(first.pid), cli.pid);
    assert.is(parentPid(second.pid), cli.pid);
    const where = await within(Promise.all(Array.from({ length: 40 }, () => pool.run<{ pid: number }>('whoami'))), 10_000, 'tasks');
    assert.ok(where.every((w) => w.pid === first.pid || w.pid === second.pid));
    process.kill(first.pid, 'SIGKILL');
    await waitFor(() => log.joins.length === 3, 15_000, 'a replacement to join', () => cli.describe());
    assert.is(parentPid(log.joins[2].pid), cli.pid);
    assert.match(cli.stderr, `inline worker ${first.pid} exited (SIGKILL); starting another`);
    assert.is(await within(pool.run('square', [12]), 10_000, 'a task after the replacement'), 144);
    cli.kill('SIGTERM');
    const { code } = await cli.waitExit(15_000, 'the supervisor to stop on SIGTERM');
    assert.is(code, 0);
    await waitFor(() => !pidAlive(second.pid) && !pidAlive(log.joins[2].pid), 5_000, 'the inline agents to stop with it');
  } finally {
    await scope.close();
  }
});

test('troupe agent --mode inline --size 2: a refused key or a module that does not load stops every one, exit 1, none started again; SIGKILL of the supervisor takes its agents along', async () => {
  const scope = new Scope();
  try {
    const { pool, log } = await scope.pool({ tasks: E2E, size: 0, listen: { host: HOST, port: 0, authkey: newKey() } });
    const refused = scope.cliAgent({ port: pool.address()!.port, keyFile: scope.keyFile(newKey()), tasks: E2E, mode: 'inline', size: 2 });
    const { code } = await refused.waitExit(15_000, 'the supervisor to give up on a refused key');
    assert.is(code, 1);
    assert.match(refused.stderr, 'authentication failed');
    assert.not.match(refused.stderr, 'starting another');
    const broken = scope.cliAgent({ port: pool.address()!.port, keyFile: scope.keyFile(newKey()), tasks: fixture('e2e-throws-at-load.js'), mode: 'inline', size: 2 });
    const exit = await broken.waitExit(15_000, 'the supervisor to give up on a module that does not load');
    assert.is(exit.code, 1);
    assert.match(broken.stderr, 'could not load');
    assert.not.match(broken.stderr, 'starting another');

    const key = newKey();
    const accepting = await scope.pool({ tasks: E2E, size: 0, listen: { host: HOST, port: 0, authkey: key } });
    const cli = scope.cliAgent({ port: accepting.pool.address()!.port, keyFile: scope.keyFile(key), tasks: E2E, mode: 'inline', size: 2 });
    await waitFor(() => accepting.log.joins.length === 2, 15_000, 'two inline agents to join', () => cli.describe());
    cli.kill('SIGKILL');
    await cli.waitExit(5_000, 'the supervisor to die');
    const pids = accepting.log.joins.map((a) => a.pid);
    await waitFor(() => pids.every((pid) => !pidAlive(pid)), 10_000, 'the inline agents to stop when their supervisor died');
    assert.equal(log.joins, []);
  } finally {
    await scope.close();
  }
});

test.run();
