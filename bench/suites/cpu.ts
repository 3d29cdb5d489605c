/**
 * CPU-bound: a fixed job of about 5 ms (calibrated once in this process, then the same
 * iteration count for everyone) at pool sizes 1..N and 2N, N the cores: the speed-up
 * curve of each contender, and threads against processes at each size. Contenders at all
 * sizes run interleaved, round by round; speed-ups and ratios are taken within a round.
 */
import { availableParallelism } from 'node:os';
import { spin } from '../fixtures/spin.js';
import { piscina, rawFork, tinypool, troupe, workerpoolThreads, withRunners, type JobRunner } from '../contenders/jobs.js';
import { drive } from '../lib/drive.js';
import { recordSuite, type SuiteContext } from '../lib/results.js';
import { median, ratios, rotation, spread } from '../../dist/bench/stats.js';

/**
 * Iterations of `spin` that take about `ms` here once the loop is optimised: warmed up
 * first (the interpreter is ~20× slower), then the median of several timings, since one
 * timing on a shared machine can be off by a lot.
 */
function calibrate(ms: number): { iterations: number; measuredMs: number } {
  const probe = 50_000;
  for (let k = 0; k < 40; k++) spin(probe);
  const timeOf = (n: number) => {
    const samples: number[] = [];
    for (let k = 0; k < 9; k++) {
      const start = performance.now();
      spin(n);
      samples.push(performance.now() - start);
    }
    return median(samples);
  };
  const iterations = Math.max(1, Math.round((probe * ms) / timeOf(probe)));
  return { iterations, measuredMs: timeOf(iterations) };
}

const CONTENDERS: [string, (size: number) => JobRunner][] = [
  ['troupe thread', (s) => troupe('thread', s)],
  ['troupe process', (s) => troupe('process', s)],
  ['troupe remote', (s) => troupe('remote', s)],
  ['piscina', (s) => piscina(s)],
  ['tinypool', (s) => tinypool(s)],
  ['workerpool', (s) => workerpoolThreads(s)],
  ['raw fork advanced', (s) => rawFork(s, 'advanced')],
];

export function cpuSuite(ctx: SuiteContext) {
  const p = ctx.profile.cpu;
  return recordSuite(ctx, 'cpu', async () => {
    const cores = availableParallelism();
    const sizes = p.sizes ?? [...new Set([...Array.from({ length: cores }, (_, i) => i + 1), ...(p.oversubscribe === false ? [] : [2 * cores])])];
    const job = calibrate(p.jobMs);
    console.error(`cpu: spin(${job.iterations}) ≈ ${job.measuredMs.toFixed(2)} ms here; sizes ${sizes.join(', ')}`);
    const entries = sizes.flatMap((size) => CONTENDERS.map(([name, make]) => ({ name, size, runner: make(size) })));
    return withRunners(entries.map((e) => e.runner), async (ready, skipped) => {
      const live = entries.filter((e) => ready.includes(e.runner));
      const samples = new Map(live.map((e) => [e, [] as number[]]));
      for (let round = -1; round < p.rounds; round++) {
        for (const e of rotation(live, round + 1)) {
          const n = Math.max(1, Math.round((round < 0 ? p.tasksPerWorker / 4 : p.tasksPerWorker) * e.size));
          const ms = await drive(n, p.inFlightPerWorker * e.size, () => e.runner.call('spin', job.iterations));
          if (round >= 0) samples.get(e)!.push((n * 1000) / ms);
        }
        console.error(`  cpu ${round < 0 ? 'warm-up' : `round ${round + 1}/${p.rounds}`} done`);
      }
      const rates = (name: string, size: number) => [...samples].find(([e]) => e.name === name && e.size === size)?.[1] ?? [];
      const contenders = CONTENDERS.map(([name]) => name).filter((name) => live.some((e) => e.name === name));
      return {
        job: { name: 'spin', iterations: job.iterations, calibratedMs: job.measuredMs, targetMs: p.jobMs },
        options: { ...p, sizes, cores },
        skipped,
        contenders: contenders.map((name) => ({
          name,
          detail: live.find((e) => e.name === name)!.runner.detail,
          sizes: sizes.map((size) => {
            const r = rates(name, size);
            const speedUps = ratios(r, rates(name, 1));
            return { size, tasksPerSecond: r, rate: spread(r), speedUp: spread(speedUps), speedUps };
          }),
        })),
        processVsThread: sizes.map((size) => {
          const per = ratios(rates('troupe process', size), rates('troupe thread', size));
          return { size, ratios: per, median: median(per), spread: spread(per) };
        }),
      };
    });
  });
}
