/**
 * Suite 1, tiny tasks: bench/tiny-tasks.ts as it is, in a child process, with the profile's
 * sizes. It writes next to itself (bench/results/); for another results directory it runs
 * from a scratch copy of bench/ and its two files are copied over.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SuiteContext } from '../lib/results.js';

const BENCH = fileURLToPath(new URL('..', import.meta.url));
const ROOT = resolve(BENCH, '..');
export const DEFAULT_RESULTS = join(BENCH, 'results');

function gitEnv(): Record<string, string> {
  try {
    const dir = execFileSync('git', ['rev-parse', '--absolute-git-dir'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { GIT_DIR: dir, GIT_WORK_TREE: ROOT };
  } catch {
    return {};
  }
}

export async function tinySuite(ctx: SuiteContext): Promise<void> {
  const inPlace = resolve(ctx.dir) === resolve(DEFAULT_RESULTS);
  let scratch: string | undefined;
  let benchDir = BENCH;
  if (!inPlace) {
    scratch = mkdtempSync(join(tmpdir(), 'troupe-tiny-'));
    benchDir = join(scratch, 'bench');
    cpSync(BENCH, benchDir, { recursive: true, filter: (src) => !src.startsWith(join(BENCH, 'results')) });
    for (const name of ['dist', 'node_modules', 'package.json', 'tsconfig.json']) symlinkSync(join(ROOT, name), join(scratch, name));
  }
  try {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(benchDir, 'tiny-tasks.ts'), ...ctx.profile.tiny.args], {
      cwd: scratch ?? ROOT,
      env: { ...process.env, ...gitEnv() }, // so a scratch copy still records the commit
      stdio: ['ignore', 'ignore', 'inherit'], // its tables go to tiny-tasks.md; its progress to our stderr
    });
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    if (code !== 0) throw new Error(`bench/tiny-tasks.ts exited with ${signal ?? code}`);
    if (!inPlace) {
      mkdirSync(ctx.dir, { recursive: true });
      for (const file of ['tiny-tasks.json', 'tiny-tasks.md']) copyFileSync(join(benchDir, 'results', file), join(ctx.dir, file));
    }
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}
