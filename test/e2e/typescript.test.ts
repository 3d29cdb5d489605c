// TypeScript task modules, run from a parent under `node --import tsx`, and debugger flags.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { createPool } from '../../lib/index.js';
import { fixture, MODES, ROOT, runNode, within } from './helpers.js';

type TsTasks = typeof import('../fixtures/e2e-typescript-tasks.js');

for (const mode of MODES) {
  // No execArgv given: workers get the parent's flags (here `--import tsx`), and nothing else.
  test(`${mode}: a .ts task module runs, with only the flags workers inherit from a parent under --import tsx`, async () => {
    const pool = await within(
      createPool({ tasks: fixture('e2e-typescript-tasks.ts'), mode, size: 2 }),
      30_000,
      `a ${mode} pool on a .ts module`,
    );
    try {
      const tasks = pool.tasks<TsTasks>();
      const [scaled, scaledBy5, greeting, who] = await within(
        Promise.all([tasks.scale({ x: 1, y: 2 }), tasks.scale({ x: 1, y: 2 }, 5), tasks.greet('troupe'), tasks.whoami()]),
        10_000,
        'the tasks',
      );
      assert.equal(scaled, { x: 2, y: 4 });
      assert.equal(scaledBy5, { x: 5, y: 10 });
      assert.is(greeting, 'hello, troupe');
      assert.ok(mode === 'thread' ? who.pid === process.pid && who.threadId > 0 : who.pid !== process.pid, 'ran where it should');
    } finally {
      await within(pool.destroy(), 10_000, 'destroy()');
    }
  });
}

// The same as a user sees it: the built package, an application under `node --import tsx`.
test('the built package under node --import tsx runs a .ts task module in both modes', async () => {
  assert.ok(existsSync(`${ROOT}dist/index.js`), 'dist/ is missing: run `npm run build` first');
  const result = await runNode(
    ['--import', 'tsx', fixture('e2e-dist.mjs').pathname, 'e2e-typescript-tasks.ts', 'greet', '["troupe"]'],
    30_000,
  );
  assert.is(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, { result: string }>;
  assert.is(report.thread.result, 'hello, troupe');
  assert.is(report.process.result, 'hello, troupe');
});

for (const flags of [['--inspect=0'], ['--inspect-port=0', '--inspect']]) {
  test(`process: a primary started with ${flags.join(' ')} runs a process pool; workers get no debugger flag`, async () => {
    const result = await runNode([...flags, '--import', 'tsx', fixture('e2e-inspect.ts').pathname], 30_000);
    assert.is(result.code, 0, result.stderr);
    assert.match(result.stderr, /Debugger listening on ws:\/\/127\.0\.0\.1:\d+\//);
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as {
      parent: string[];
      workers: string[][];
      scaled: unknown;
    };
    for (const flag of flags) assert.ok(report.parent.includes(flag), `the primary has ${flag}`);
    assert.is(report.workers.length, 2, 'both workers ran tasks');
    for (const execArgv of report.workers) {
      assert.not.ok(execArgv.some((flag) => /^--(inspect|debug)/.test(flag)), `no debugger flag: ${execArgv.join(' ')}`);
      assert.ok(execArgv.includes('tsx'), `the loader is inherited: ${execArgv.join(' ')}`);
    }
    assert.equal(report.scaled, { x: 3, y: 6 });
  });
}

test.run();
