/**
 * What `atomics: 'sync'` costs or saves: one-in-flight round trips of a tiny task (square)
 * through a one-thread pool whose idle thread waits in its event loop ('disabled', the
 * default) or blocked in Atomics.wait ('sync'). The two pools run interleaved, round by
 * round, so the load of a shared machine hits them alike.
 *
 *   npm run bench:atomics                  (builds first)
 *   node --import tsx bench/atomics.ts --rounds 7 --trips 2000
 *
 * Prints per mode the median over rounds of each round's p50 round trip, with min–max.
 */
import { createPool, type Pool } from '../lib/index.js';
import { exitWhenDone, fixture, median, minMax, numericArgs, percentile } from './lib/harness.js';

const opts = numericArgs({ rounds: 7, trips: 2_000, warmup: 500 });
const MODES = ['disabled', 'sync'] as const;

async function trips(pool: Pool, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await pool.run('square', [i]);
    out.push((performance.now() - started) * 1000);
  }
  return out;
}

async function main(): Promise<void> {
  const pools = new Map<string, Pool>();
  try {
    for (const atomics of MODES) {
      pools.set(atomics, await createPool({ tasks: fixture('troupe-tasks.js'), mode: 'thread', size: 1, atomics }));
    }
    for (const pool of pools.values()) await trips(pool, opts.warmup);
    const p50s = new Map<string, number[]>(MODES.map((m) => [m, []]));
    for (let round = 0; round < opts.rounds; round++) {
      const order = round % 2 === 0 ? MODES : [...MODES].reverse();
      for (const atomics of order) p50s.get(atomics)!.push(percentile(await trips(pools.get(atomics)!, opts.trips), 50));
    }
    console.log(`one-in-flight round trip of square on 1 thread, ${opts.rounds} rounds × ${opts.trips} trips (p50 per round, µs)`);
    console.log('| atomics | median p50 µs | min – max |');
    console.log('| --- | --: | --: |');
    for (const atomics of MODES) {
      const samples = p50s.get(atomics)!;
      const [low, high] = minMax(samples);
      console.log(`| ${atomics} | ${median(samples).toFixed(1)} | ${low.toFixed(1)} – ${high.toFixed(1)} |`);
    }
    const ratio = MODES.map((m) => median(p50s.get(m)!));
    console.log(`sync ÷ disabled (medians): ${(ratio[1] / ratio[0]).toFixed(2)}×`);
  } finally {
    await Promise.all([...pools.values()].map((pool) => pool.destroy()));
  }
}

exitWhenDone(main());
