/**
 * `troupe bench`: parse the flags, build the arguments, run, print the table (or JSON),
 * write --out files. Returns the exit status: 0 done, 1 the task failed, 2 usage error.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidOptionError, TroupeError, UnknownTaskError } from '../errors.js';
import { buildArgs } from './args.js';
import { TaskFailure } from './measure.js';
import { BENCH_HELP, parseBenchOptions, type BenchOptions } from './options.js';
import { createProgress } from './progress.js';
import { markdown, table, verdict } from './report.js';
import { runBench } from './runner.js';

function usage(message: string): number {
  process.stderr.write(`troupe bench: ${message}\n\nRun \`troupe bench --help\` for the flags.\n`);
  return 2;
}

/** This package's own files: their frames below the user's task say nothing about it. */
const PACKAGE_DIR = new URL('../', import.meta.url).href;

/** The task's own error as the user would see it thrown: its stack without Troupe's and Node's frames. */
function describeTaskError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const lines = (error.stack ?? `${error.name}: ${error.message}`).split('\n');
  return lines.filter((line) => !/^\s+at /.test(line) || !(line.includes(PACKAGE_DIR) || /\(node:|at node:/.test(line))).join('\n');
}

export async function benchCommand(argv: readonly string[]): Promise<number> {
  let options: BenchOptions;
  let args: unknown[];
  try {
    options = parseBenchOptions(argv);
    if (options.help) {
      process.stdout.write(BENCH_HELP);
      return 0;
    }
    args = await buildArgs(options.args);
  } catch (error) {
    if (error instanceof InvalidOptionError) return usage(error.message);
    return usage(`--args: building the arguments failed: ${describeTaskError(error)}`);
  }
  const interrupted = () => process.exit(130); // the exit hook stops agent processes
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const result = await runBench(options, args, createProgress());
    if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else process.stdout.write(`\n${table(result)}\n\n${verdict(result)}\n`);
    if (options.out !== undefined) {
      mkdirSync(options.out, { recursive: true });
      const base = join(options.out, `bench-${options.task}`);
      writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
      writeFileSync(`${base}.md`, markdown(result));
      process.stderr.write(`troupe bench: wrote ${base}.json and ${base}.md\n`);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof TaskFailure)) throw error;
    const cause = error.error;
    if (cause instanceof UnknownTaskError) return usage(`--task: ${options.tasks.pathname} exports no task "${options.task}"`);
    if (cause instanceof TroupeError) {
      process.stderr.write(`troupe bench: ${cause.code}: ${cause.message}\n`);
      return 1;
    }
    process.stderr.write(`troupe bench: task "${options.task}" failed (${error.where}):\n${describeTaskError(cause)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
}
