// Starting a pool, running tasks, values across the boundary, and what run() and createPool() refuse.
import cluster from 'node:cluster';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createPool, type PoolOptions } from '../../lib/index.js';
import {
  fixture, MODES, pidAlive, poolOptions, rejection, removeDir, runNode, tempDir, TASKS, waitGone, withPool,
} from './helpers.js';

type Tasks = typeof import('../fixtures/e2e-tasks.js');

for (const mode of MODES) {
  test(`${mode}: createPool resolves once every worker is up, and a task runs`, async () => {
    await withPool(mode, { size: 2 }, async (pool) => {
      const { workers } = pool.stats();
      assert.is(workers.length, 2);
      for (const worker of workers) {
        assert.is(worker.kind, mode);
        assert.is(worker.state, 'idle');
        if (mode === 'process') assert.ok(pidAlive(worker.pid!), `worker ${worker.pid} is running`);
        else assert.type(worker.threadId, 'number');
      }
      assert.is(new Set(workers.map((w) => w.id)).size, 2, 'distinct workers');
      assert.is(await pool.run('square', [7]), 49);
    });
  });

  test(`${mode}: pool.tasks<typeof import(…)>() is a typed proxy`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const tasks = pool.tasks<Tasks>();
      const n: number = await tasks.square(7);
      assert.is(n, 49);
      const who = await tasks.whoami();
      assert.type(who.pid, 'number');
      // Checked by tsc, never run: a wrong argument type and an unknown task do not compile.
      const typeChecks = () => {
        // @ts-expect-error square takes a number
        void tasks.square('7');
        // @ts-expect-error no such task
        void tasks.cube(2);
      };
      void typeChecks;
      // `await pool.tasks()` must not look like a thenable.
      assert.is((tasks as unknown as { then?: unknown }).then, undefined);
    });
  });

  test(`${mode}: Map, Set, Date, BigInt, RegExp, typed arrays and nested data round-trip`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const values = {
        map: new Map<unknown, unknown>([['a', 1], [2, { b: [3n] }]]),
        set: new Set(['x', 'y']),
        date: new Date('2024-02-29T12:34:56.789Z'),
        bigint: 2n ** 70n,
        regexp: /ab+c/gi,
        typed: new Float64Array([1.5, -0, NaN]),
        nested: { list: [1, 'two', null, undefined, true], deep: { deeper: { deepest: 'ok' } } },
      };
      // The worker sees real instances, not look-alikes.
      assert.equal(await pool.run('typesOf', [values]), {
        buffer: false, map: true, set: true, date: true, bigint: 'bigint', regexp: true, typed: true,
      });
      const back = await pool.run<typeof values>('echo', [values]);
      assert.instance(back.map, Map);
      assert.equal([...back.map], [['a', 1], [2, { b: [3n] }]]);
      assert.instance(back.set, Set);
      assert.equal([...back.set], ['x', 'y']);
      assert.instance(back.date, Date);
      assert.is(back.date.toISOString(), '2024-02-29T12:34:56.789Z');
      assert.is(back.bigint, 2n ** 70n);
      assert.instance(back.regexp, RegExp);
      assert.is(back.regexp.source, 'ab+c');
      assert.is(back.regexp.flags, 'gi');
      assert.instance(back.typed, Float64Array);
      assert.is(back.typed[0], 1.5);
      assert.ok(Object.is(back.typed[1], -0));
      assert.ok(Number.isNaN(back.typed[2]));
      assert.equal(back.nested, values.nested);
    });
  });

  test(`${mode}: numbers sent many at a time (packed for the wire) arrive and come back exactly`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const edges = [-0, 0, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, 0.1, -(2 ** 31) - 1];
      const numbers = Array.from({ length: 200 }, (_, i) => edges[i % edges.length]);
      const back = await Promise.all(numbers.map((n) => pool.run<number>('echo', [n])));
      assert.ok(back.every((value, i) => Object.is(value, numbers[i])), 'every number exactly as sent');
      assert.equal(await Promise.all(numbers.map((_, i) => pool.run<number>('square', [i]))), numbers.map((_, i) => i * i));
    });
  });

  test(`${mode}: numbers sent one at a time (as text to a worker process) arrive and come back exactly`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      for (const n of [-0, 0, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, 0.1, 1e21, -(2 ** 31) - 1]) {
        assert.ok(Object.is(await pool.run<number>('echo', [n]), n), `echo ${n}`);
      }
      assert.is(await pool.run<number>('square', [12]), 144);
    });
  });

  // A Buffer that arrived as a bare Uint8Array would turn `buffer.toString()` into
  // "104,195,…" without any error; worker processes (and agents) keep Buffers as Buffers.
  test(`${mode}: a Buffer reaches the task as a Buffer and comes back as one`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const buffer = Buffer.from('héllo');
      const seen = await pool.run<Record<string, unknown>>('typesOf', [{ buffer }]);
      assert.is(seen.buffer, true, 'Buffer.isBuffer() inside the task');
      const back = await pool.run<Buffer>('echo', [buffer]);
      assert.ok(Buffer.isBuffer(back), 'Buffer.isBuffer() on the result');
      assert.is(back.toString(), 'héllo');
    });
  });

  test(`${mode}: an unknown task name rejects with ERR_TROUPE_UNKNOWN_TASK`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const error = await rejection(pool.run('noSuchTask', [1]), 'ERR_TROUPE_UNKNOWN_TASK');
      assert.match(error.message, /noSuchTask/);
      assert.is(await pool.run('square', [3]), 9, 'the pool still works');
    });
  });

  test(`${mode}: env reaches the workers; numbers and booleans as Node makes them strings`, async () => {
    const env = { TROUPE_E2E_STR: 'x', TROUPE_E2E_NUM: 42, TROUPE_E2E_FLAG: true } as unknown as Record<string, string>;
    await withPool(mode, { size: 1, env }, async (pool) => {
      assert.equal(await pool.run('envOf', [Object.keys(env)]), ['x', '42', 'true']);
    });
  });

  test(`${mode}: run() with bad arguments rejects with ERR_TROUPE_INVALID_ARGUMENT`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const run = pool.run.bind(pool) as (...args: unknown[]) => Promise<unknown>;
      const bad: [string, Promise<unknown>, RegExp][] = [
        ['name is a number', run(42, []), /name/],
        ['name is missing', run(undefined), /name/],
        ['args is not an array', run('square', 7), /args/],
        ['args is an object', run('square', { 0: 7, length: 1 }), /args/],
        ['timeout is negative', run('square', [7], { timeout: -5 }), /timeout/],
        ['timeout is a string', run('square', [7], { timeout: '100' }), /timeout/],
        ['timeout is NaN', run('square', [7], { timeout: NaN }), /timeout/],
        ['options is not an object', run('square', [7], 'fast'), /options/],
        ['signal is not an AbortSignal', run('square', [7], { signal: {} }), /signal/],
        ['transfer holds a number', run('square', [7], { transfer: [1] }), /transfer\[0\]/],
        ['transfer holds a view, not its buffer', run('square', [7], { transfer: [new Uint8Array(4)] }), /transfer\[0\].*\.buffer/],
        ['an unknown option', run('square', [7], { timout: 5 }), /"timout"/],
      ];
      for (const [what, promise, names] of bad) {
        const error = await rejection(promise, 'ERR_TROUPE_INVALID_ARGUMENT');
        assert.match(error.message, names, what);
      }
      assert.is(pool.stats().completed, 0, 'none of them ran');
      assert.is(await pool.run('square', [7]), 49);
    });
  });

  test(`${mode}: a task module that throws at load fails createPool with ERR_TROUPE_WORKER_START, nothing left running`, async () => {
    const forked: number[] = [];
    const onFork = (worker: { process: { pid?: number } }) => forked.push(worker.process.pid!);
    cluster.on('fork', onFork);
    try {
      const error = await rejection(
        createPool(poolOptions(mode, { tasks: fixture('e2e-throws-at-load.js'), size: 2 })),
        'ERR_TROUPE_WORKER_START',
        30_000,
      );
      assert.match(error.message, /this module refuses to load/, 'the message says why');
      if (mode === 'process') {
        assert.is(forked.length, 2, 'both workers were started');
        await waitGone(forked, 5_000, 'workers of the failed pool to exit');
      }
    } finally {
      cluster.off('fork', onFork);
    }
  });

  // One worker loads the module, the other cannot: the pool must not start, and must not
  // leave anything behind that keeps the process alive (run in a child, which must exit).
  test(`${mode}: a pool whose second worker fails to start rejects and leaves nothing running`, async () => {
    const dir = tempDir();
    try {
      const result = await runNode(
        ['--import', 'tsx', new URL('../fixtures/e2e-start-fails.ts', import.meta.url).pathname, mode],
        10_000,
        { ...process.env, TROUPE_E2E_MARKER: `${dir}/loaded` },
      );
      assert.is(result.code, 0, `child exits by itself with 0\n${result.stdout}\n${result.stderr}`);
      const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as { code: string; forked: number[] };
      assert.is(report.code, 'ERR_TROUPE_WORKER_START');
      await waitGone(report.forked, 2_000, 'workers forked by the child');
    } finally {
      removeDir(dir);
    }
  });
}

