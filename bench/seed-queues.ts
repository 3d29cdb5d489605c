/**
 * `npm run bench:queues`: the origin's workload (put N ints, 2 consumers square them, get N
 * results) through Troupe's named queues over TCP, against the Python original
 * (multiprocessing.managers, bench/python/managers_bench.py) and against Troupe's own
 * remote task throughput (one agent of 2 worker processes, `run('square')` with 1,000 in
 * flight), interleaved round by round in the same run. Ratios are taken within a round;
 * the table gives their median (min – max). Both Troupe contenders keep `--in-flight` items
 * (tasks) in the hands of their workers. Writes bench/results/seed-queues.{json,md}.
 *
 *   node --import tsx bench/seed-queues.ts [--rounds 5] [--tasks 100000] [--python-tasks 20000]
 *       [--remote-tasks 100000] [--in-flight 1000] [--results-dir-tiny 0]
 */
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { troupeQueues } from './contenders/queues.js';
import { pythonManagers } from './contenders/python.js';
import { troupeRemote } from './contenders/troupe.js';
import {
  exitWhenDone, fmtInt, fmtRange, fmtRatio, interleave, machineInfo, median, numericArgs, ratios, table, withContenders,
  type Contender,
} from './lib/harness.js';
import { writeAtomically } from './lib/results.js';

export interface QueuesBenchOptions {
  rounds: number;
  tasks: number;
  pythonTasks: number;
  remoteTasks: number;
  inFlight: number;
}

export const QUEUES_DEFAULTS: QueuesBenchOptions = { rounds: 5, tasks: 100_000, pythonTasks: 20_000, remoteTasks: 100_000, inFlight: 1_000 };

/** Targets of the queues issue, as ratios of items/s measured in the same round. */
const TARGETS = { python: 25, remote: 0.5 };

export async function runQueuesBench(opts: QueuesBenchOptions, dir: string): Promise<Record<string, unknown>> {
  const machine = machineInfo();
  const queues = troupeQueues(2, opts.inFlight);
  const python = pythonManagers(opts.pythonTasks);
  const remote = troupeRemote(2);
  queues.tasks = opts.tasks;
  remote.tasks = opts.remoteTasks;
  return withContenders([queues, python, remote], async ({ ready, skipped }) => {
    const { samples } = await interleave(ready, opts.rounds, async (c: Contender, round) => {
      const n = c.tasks ?? opts.tasks;
      const began = performance.now();
      const own = await c.runThroughput!(n, opts.inFlight);
      const ms = typeof own === 'number' ? own : performance.now() - began;
      const perSecond = (n / ms) * 1000;
      console.error(`round ${round < 0 ? 'warm-up' : round + 1}: ${c.name} ${fmtInt(perSecond)} items/s`);
      return perSecond;
    });
    const q = samples.get(queues.name) ?? [];
    const rows: string[][] = [];
    for (const c of [queues, python, remote]) {
      const s = samples.get(c.name);
      const skip = skipped.find((x) => x.name === c.name);
      if (skip) rows.push([c.name, `skipped: ${skip.reason === 'python3 not found' ? 'no python3' : skip.reason}`, '', '']);
      else if (s) rows.push([c.name, fmtInt(median(s)), fmtRange(s), fmtInt(c.tasks ?? opts.tasks)]);
    }
    const vsPython = samples.has(python.name) ? ratios(q, samples.get(python.name)!) : [];
    const vsRemote = samples.has(remote.name) ? ratios(q, samples.get(remote.name)!) : [];
    const verdict = (r: number[], target: number) =>
      r.length === 0 ? 'skipped' : `${fmtRatio(median(r))} (${fmtRange(r, fmtRatio)}), target ≥ ${target}×: ${median(r) >= target ? 'met' : 'missed'}`;
    const md = [
      `# Named queues against the origin`,
      '',
      `${opts.rounds} rounds after a warm-up, Node ${process.version}, load average ${(machine.loadavgAtStart as number[]).join(', ')} at the start and ${loadavg().map((x) => x.toFixed(2)).join(', ')} at the end.`,
      '',
      table(['contender', 'items/s (median)', 'min – max', 'N per round'], rows, [false, true, true, true]),
      '',
      `- troupe queues ÷ python managers: ${verdict(vsPython, TARGETS.python)}`,
      `- troupe queues ÷ troupe remote tasks: ${verdict(vsRemote, TARGETS.remote)}`,
      '',
      ...[queues, python, remote].map((c) => `- ${c.name}: ${c.detail}`),
      '',
    ].join('\n');
    const json = {
      suite: 'seed-queues',
      options: opts,
      machine: { ...machine, loadavgAtEnd: loadavg().map((x) => Number(x.toFixed(2))) },
      itemsPerSecond: Object.fromEntries(samples),
      skipped,
      ratios: { vsPython, vsRemote },
      targets: TARGETS,
    };
    mkdirSync(dir, { recursive: true });
    writeAtomically(join(dir, 'seed-queues.json'), `${JSON.stringify(json, null, 2)}\n`);
    writeAtomically(join(dir, 'seed-queues.md'), md);
    console.log(md);
    return json;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const opts = numericArgs({ ...QUEUES_DEFAULTS });
  exitWhenDone(runQueuesBench(opts, fileURLToPath(new URL('./results', import.meta.url))));
}
