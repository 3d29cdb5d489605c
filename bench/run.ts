/**
 * `npm run bench`: the reference suites, then bench/results/REPORT.md and the charts.
 *
 *   npm run bench                      every suite, full length
 *   npm run bench -- --quick           about a minute (scale-out reduced to 1 and 10 agents)
 *   npm run bench -- --only cpu,payloads
 *   npm run bench:actors               the actors suite alone (same as -- --only actors)
 *   node --import tsx bench/run.ts --tiny --results DIR   (the tests: tiny sizes, elsewhere)
 */
import { parseArgs } from 'node:util';
import { exitWhenDone } from './lib/harness.js';
import { PROFILES } from './lib/profile.js';
import type { SuiteContext } from './lib/results.js';
import { writeReport } from './report/report.js';
import { actorsSuite } from './suites/actors.js';
import { cpuSuite } from './suites/cpu.js';
import { payloadsSuite } from './suites/payloads.js';
import { queuesSuite } from './suites/queues.js';
import { scaleOutSuite } from './suites/scale-out.js';
import { startupSuite } from './suites/startup.js';
import { DEFAULT_RESULTS, tinySuite } from './suites/tiny.js';

const SUITES: Record<string, (ctx: SuiteContext) => Promise<unknown>> = {
  tiny: tinySuite,
  cpu: cpuSuite,
  payloads: payloadsSuite,
  startup: startupSuite,
  'scale-out': scaleOutSuite,
  queues: queuesSuite,
  actors: actorsSuite,
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      tiny: { type: 'boolean' },
      only: { type: 'string' },
      results: { type: 'string' },
      'report-only': { type: 'boolean' },
    },
    strict: true,
  });
  const profile = PROFILES[values.tiny ? 'tiny' : values.quick ? 'quick' : 'full'];
  const names = values.only ? values.only.split(',').map((s) => s.trim()) : Object.keys(SUITES);
  for (const name of names) if (!(name in SUITES)) throw new Error(`--only: no suite "${name}"; suites: ${Object.keys(SUITES).join(', ')}`);
  const ctx: SuiteContext = { dir: values.results ?? DEFAULT_RESULTS, profile };
  const began = performance.now();
  if (!values['report-only']) {
    for (const name of names) {
      const t0 = performance.now();
      console.error(`\n== ${name} (${profile.name}) ==`);
      await SUITES[name](ctx);
      console.error(`== ${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  }
  await writeReport(ctx.dir);
  console.error(`\nbench: done in ${((performance.now() - began) / 1000).toFixed(1)} s; report in ${ctx.dir}/REPORT.md`);
}

exitWhenDone(main());