test('every bad pool option throws ERR_TROUPE_INVALID_OPTION naming the option', async () => {
  const tasks = TASKS;
  const cases: [string, unknown, string][] = [
    ['tasks missing', {}, 'tasks'],
    ['tasks relative', { tasks: './test/fixtures/e2e-tasks.js' }, 'tasks'],
    ['tasks not a module file', { tasks: '/etc/hostname' }, 'tasks'],
    ['tasks nonexistent', { tasks: '/nonexistent/dir/tasks.js' }, 'tasks'],
    ['tasks not a file: URL', { tasks: new URL('https://example.com/tasks.js') }, 'tasks'],
    ['mode x', { tasks, mode: 'x' }, 'mode'],
    ['size -1', { tasks, size: -1 }, 'size'],
    ['size 1.5', { tasks, size: 1.5 }, 'size'],
    ['size "2"', { tasks, size: '2' }, 'size'],
    ['size 0', { tasks, size: 0 }, 'size'],
    ['retries -1', { tasks, retries: -1 }, 'retries'],
    ['maxQueue "a"', { tasks, maxQueue: 'a' }, 'maxQueue'],
    ['timeout -5', { tasks, timeout: -5 }, 'timeout'],
    ['maxInFlight 0', { tasks, maxInFlight: 0 }, 'maxInFlight'],
    ['batchSize 0', { tasks, batchSize: 0 }, 'batchSize'],
    ['execArgv not strings', { tasks, execArgv: [1] }, 'execArgv'],
    ['env not an object', { tasks, env: 'A=1' }, 'env'],
    ['env an array', { tasks, env: [] }, 'env'],
    ['env with a value that is not a string', { tasks, env: { A: {} } }, 'env.A'],
    ['batchSize past the most a worker takes', { tasks, batchSize: 65_537 }, 'batchSize'],
    ['startTimeout -1', { tasks, startTimeout: -1 }, 'startTimeout'],
    ['unknown key', { tasks, sise: 2 }, 'sise'],
  ];
  const forked: number[] = [];
  const onFork = () => forked.push(1);
  cluster.on('fork', onFork);
  try {
    for (const [what, options, name] of cases) {
      let error: (Error & { code?: string }) | undefined;
      try {
        // A synchronous throw and a rejection are both fine: createPool is awaited.
        await createPool(options as PoolOptions);
      } catch (e) {
        error = e as Error & { code?: string };
      }
      assert.ok(error, `${what}: createPool must fail`);
      assert.is(error!.code, 'ERR_TROUPE_INVALID_OPTION', `${what}: ${error!.message}`);
      assert.ok(error!.message.includes(`"${name}"`), `${what}: the message names "${name}": ${error!.message}`);
    }
    const notAnObject = await createPool(null as unknown as PoolOptions).catch((e: Error & { code?: string }) => e);
    assert.is((notAnObject as { code?: string }).code, 'ERR_TROUPE_INVALID_OPTION');
    assert.is(forked.length, 0, 'no worker was started for a bad option');
  } finally {
    cluster.off('fork', onFork);
  }
});

test.run();
