// `troupe bench` as users run it (the built CLI), at tiny durations: what it prints and
// writes is well formed, a failing task stops it with that task's error, bad flags are named.
// No timing is asserted.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, runNode } from '../e2e/helpers.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const TASKS = fileURLToPath(fixture('bench-tasks.js'));
const TINY = ['--duration', '200ms', '--rounds', '2', '--warmup', '50ms'];
const bench = (args: string[]) => runNode([CLI, 'bench', '--tasks', TASKS, ...args], 90_000);

interface Round {
  tasks: number;
  tasksPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuMsPerTask: number;
  rssGrowthBytes: number;
}

function checkCells(result: { cells: { mode: string; size: number; rounds: Round[] }[] }, modes: string[], sizes: number[]): void {
  assert.equal(result.cells.map((c) => `${c.mode} ${c.size}`), modes.flatMap((m) => sizes.map((s) => `${m} ${s}`)));
  for (const cell of result.cells) {
    assert.is(cell.rounds.length, 2, `${cell.mode} ×${cell.size}: one entry per round`);
    for (const r of cell.rounds) {
      assert.ok(r.tasks > 0, `${cell.mode} ×${cell.size} ran tasks`);
      for (const key of ['tasksPerSecond', 'p50Ms', 'p99Ms', 'cpuMsPerTask', 'rssGrowthBytes'] as const) {
        assert.type(r[key], 'number', `${cell.mode} ×${cell.size}: ${key}`);
        assert.ok(Number.isFinite(r[key]), `${cell.mode} ×${cell.size}: ${key} is finite`);
      }
      assert.ok(r.p99Ms >= r.p50Ms);
    }
  }
}

test('--json prints every mode and size with per-round figures; --out writes JSON and Markdown', async () => {
  const out = mkdtempSync(join(tmpdir(), 'troupe-bench-'));
  try {
    const run = await bench(['--task', 'square', '--args', '[7]', '--modes', 'thread,process,remote,inline', '--sizes', '1,2', ...TINY, '--json', '--out', out]);
    assert.is(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.is(result.task, 'square');
    assert.is(result.args, '[7]');
    assert.ok(Array.isArray(result.loadavg.before) && Array.isArray(result.loadavg.after));
    assert.type(result.machine.node, 'string');
    checkCells(result, ['thread', 'process', 'remote', 'inline'], [1, 2]);
    assert.match(run.stderr, /round 2\/2: remote ×2/, 'plain progress lines when not on a terminal');
    const written = JSON.parse(readFileSync(join(out, 'bench-square.json'), 'utf8'));
    assert.equal(written.cells.length, 8);
    const md = readFileSync(join(out, 'bench-square.md'), 'utf8');
    assert.match(md, /^# troupe bench: square/);
    assert.match(md, /\| mode +\| size \| tasks\/s/);
    assert.match(md, /mode is \d+\.\d\d× \w+ mode for this task at size 2/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the table and a one-line verdict; --args FILE#EXPORT builds arguments a flag cannot hold', async () => {
  const run = await bench(['--task', 'byteLength', '--args', `${TASKS}#bufferArgs`, '--modes', 'thread', '--sizes', '1', ...TINY]);
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /\| thread +\| +1 \| +[\d,]+ \|/);
  assert.match(run.stdout, /thread mode runs [\d,]+ tasks\/s for this task at size 1\./);
});

test('a failing task stops the run with its own error and exit 1', async () => {
  const run = await bench(['--task', 'fails', '--modes', 'process', '--sizes', '1', ...TINY]);
  assert.is(run.code, 1);
  assert.match(run.stderr, /task "fails" failed \(process mode, size 1\):\nRangeError: bench fixture: the input is out of range\n/);
  assert.match(run.stderr, /at fails \(.*bench-tasks\.js/, "the task's own frame");
  assert.not.match(run.stderr, /dist\/|node:internal/, 'no frames of the harness');
  assert.is(run.stdout, '', 'no table');
});

test('bad flags exit 2 with a message naming the flag', async () => {
  const cases: [string[], RegExp][] = [
    [['--task', 'square', '--sizes', '0'], /--sizes must be a whole number >= 1; got "0"/],
    [['--task', 'square', '--modes', 'cloud'], /--modes takes thread, process, remote, inline; got "cloud"/],
    [['--task', 'square', '--duration', 'soon'], /--duration must be a time such as 5s/],
    [['--task', 'square', '--args', '{"n":1}'], /--args must be a JSON array/],
    [['--task', 'square', '--args', '[1,'], /--args is not valid JSON/],
    [['--task', 'nothing', '--modes', 'thread', '--sizes', '1', ...TINY], /--task: .*bench-tasks\.js exports no task "nothing"/],
    [[], /--task NAME is required/],
  ];
  for (const [args, message] of cases) {
    const run = await bench(args);
    assert.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
  }
});

test.run();
