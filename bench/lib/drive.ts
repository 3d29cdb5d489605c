// Running jobs through a JobRunner: n jobs with a fixed number in flight, and timed echoes.
import type { JobRunner } from '../contenders/jobs.js';

/** Runs `n` calls keeping `inFlight` outstanding; resolves with the elapsed ms. */
export function drive(n: number, inFlight: number, call: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    let next = 0;
    let done = 0;
    let failed = false;
    const launch = (): void => {
      const i = next++;
      call(i).then(() => {
        if (failed) return;
        if (++done === n) resolve(performance.now() - start);
        else if (next < n) launch();
      }, (error: unknown) => {
        if (!failed) reject(error);
        failed = true;
      });
    };
    if (n === 0) resolve(0);
    for (let k = 0; k < Math.min(n, inFlight); k++) launch();
  });
}

/**
 * `count` echoes through each of `runners`, one at a time, interleaved: echo k goes through
 * every runner before echo k + 1 goes through any, starting one further along the list each
 * time, so that runners compared with each other see the same moments of a shared, noisy
 * machine, where runs one after the other would each catch their own. `make` builds each
 * echo's argument; `check` judges what came back. Returns ms per echo, per runner.
 */
export async function echoes(
  runners: readonly { runner: JobRunner; job: string }[],
  count: number,
  make: () => { arg: unknown; transfer?: ArrayBuffer[]; bytes: number },
  check: (sent: number, back: unknown) => boolean,
): Promise<number[][]> {
  const samples = runners.map(() => [] as number[]);
  for (let k = 0; k < count; k++) {
    for (let j = 0; j < runners.length; j++) {
      const at = (k + j) % runners.length;
      const { runner, job } = runners[at];
      const { arg, transfer, bytes } = make();
      const start = performance.now();
      const back = await runner.call(job, arg, transfer);
      samples[at].push(performance.now() - start);
      if (!check(bytes, back)) throw new Error(`${runner.name}: ${job} returned something else than it was sent`);
    }
  }
  return samples;
}
