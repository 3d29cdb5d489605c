/**
 * Startup and footprint: creating 2 workers until they can take work, closing them until
 * they are gone, and the idle RSS of each, for Troupe in each mode, piscina and the raw
 * media (cluster fork, worker_threads). Each sample is a fresh process
 * (fixtures/startup-probe.mjs), contenders interleaved round by round.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { childEnv, fixture } from '../lib/harness.js';
import { recordSuite, type SuiteContext } from '../lib/results.js';
import { STARTUP_TARGET } from '../lib/targets.js';
import { median, ratios, rotation, spread } from '../../dist/bench/stats.js';

const run = promisify(execFile);
const WORKERS = 2;
const CONTENDERS = ['troupe thread', 'troupe process', 'troupe remote', 'piscina', 'raw worker_threads', 'raw cluster fork'];

interface Sample {
  readyMs: number;
  closeMs: number;
  idleRssPerWorkerBytes: number;
}

async function probe(contender: string): Promise<Sample> {
  const { stdout } = await run(process.execPath, [fileURLToPath(fixture('startup-probe.mjs')), contender, String(WORKERS)], {
    env: childEnv(),
    timeout: 60_000,
  });
  const sample = JSON.parse(stdout.trim().split('\n').pop()!) as Sample;
  for (const key of ['readyMs', 'closeMs', 'idleRssPerWorkerBytes'] as const) {
    if (typeof sample[key] !== 'number') throw new Error(`startup probe of ${contender}: no ${key} in ${stdout}`);
  }
  return sample;
}

export function startupSuite(ctx: SuiteContext) {
  const rounds = ctx.profile.startup.rounds;
  return recordSuite(ctx, 'startup', async () => {
    const samples = new Map<string, Sample[]>(CONTENDERS.map((c) => [c, []]));
    // The warm-up round fills the OS page cache with node, the modules and the fixtures.
    for (let round = -1; round < rounds; round++) {
      for (const c of rotation(CONTENDERS, round + 1)) {
        const s = await probe(c);
        if (round >= 0) samples.get(c)!.push(s);
      }
      console.error(`  startup ${round < 0 ? 'warm-up' : `round ${round + 1}/${rounds}`} done`);
    }
    const of = (c: string, key: keyof Sample) => samples.get(c)!.map((s) => s[key]);
    const target = ([mine, against, key]: readonly [string, string, keyof Sample], atMost: number | null) => {
      const per = ratios(of(mine, key), of(against, key));
      const met = atMost === null || per.length === 0 ? null : median(per) <= atMost;
      return { contender: mine, against, figure: key, atMost, ratios: per, median: median(per), spread: spread(per), met };
    };
    const targets = [
      ...STARTUP_TARGET.judged.map((pair) => target(pair, STARTUP_TARGET.atMost)),
      ...STARTUP_TARGET.reported.map((pair) => target(pair, null)),
    ];
    return {
      options: { rounds, workers: WORKERS },
      contenders: CONTENDERS.map((c) => ({
        name: c,
        readyMs: spread(of(c, 'readyMs')),
        closeMs: spread(of(c, 'closeMs')),
        idleRssPerWorkerMiB: spread(of(c, 'idleRssPerWorkerBytes').map((b) => b / 2 ** 20)),
        samples: samples.get(c),
      })),
      targets,
    };
  });
}
