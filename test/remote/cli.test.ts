// The `troupe` command: version, usage errors in one line, flags for every agent option, and
// what an agent says while it looks for its scheduler.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { HOST, newKey, Scope, TASKS, waitFor, within, fixture, type Child } from './helpers.js';

const env = { ...process.env };
delete env.TROUPE_AUTHKEY;

async function run(scope: Scope, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = scope.node(['dist/cli.js', ...args], env);
  const { code } = await child.waitExit(10_000, `troupe ${args.join(' ')}`);
  return { code, stdout: child.stdout, stderr: child.stderr };
}

test('troupe --version prints the package version; bare troupe prints the usage and exits 2', async () => {
  const scope = new Scope();
  try {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const shown = await run(scope, ['--version']);
    assert.is(shown.code, 0, shown.stderr);
    assert.is(shown.stdout, `${version}\n`);
    const bare = await run(scope, []);
    assert.is(bare.code, 2);
    assert.match(bare.stderr, /^Usage: troupe agent --connect HOST:PORT --tasks MODULE/);
  } finally {
    await scope.close();
  }
});

test('a missing --authkey-file (or TLS file) exits 2 with one line naming the flag, then where to read more', async () => {
  const scope = new Scope();
  try {
    const missing = `${scope.dir}/no-such-key`;
    const base = ['agent', '--connect', `${HOST}:9`, '--tasks', TASKS];
    const noKey = await run(scope, [...base, '--authkey-file', missing]);
    assert.is(noKey.code, 2, noKey.stderr);
    assert.equal(noKey.stderr.split('\n'), [
      `troupe: cannot read --authkey-file ${missing}: no such file (ENOENT)`,
      'see troupe agent --help',
      '',
    ]);
    const noCa = await run(scope, [...base, '--authkey-file', scope.keyFile(newKey()), '--tls-ca', missing]);
    assert.is(noCa.code, 2, noCa.stderr);
    assert.match(noCa.stderr, /^troupe: cannot read --tls-ca .*no-such-key: no such file \(ENOENT\)\n/);
  } finally {
    await scope.close();
  }
});

test('agent option flags are checked, and a bad value is named by its flag in one line', async () => {
  const scope = new Scope();
  try {
    const base = ['agent', '--connect', `${HOST}:9`, '--tasks', TASKS, '--authkey-file', scope.keyFile(newKey()), '--size', '1'];
    for (const [extra, message] of [
      [['--max-in-flight', '0'], 'troupe: --max-in-flight must be an integer >= 1; got 0'],
      [['--start-timeout', 'soon'], 'troupe: --start-timeout must be a number; got "soon"'],
      [['--reconnect-delay', '500', '--max-reconnect-delay', '100'], 'troupe: --max-reconnect-delay must be >= --reconnect-delay'],
      [['--heartbeat-timeout', '5'], 'troupe: --heartbeat-timeout (5) must be greater than --heartbeat-interval (1000)'],
      [['--max-frame-bytes', '1'], 'troupe: --max-frame-bytes must be an integer from 64 to 4294967295 (got 1)'],
      [['--mode', 'gpu'], 'troupe: --mode must be "process", "thread" or "inline"'],
      [['--worker-data', '{'], 'troupe: --worker-data must be JSON; got "{"'],
      [['--max-tasks-per-worker', '0'], 'troupe: --max-tasks-per-worker must be an integer >= 1 or Infinity; got 0'],
      [['--max-old-generation-size-mb', 'big'], 'troupe: --max-old-generation-size-mb must be a number of MB > 0; got "big"'],
      [['--atomics', 'maybe'], 'troupe: --atomics must be "sync", "async" or "disabled"'],
      [['--atomics', 'sync', '--mode', 'process'], 'troupe: option "atomics" applies to worker threads only: a worker process always waits in its event loop'],
    ] as const) {
      const bad = await run(scope, [...base, ...extra]);
      assert.is(bad.code, 2, extra.join(' '));
      assert.equal(bad.stderr.split('\n'), [message, 'see troupe agent --help', ''], extra.join(' '));
    }
  } finally {
    await scope.close();
  }
});

test('--max-in-flight and --size reach the agent: the capacity it announces', async () => {
  const scope = new Scope();
  try {
    const { info } = await scope.schedulerWithAgent({
      size: 2,
      extra: ['--max-in-flight', '3', '--start-timeout', '20000', '--heartbeat-interval', '500', '--heartbeat-timeout', '2000'],
    });
    assert.is(info.parallelism, 2);
    assert.is(info.capacity, 6);
  } finally {
    await scope.close();
  }
});

/** Connect-failure lines of an agent's stderr: attempt number and text. */
function failures(agent: Child): { attempt: number; line: string }[] {
  return agent.stderr
    .split('\n')
    .filter((line) => line.includes('troupe agent: connecting to'))
    .map((line) => ({ attempt: Number(/\(attempt (\d+)\)$/.exec(line)?.[1] ?? 1), line }));
}

test('an agent looking for its scheduler says what it tries and why it failed, at growing intervals', async () => {
  const scope = new Scope();
  try {
    // A port nothing listens on: refused at once, tried every 20-40 ms.
    const agent = scope.cliAgent({
      port: 1,
      keyFile: scope.keyFile(newKey()),
      extra: ['--reconnect-delay', '20', '--max-reconnect-delay', '40'],
    });
    await waitFor(() => failures(agent).some((f) => f.attempt >= 32) || agent.exited, 20_000, 'the 32nd attempt', () => agent.describe());
    const seen = failures(agent);
    assert.match(seen[0].line, new RegExp(`^troupe agent: connecting to ${HOST}:1: ECONNREFUSED, retrying in 0\\.0 s$`));
    assert.equal(seen.slice(0, 6).map((f) => f.attempt), [1, 2, 4, 8, 16, 32], 'one line per doubling, not per attempt');
  } finally {
    await scope.close();
  }
});

test('an unresolvable scheduler host is named as a DNS failure', async () => {
  const scope = new Scope();
  try {
    const agent = scope.node(
      ['dist/cli.js', 'agent', '--connect', 'no-such-host.invalid:7070', '--tasks', TASKS, '--mode', 'thread', '--size', '1',
        '--authkey-file', scope.keyFile(newKey())],
      env,
    );
    await waitFor(() => failures(agent).length > 0 || agent.exited, 20_000, 'a connect failure', () => agent.describe());
    assert.match(failures(agent)[0].line, /connecting to no-such-host\.invalid:7070: .*DNS.*, retrying in \d+\.\d s$/);
  } finally {
    await scope.close();
  }
});

test('troupe agent --mode thread runs a .ts task module with the tsx loader in NODE_OPTIONS only', async () => {
  const scope = new Scope();
  try {
    const { pool } = await scope.schedulerWithAgent({
      mode: 'thread',
      tasks: fixture('e2e-typescript-tasks.ts'),
      env: { NODE_OPTIONS: '--import=tsx' },
    });
    assert.is(await within(pool.run('greet', ['agent']), 10_000, 'a task on the agent'), 'hello, agent');
  } finally {
    await scope.close();
  }
});

test.run();
