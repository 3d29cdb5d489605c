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

/** `count` echoes one at a time; `make` builds each argument (fresh, when it is transferred). Returns ms per echo. */
export async function echoes(
  runner: JobRunner,
  job: string,
  count: number,
  make: () => { arg: unknown; transfer?: ArrayBuffer[]; bytes: number },
  check: (sent: number, back: unknown) => boolean,
): Promise<number[]> {
  const samples: number[] = [];
  for (let k = 0; k < count; k++) {
    const { arg, transfer, bytes } = make();
    const start = performance.now();
    const back = await runner.call(job, arg, transfer);
    samples.push(performance.now() - start);
    if (!check(bytes, back)) throw new Error(`${runner.name}: ${job} returned something else than it was sent`);
  }
  return samples;
}
