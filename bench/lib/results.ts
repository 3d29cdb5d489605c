// Where suites write: <dir>/<suite>.json with the machine, Node version, commit and the
// load average before and after, beside the suite's own figures.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { machineInfo } from './harness.js';

export interface SuiteContext {
  /** Directory of the results (bench/results unless --results says otherwise). */
  dir: string;
  profile: import('./profile.js').Profile;
}

export function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** Runs a suite body between two load-average readings and writes its JSON. */
export async function recordSuite<T extends object>(ctx: SuiteContext, suite: string, body: () => Promise<T>): Promise<T> {
  const machine = machineInfo();
  const began = performance.now();
  const figures = await body();
  const json = {
    suite,
    profile: ctx.profile.name,
    machine: { ...machine, loadavgAtEnd: loadavg().map((x) => Number(x.toFixed(2))) },
    durationSeconds: (performance.now() - began) / 1000,
    ...figures,
  };
  mkdirSync(ctx.dir, { recursive: true });
  writeAtomically(join(ctx.dir, `${suite}.json`), `${JSON.stringify(json, null, 2)}\n`);
  console.error(`wrote ${suite}.json`);
  return figures;
}
