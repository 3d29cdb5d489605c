// Pools started under the node flags users start their apps with: per-process and V8 flags
// (which Worker refuses when execArgv is explicit), loaders in NODE_OPTIONS, and eval/print.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { threadExecArgv } from '../../lib/backends/local.js';
import { childExecArgv } from '../../lib/options.js';
import { fixture, MODES, ROOT, runNode, within } from './helpers.js';

const NODE_20 = Number(process.versions.node.split('.')[0]) < 22;

test('childExecArgv drops eval, print, REPL, test runner, check, watch and debugger flags with their values', () => {
  const parent = [
    '-e', '-1', '--eval=x', '-p', 'process.pid', '--print', 'y', '-pe', 'z', '-i', '--interactive', '--test',
    '--test-reporter', 'spec', '--test-name-pattern=a', '--check', '-c', '--watch', '--watch-path', 'src',
    '--inspect', '--inspect-port', '0', '--inspect-brk=9229', '--run', 'build',
    '--import', 'tsx', '--no-warnings', '--max-old-space-size=2048', '-C', 'development', '--enable-source-maps',
  ];
  assert.equal(childExecArgv(parent), [
    '--import', 'tsx', '--no-warnings', '--max-old-space-size=2048', '-C', 'development', '--enable-source-maps',
  ]);
});

test('threadExecArgv leaves out the flags a Worker refuses, with their values, and keeps the rest', () => {
  const given = [
    '--max-old-space-size=2048', '--expose-gc', '--stack-size=2000', '--title', 'my app', '--zero-fill-buffers',
    '--no-warnings', '--conditions=development', '--enable-source-maps',
  ];
  assert.equal(threadExecArgv(given, ''), ['--no-warnings', '--conditions=development', '--enable-source-maps']);
  assert.throws(() => new Worker('', { eval: true, execArgv: given }), /invalid execArgv/, 'Node refuses the given set');
});

test('threadExecArgv counts a tsx loader in NODE_OPTIONS like one in execArgv (Node 20: a preload per thread)', () => {
  for (const nodeOptions of ['--import=tsx', '--import tsx', '--no-warnings --loader tsx', '--require tsx', '"--import" "tsx"']) {
    const flags = threadExecArgv([], nodeOptions);
    if (NODE_20) assert.ok(flags.some((f) => f.startsWith('data:text/javascript,')), `a preload for ${nodeOptions}`);
    else assert.equal(flags, []);
  }
  assert.equal(threadExecArgv([], '--no-warnings --import ./other.js'), [], 'no preload without tsx');
  assert.equal(threadExecArgv(['--no-warnings'], undefined), ['--no-warnings']);
});

for (const mode of MODES) {
  test(`${mode}: a pool starts and runs under --max-old-space-size, --expose-gc, --stack-size and --title`, async () => {
    const flags = ['--max-old-space-size=2048', '--expose-gc', '--stack-size=2000', '--title=troupe-flags-test'];
    const result = await runNode([...flags, '--import', 'tsx', fixture('e2e-flags.ts').pathname, mode], 30_000);
    assert.is(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as { parent: string[]; scaled: unknown };
    for (const flag of flags) assert.ok(report.parent.includes(flag), `the primary has ${flag}`);
    assert.equal(report.scaled, { x: 3, y: 6 });
  });

  for (const nodeOptions of ['--import=tsx', '--import tsx']) {
    test(`${mode}: a .ts task module runs with NODE_OPTIONS="${nodeOptions}" and no loader in execArgv`, async () => {
      const env = { ...process.env, NODE_OPTIONS: nodeOptions };
      const result = await runNode([fixture('e2e-flags.ts').pathname, mode], 30_000, env);
      assert.is(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as {
        parent: string[];
        scaled: unknown;
        who: { pid: number; threadId: number };
      };
      assert.not.ok(report.parent.includes('tsx'), 'the loader came from NODE_OPTIONS only');
      assert.equal(report.scaled, { x: 3, y: 6 });
      assert.ok(mode === 'thread' ? report.who.threadId > 0 : report.who.threadId === 0, 'ran where it should');
    });
  }

  for (const flag of ['-e', '-p']) {
    test(`${mode}: a pool made in \`node ${flag} <code>\` runs tasks (workers do not re-run the code)`, async () => {
      const code =
        `import(${JSON.stringify(`${ROOT}dist/index.js`)}).then(async ({ createPool }) => {` +
        ` const pool = await createPool({ tasks: ${JSON.stringify(fixture('tasks.js').href)}, mode: '${mode}', size: 2 });` +
        ` console.log('result ' + await pool.run('square', [9])); await pool.close(); })`;
      const result = await runNode([flag, code], 30_000);
      assert.is(result.code, 0, result.stderr);
      assert.match(result.stdout, /^result 81$/m);
      assert.is(result.stderr, '', 'nothing went wrong in the workers');
    });
  }
}

test('a thread started with the flags threadExecArgv computes runs', async () => {
  const execArgv = threadExecArgv(['--max-old-space-size=512', '--no-warnings'], '');
  const worker = new Worker('require("node:worker_threads").parentPort.postMessage(process.execArgv)', {
    eval: true,
    execArgv,
  });
  try {
    const [seen] = await within(new Promise<unknown[]>((resolve) => worker.once('message', (m) => resolve([m]))), 10_000, 'the thread');
    assert.equal(seen, ['--no-warnings']);
  } finally {
    await worker.terminate();
  }
});

test.run();
