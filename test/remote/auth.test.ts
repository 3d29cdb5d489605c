// The CLI agent and the authkey: refusals are final and loud, bad keys and bad usage are
// reported with the documented exit status, and a good agent keeps working meanwhile.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HOST, Scope, TASKS, joined, newKey, parentPid, pidAlive, runMany, waitFor, within, type Tagged } from './helpers.js';
import { readdirSync } from 'node:fs';

test('a CLI agent with the wrong authkey exits 1 at once, saying "authentication"; the pool keeps serving', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log } = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key } });
    const { port } = pool.address()!;
    const good = scope.cliAgent({ port, keyFile: scope.keyFile(key) });
    await joined(log, good);
    const busy = runMany<Tagged>(pool, 'slowTagged', 400, (i) => [i, 5], 30_000);

    const bad = scope.cliAgent({ port, keyFile: scope.keyFile(newKey()) });
    const started = Date.now();
    const { code } = await bad.waitExit(10_000, 'the agent with the wrong key to give up');
    const elapsed = Date.now() - started;
    assert.is(code, 1, bad.describe());
    assert.match(bad.stderr, /authentication/i);
    assert.ok(elapsed < 10_000, `gave up after ${elapsed} ms`);
    assert.is(log.authFailures.length, 1, 'one attempt, not retried');
    assert.match(log.authFailures[0].address, /127\.0\.0\.1$/);
    assert.is((log.authFailures[0].error as { code?: string }).code, 'ERR_TROUPE_AUTH');
    assert.not.ok(log.joins.some((a) => a.pid === bad.pid), 'the refused agent never joined');

    const results = await busy;
    results.forEach((r, i) => assert.equal([r.value, r.pid], [i * i, good.pid]));
    assert.is(log.leaves.length, 0, 'the good agent stayed connected');
    const after = await runMany<Tagged>(pool, 'tagged', 50, (i) => [i], 10_000);
    assert.ok(after.every((r) => r.pid === good.pid));
  } finally {
    await scope.close();
  }
});

test('an authkey shorter than 16 bytes is a usage error (exit status 2) that says why, from a file or TROUPE_AUTHKEY', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log } = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key } });
    const { port } = pool.address()!;
    const fromFile = scope.cliAgent({ port, keyFile: scope.keyFile(key.subarray(0, 8)) });
    const fromEnv = scope.cliAgent({ port, env: { TROUPE_AUTHKEY: 'too short' } });
    for (const agent of [fromFile, fromEnv]) {
      const { code } = await agent.waitExit(10_000, 'the agent with a short key to exit');
      assert.is(code, 2, agent.describe());
      assert.match(agent.stderr, /authkey must be at least 16 bytes/);
    }
    assert.equal([log.joins.length, log.authFailures.length], [0, 0], 'it never even tried to connect');
  } finally {
    await scope.close();
  }
});

test('--help exits 0 with the usage; usage errors (no --connect, no authkey, bad flags) exit 2', async () => {
  const scope = new Scope();
  try {
    const env = { ...process.env };
    delete env.TROUPE_AUTHKEY;
    const keyFile = scope.keyFile(newKey());
    const run = async (args: string[]) => {
      const child = scope.node(['dist/cli.js', ...args], env);
      const { code } = await child.waitExit(10_000, `troupe ${args.join(' ')}`);
      return { code, stdout: child.stdout, stderr: child.stderr };
    };

    for (const args of [['agent', '--help'], ['--help']]) {
      const help = await run(args);
      assert.is(help.code, 0, help.stderr);
      assert.match(help.stdout, /^Usage: troupe agent --connect HOST:PORT --tasks MODULE/);
    }
    const noConnect = await run(['agent', '--tasks', TASKS, '--authkey-file', keyFile]);
    assert.is(noConnect.code, 2);
    assert.match(noConnect.stderr, /--connect HOST:PORT is required/);
    assert.equal(noConnect.stderr.split('\n'), ['troupe: --connect HOST:PORT is required', 'see troupe agent --help', '']);
    const noKey = await run(['agent', '--connect', `${HOST}:9`, '--tasks', TASKS]);
    assert.is(noKey.code, 2);
    assert.match(noKey.stderr, /an authkey is required/);
    const base = ['agent', '--connect', `${HOST}:9`, '--tasks', TASKS, '--authkey-file', keyFile];
    for (const [extra, message] of [
      [['--mode', 'gpu'], /--mode must be "process", "thread" or "inline"/],
      [['--size', '0'], /--size must be a positive integer/],
      [['--frobnicate'], /Unknown option '--frobnicate'/],
    ] as const) {
      const bad = await run([...base, ...extra]);
      assert.is(bad.code, 2, extra.join(' '));
      assert.match(bad.stderr, message);
    }
    const unknownCommand = await run(['serve']);
    assert.is(unknownCommand.code, 2);
    assert.match(unknownCommand.stderr, /unknown command "serve"/);
  } finally {
    await scope.close();
  }
});

test('a binary key file is used byte for byte, even when its last byte is "\\n"', async () => {
  // A random 32-byte key ends in 0x0a once in 256 times. The pool takes the file's bytes;
  // the CLI drops that final byte as if it were a text file's newline, and is then refused.
  const scope = new Scope();
  try {
    const key = newKey();
    key[31] = 0x0a;
    const keyFile = scope.keyFile(key);
    const { pool, log } = await scope.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key } });
    const agent = scope.cliAgent({ port: pool.address()!.port, keyFile });
    await joined(log, agent, 10_000);
    const r = await within(pool.run<Tagged>('tagged', [5]), 10_000, 'a task');
    assert.equal([r.value, r.pid], [25, agent.pid]);
  } finally {
    await scope.close();
  }
});

test('SIGTERM while the agent is still looking for its scheduler: exit 0, workers gone', async () => {
  const scope = new Scope();
  try {
    // A port with nothing behind it: the agent keeps retrying with backoff.
    const agent = scope.cliAgent({ port: 1, keyFile: scope.keyFile(newKey()), mode: 'process', size: 1 });
    const workers = () =>
      readdirSync('/proc').filter((name) => /^\d+$/.test(name) && parentPid(Number(name)) === agent.pid).map(Number);
    await waitFor(() => workers().length > 0 || agent.exited, 15_000, 'the agent to start its worker', () => agent.describe());
    const [worker] = workers();
    agent.kill('SIGTERM');
    const { code } = await agent.waitExit(10_000, 'the agent to stop');
    assert.is(code, 0, agent.describe());
    await waitFor(() => !pidAlive(worker), 5000, 'its worker process to exit');
  } finally {
    await scope.close();
  }
});

test.run();
