/**
 * The flags of `troupe bench`, parsed and checked into one typed value. A bad flag is an
 * InvalidOptionError whose message names the flag.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { InvalidOptionError } from '../errors.js';

/** 'remote': one agent of `size` worker processes; 'inline': `size` inline agents, each its own one worker. */
export type BenchMode = 'thread' | 'process' | 'remote' | 'inline';
export const BENCH_MODES: readonly BenchMode[] = ['thread', 'process', 'remote', 'inline'];
/** Run when --modes is not given. */
export const DEFAULT_BENCH_MODES: readonly BenchMode[] = ['thread', 'process', 'remote'];

/** Where the task's arguments come from: a JSON array, or an export of a module that builds them. */
export type ArgsSource = { kind: 'json'; text: string; value: unknown[] } | { kind: 'module'; module: URL; exportName: string; text: string };

export interface BenchOptions {
  tasks: URL;
  task: string;
  args: ArgsSource;
  modes: BenchMode[];
  sizes: number[];
  /** Measured time per mode and size, split evenly over the rounds, in ms. */
  durationMs: number;
  rounds: number;
  /** Unmeasured run per mode and size before the first round, in ms. */
  warmupMs: number;
  /** Tasks kept in flight per worker. */
  inFlight: number;
  json: boolean;
  out: string | undefined;
  help: boolean;
}

export const BENCH_HELP = `Usage: troupe bench --tasks MODULE --task NAME [options]

Runs one exported function of your task module through each mode and pool size, in
interleaved rounds after a warm-up, and prints tasks/s, latency, CPU and memory per task.

  --tasks MODULE          the task module (required)
  --task NAME             the exported function to run (required)
  --args JSON|FILE#NAME   its arguments: a JSON array ('[1024]'), or FILE#NAME, an export
                          of a module that returns the array (may be async; once per run)
                          (default: [])
  --modes LIST            thread,process,remote,inline (default: thread,process,remote);
                          remote is one agent process on 127.0.0.1 started for the run,
                          inline is one inline agent per worker (troupe agent --mode inline)
  --sizes LIST            pool sizes (default: 1,${availableParallelism()})
  --duration TIME         measured time per mode and size, e.g. 5s, 800ms (default: 5s)
  --rounds N              rounds the duration is split into (default: 5)
  --warmup TIME           unmeasured run per mode and size first (default: 1s)
  --in-flight N           tasks in flight per worker (default: 4)
  --json                  print the raw figures as JSON instead of the table
  --out DIR               also write them to DIR as JSON and Markdown
  --help                  show this text

Exit status: 0 when done, 1 when the task fails (its error is printed), 2 on a usage error.
`;

const fail = (flag: string, message: string): never => {
  throw new InvalidOptionError(`--${flag} ${message}`);
};

/** "5s", "800ms", "1.5m", or a bare number of seconds. */
export function parseDuration(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) return fail(flag, `must be a time such as 5s or 800ms; got "${text}"`);
  const ms = Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1_000);
  if (!(ms > 0)) return fail(flag, `must be more than 0; got "${text}"`);
  return ms;
}

function positiveInteger(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) fail(flag, `must be a whole number >= 1; got "${text}"`);
  return n;
}

function list(flag: string, text: string): string[] {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) fail(flag, 'must list at least one value');
  return [...new Set(items)];
}

function existingModule(flag: string, path: string): URL {
  const absolute = resolve(path);
  if (!existsSync(absolute)) fail(flag, `names no file: ${path}`);
  return pathToFileURL(absolute);
}

function parseArgsSource(text: string): ArgsSource {
  const trimmed = text.trim();
  if (/^[[{"\d-]|^(true|false|null)$/.test(trimmed)) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      return fail('args', `is not valid JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(value)) return fail('args', `must be a JSON array of arguments, e.g. '[1024]'; got ${trimmed}`);
    return { kind: 'json', text: trimmed, value };
  }
  const hash = trimmed.lastIndexOf('#');
  const file = hash < 0 ? trimmed : trimmed.slice(0, hash);
  const exportName = hash < 0 ? 'default' : trimmed.slice(hash + 1);
  if (!file || !exportName) return fail('args', `must be a JSON array or FILE#EXPORT; got "${text}"`);
  return { kind: 'module', module: existingModule('args', file), exportName, text: trimmed };
}

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        tasks: { type: 'string' },
        task: { type: 'string' },
        args: { type: 'string' },
        modes: { type: 'string' },
        sizes: { type: 'string' },
        duration: { type: 'string' },
        rounds: { type: 'string' },
        warmup: { type: 'string' },
        'in-flight': { type: 'string' },
        json: { type: 'boolean' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new InvalidOptionError((error as Error).message);
  }
  const str = (name: string) => values[name] as string | undefined;
  const help = values.help === true;
  if (help) return { help } as BenchOptions;
  const tasksPath = str('tasks') ?? fail('tasks', 'MODULE is required');
  const task = str('task') ?? fail('task', 'NAME is required (an exported function of the task module)');
  if (!/^[\w$]+$/.test(task)) fail('task', `must be an export name; got "${task}"`);
  const modes = list('modes', str('modes') ?? DEFAULT_BENCH_MODES.join(',')).map((m) =>
    (BENCH_MODES as readonly string[]).includes(m) ? (m as BenchMode) : fail('modes', `takes ${BENCH_MODES.join(', ')}; got "${m}"`),
  );
  const sizes = list('sizes', str('sizes') ?? [...new Set([1, availableParallelism()])].join(','))
    .map((s) => positiveInteger('sizes', s))
    .sort((a, b) => a - b);
  const out = str('out');
  if (out !== undefined && out.trim() === '') fail('out', 'must name a directory');
  return {
    tasks: existingModule('tasks', tasksPath),
    task,
    args: parseArgsSource(str('args') ?? '[]'),
    modes,
    sizes,
    durationMs: parseDuration('duration', str('duration') ?? '5s'),
    rounds: positiveInteger('rounds', str('rounds') ?? '5'),
    warmupMs: parseDuration('warmup', str('warmup') ?? '1s'),
    inFlight: positiveInteger('in-flight', str('in-flight') ?? '4'),
    json: values.json === true,
    out,
    help,
  };
}
