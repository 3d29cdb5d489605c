/**
 * The run behind `troupe bench`: start a pool per mode and size, warm each up, then
 * measure them in interleaved rounds (the order rotates each round, so a busy moment on
 * a shared machine hits all of them alike).
 */
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { startCell, type Cell } from './cells.js';
import { TaskFailure, timedRound, type RoundFigures } from './measure.js';
import type { BenchMode, BenchOptions } from './options.js';
import { rotation } from './stats.js';

export interface CellResult {
  mode: BenchMode;
  size: number;
  rounds: RoundFigures[];
}

export interface BenchResult {
  benchmark: 'troupe bench';
  task: string;
  tasksModule: string;
  args: string;
  options: { modes: BenchMode[]; sizes: number[]; durationMs: number; rounds: number; warmupMs: number; inFlightPerWorker: number };
  machine: { node: string; platform: string; cpus: number; availableParallelism: number; cpuModel: string; totalMemMB: number; date: string };
  loadavg: { before: number[]; after: number[] };
  cells: CellResult[];
}

/** What the run reports as it goes, for a progress bar or plain lines. */
export interface Progress {
  start(total: number): void;
  step(what: string): void;
  done(): void;
}

export async function runBench(options: BenchOptions, args: unknown[], progress: Progress): Promise<BenchResult> {
  const loadBefore = loadavg();
  const cells: Cell[] = [];
  const results = new Map<Cell, RoundFigures[]>();
  const perRoundMs = options.durationMs / options.rounds;
  const combos = options.modes.flatMap((mode) => options.sizes.map((size) => ({ mode, size })));
  progress.start(combos.length * (options.rounds + 2));
  try {
    for (const { mode, size } of combos) {
      progress.step(`starting ${mode} ×${size}`);
      const cell = await startCell(mode, size, options.tasks);
      cells.push(cell);
      results.set(cell, []);
    }
    const submit = (cell: Cell) => () => cell.pool.run(options.task, args);
    for (let round = -1; round < options.rounds; round++) {
      for (const cell of rotation(cells, round + 1)) {
        const what = round < 0 ? 'warm-up' : `round ${round + 1}/${options.rounds}`;
        progress.step(`${what}: ${cell.label}`);
        const figures = await timedRound(submit(cell), options.inFlight * cell.size, round < 0 ? options.warmupMs : perRoundMs).catch(
          (error: unknown) => {
            if (error instanceof TaskFailure) error.where = `${cell.mode} mode, size ${cell.size}`;
            throw error;
          },
        );
        if (round >= 0) results.get(cell)!.push(figures);
      }
    }
  } finally {
    await Promise.all(cells.map((cell) => cell.stop()));
    progress.done();
  }
  const cpu = cpus();
  return {
    benchmark: 'troupe bench',
    task: options.task,
    tasksModule: options.tasks.pathname.split('/').pop() ?? '',
    args: options.args.text,
    options: {
      modes: options.modes,
      sizes: options.sizes,
      durationMs: options.durationMs,
      rounds: options.rounds,
      warmupMs: options.warmupMs,
      inFlightPerWorker: options.inFlight,
    },
    machine: {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpu.length,
      availableParallelism: availableParallelism(),
      cpuModel: cpu[0]?.model ?? 'unknown',
      totalMemMB: Math.round(totalmem() / 2 ** 20),
      date: new Date().toISOString(),
    },
    loadavg: { before: loadBefore, after: loadavg() },
    cells: cells.map((cell) => ({ mode: cell.mode, size: cell.size, rounds: results.get(cell)! })),
  };
}
