import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cloneable, InvalidOptionError } from './errors.js';
import { resolveTransportOptions, type ListenOptions } from './transport/options.js';
import type { AtomicsMode, ResourceLimits } from './backends/local.js';
import { MAX_ENTRIES } from './worker/batch.js';

export type { AtomicsMode, ResourceLimits };

export type PoolMode = 'thread' | 'process';

export interface PoolOptions {
  /** The ES module whose exported functions are the tasks: a `file:` URL or an absolute path (.js, .mjs, .ts…). */
  tasks: URL | string;
  /** Where tasks run. @default 'process' */
  mode?: PoolMode;
  /** Number of worker threads or processes, fixed (minSize = maxSize); 0 runs none locally. Not with minSize/maxSize. @default os.availableParallelism() */
  size?: number;
  /** Fewest workers: they stay however idle. 0 starts one to check the module, then lets it go when idle. @default 1 (with maxSize) */
  minSize?: number;
  /** Most workers: more start while tasks wait for room, up to this. @default max(minSize, os.availableParallelism()) */
  maxSize?: number;
  /** A worker beyond minSize stops after this many ms without a task; Infinity: never. @default 5000 */
  idleTimeout?: number;
  /** How many times a task whose worker died is run again before it fails with ERR_TROUPE_WORKER_LOST. @default 2 */
  retries?: number;
  /** Most tasks waiting with no worker having room for them (at least 1); past it `run()` rejects with ERR_TROUPE_QUEUE_FULL. @default Infinity */
  maxQueue?: number;
  /** Default per-task timeout in ms, counted from dispatch; 0 or Infinity for none. @default Infinity */
  timeout?: number;
  /** Most tasks in flight to one worker (the scheduler adapts below it to the tasks' run time). @default 1024 */
  maxInFlight?: number;
  /** Most tasks sent to a worker in one message. @default 256 */
  batchSize?: number;
  /** Node flags for workers. @default process.execArgv without --inspect / --debug flags and those that run other code (-e, -p, --test, --watch…) */
  execArgv?: string[];
  /** Environment of worker threads; added to process.env for worker processes. @default process.env */
  env?: Record<string, string | undefined>;
  /** How long a worker may take to load the task module and run its setup(), in ms. @default 30000 */
  startTimeout?: number;
  /**
   * Accept remote agents on this address: `{ host, port, authkey, tls? }` (port 0 picks a
   * free port). Tasks then also run on agents, and wait for one when no worker exports them.
   * @default undefined (no agents)
   */
  listen?: ListenOptions;
  /**
   * Handed to the task module's `setup(workerData)` export, once in each worker before its
   * first task: any value that can be copied to a worker. @default undefined
   */
  workerData?: unknown;
  /** Replace a worker after it has run this many tasks (Python's maxtasksperchild), between tasks. @default Infinity */
  maxTasksPerWorker?: number;
  /** Replace a worker, between tasks, once its JS heap is over this many MiB (checked as it sends results). @default Infinity */
  maxMemoryPerWorker?: number;
  /**
   * Limits of each worker's JS engine: for threads Node's Worker `resourceLimits`; for
   * processes only `maxOldGenerationSizeMb`, as `--max-old-space-size`. A worker that hits
   * them fails the task it ran with ERR_TROUPE_RESOURCE_LIMIT and is replaced. @default none
   */
  resourceLimits?: ResourceLimits;
  /**
   * Worker threads only: how an idle thread waits for work. 'disabled' or 'async': in its event
   * loop, so timers and sockets a task started without awaiting them keep running. 'sync':
   * blocked in Atomics.wait (piscina's default), woken directly; its event loop turns only
   * after each batch. @default 'disabled'
   */
  atomics?: AtomicsMode;
  /** Emit `'stats'` with `stats()` every this many ms, for dashboards; 0 or Infinity for never. @default 0 */
  statsInterval?: number;
  /** Most named queues the pool may own (`pool.queue()`). @default 1000 */
  maxQueues?: number;
}

export interface ResolvedPoolOptions {
  tasks: URL;
  mode: PoolMode;
  /** Workers started with the pool: minSize, or 1 when minSize is 0 (to check the module). */
  size: number;
  minSize: number;
  maxSize: number;
  idleTimeout: number;
  retries: number;
  maxQueue: number;
  timeout: number;
  maxInFlight: number;
  batchSize: number;
  execArgv: string[];
  env: Record<string, string | undefined>;
  startTimeout: number;
  listen: ListenOptions | undefined;
  workerData: unknown;
  statsInterval: number;
  maxTasksPerWorker: number;
  maxMemoryPerWorker: number;
  resourceLimits: ResourceLimits | undefined;
  atomics: AtomicsMode;
  maxQueues: number;
}

const TASK_EXTENSIONS = /\.(m|c)?(j|t)s$/;
const KNOWN = new Set([
  'tasks', 'mode', 'size', 'minSize', 'maxSize', 'idleTimeout', 'retries', 'maxQueue', 'timeout', 'maxInFlight', 'batchSize', 'execArgv', 'env',
  'startTimeout', 'listen', 'workerData', 'statsInterval', 'maxTasksPerWorker', 'maxMemoryPerWorker',
  'resourceLimits', 'atomics', 'maxQueues',
]);

/**
 * Flags a worker must not inherit: debugger ports would collide between children, and flags
 * that make node run something other than the worker entry (eval/print code, a REPL, the
 * test runner, a syntax check, watch mode, `--run`, help/version output, snapshot or
 * profile processing) would run the caller's code, or nothing, in every worker.
 */
const NOT_INHERITED =
  /^(--(inspect|debug)(-brk|-port|-wait)?|-e|--eval|-p|--print|-pe|-i|--interactive|-c|--check|--test(-.*)?|--experimental-test-.*|--watch(-.*)?|--run|-h|--help|-v|--version|--v8-options|--completion-bash|--prof-process|--build-snapshot(-config)?|--experimental-sea-config)$/;
/** Of those, the ones whose value is the next item when not given with "=". */
const TAKES_VALUE = new Set(['-e', '--eval', '-p', '--print', '-pe', '--inspect-port', '--debug-port', '--run']);

export function childExecArgv(parent: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < parent.length; i++) {
    const flag = parent[i];
    const [name, inline] = flag.split('=', 2);
    if (!NOT_INHERITED.test(name)) {
      out.push(flag);
      continue;
    }
    if (inline !== undefined || i + 1 >= parent.length) continue;
    // A value is the next item: always for the flags known to take one (`-e -1` is code),
    // for the others (`--test-reporter spec`, `--watch-path src`) when it is not a flag.
    if (TAKES_VALUE.has(name) || !parent[i + 1].startsWith('-')) i++;
  }
  return out;
}

function fail(name: string, must: string, value: unknown): never {
  throw new InvalidOptionError(`option "${name}" must be ${must}; got ${describe(value)}`);
}

/** `value` (an integer already checked against its floor) if it is at most `most`. */
function atMost(name: string, value: number, most: number): number {
  if (value > most) fail(name, `an integer up to ${most}`, value);
  return value;
}

/**
 * The workers' environment: strings, and numbers and booleans as Node makes them strings
 * (undefined leaves a variable out); anything else names the variable.
 */
function checkEnv(env: unknown): Record<string, string | undefined> {
  if (env === null || typeof env !== 'object' || Array.isArray(env)) fail('env', 'an object', env);
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || typeof value === 'string') out[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
    else fail(`env.${key}`, 'a string (or a number or boolean)', value);
  }
  return out;
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return 'an array';
  return value.constructor?.name ? `a ${value.constructor.name}` : 'an object';
}

export function integer(name: string, value: unknown, min: number, fallback: number, allowInfinity = false): number {
  if (value === undefined) return fallback;
  if (allowInfinity && value === Infinity) return Infinity;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    fail(name, `an integer >= ${min}${allowInfinity ? ' or Infinity' : ''}`, value);
  }
  return value;
}

export function milliseconds(name: string, value: unknown, fallback: number): number {
  if (value === undefined || value === 0 || value === Infinity) return value === undefined ? fallback : Infinity;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(name, 'a number of milliseconds > 0, or 0 / Infinity for none', value);
  }
  return value;
}

/**
 * A pause in ms (reconnect delays): a number >= 0, or Infinity where `allowInfinity`. Timers
 * clamp it to what setTimeout honours (timers.ts), so a huge value never becomes 1 ms.
 */
export function delay(name: string, value: unknown, fallback: number, allowInfinity = false): number {
  if (value === undefined) return fallback;
  if (allowInfinity && value === Infinity) return Infinity;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(name, `a number of milliseconds >= 0${allowInfinity ? ' or Infinity' : ''}`, value);
  }
  return value;
}

export function resolveTasksModule(value: unknown, name = 'tasks'): URL {
  let url: URL;
  if (value instanceof URL) url = value;
  else if (typeof value === 'string' && value.startsWith('file:')) url = new URL(value);
  else if (typeof value === 'string' && isAbsolute(value)) url = pathToFileURL(value);
  else fail(name, 'a file: URL or an absolute path to an ES module', value);
  if (url.protocol !== 'file:') fail(name, 'a file: URL or an absolute path to an ES module', value);
  const path = fileURLToPath(url);
  if (!TASK_EXTENSIONS.test(path)) fail(name, 'a .js, .mjs, .cjs, .ts, .mts or .cts module', value);
  if (!existsSync(path)) throw new InvalidOptionError(`option "${name}": no file at ${path}`);
  return url;
}

function stringArray(name: string, value: unknown, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) fail(name, 'an array of strings', value);
  return [...value];
}

export function resolvePoolOptions(options: unknown): ResolvedPoolOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(`createPool() takes an options object; got ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(`unknown option "${key}"`);
  }
  if (o.mode !== undefined && o.mode !== 'thread' && o.mode !== 'process') {
    fail('mode', '"thread" or "process"', o.mode);
  }
  const listen = o.listen === undefined ? undefined : resolveListen(o.listen);
  const mode = (o.mode as PoolMode | undefined) ?? 'process';
  const sizes = resolveSizes(o, listen !== undefined);
  return {
    tasks: resolveTasksModule(o.tasks),
    mode,
    ...sizes,
    idleTimeout: milliseconds('idleTimeout', o.idleTimeout, 5_000),
    retries: integer('retries', o.retries, 0, 2),
    maxQueue: integer('maxQueue', o.maxQueue, 1, Infinity, true),
    timeout: milliseconds('timeout', o.timeout, Infinity),
    maxInFlight: integer('maxInFlight', o.maxInFlight, 1, 1024),
    batchSize: atMost('batchSize', integer('batchSize', o.batchSize, 1, 256), MAX_ENTRIES),
    execArgv: stringArray('execArgv', o.execArgv, childExecArgv()),
    env: o.env === undefined ? process.env : checkEnv(o.env),
    startTimeout: milliseconds('startTimeout', o.startTimeout, 30_000),
    listen,
    workerData: copyable('workerData', o.workerData),
    statsInterval: milliseconds('statsInterval', o.statsInterval, Infinity),
    maxTasksPerWorker: integer('maxTasksPerWorker', o.maxTasksPerWorker, 1, Infinity, true),
    maxMemoryPerWorker: mebibytes('maxMemoryPerWorker', o.maxMemoryPerWorker),
    resourceLimits: resolveResourceLimits(o.resourceLimits, mode),
    atomics: resolveAtomics(o.atomics, mode),
    maxQueues: integer('maxQueues', o.maxQueues, 1, 1_000),
  };
}

const LIMITS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'] as const;

function resolveResourceLimits(value: unknown, mode: PoolMode): ResourceLimits | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('resourceLimits', 'an object', value);
  const out: ResourceLimits = {};
  for (const [key, limit] of Object.entries(value)) {
    const name = `resourceLimits.${key}`;
    if (!(LIMITS as readonly string[]).includes(key)) throw new InvalidOptionError(`unknown option "${name}"`);
    if (limit === undefined) continue;
    if (typeof limit !== 'number' || !Number.isFinite(limit) || limit <= 0) fail(name, 'a number of MB > 0', limit);
    if (mode === 'process' && key !== 'maxOldGenerationSizeMb') {
      throw new InvalidOptionError(`option "${name}" applies to worker threads only; worker processes take maxOldGenerationSizeMb (as --max-old-space-size)`);
    }
    out[key as (typeof LIMITS)[number]] = limit;
  }
  return out;
}

function resolveAtomics(value: unknown, mode: PoolMode): AtomicsMode {
  if (value === undefined) return 'disabled';
  if (value !== 'sync' && value !== 'async' && value !== 'disabled') fail('atomics', '"sync", "async" or "disabled"', value);
  if (mode === 'process' && value !== 'disabled') {
    throw new InvalidOptionError('option "atomics" applies to worker threads only: a worker process always waits in its event loop');
  }
  return value;
}

/** A size in MiB > 0, or Infinity for none. */
function mebibytes(name: string, value: unknown): number {
  if (value === undefined || value === Infinity) return Infinity;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(name, 'a number of MiB > 0, or Infinity for none', value);
  return value;
}

/** A value every medium can copy to a worker (v8 serialization), as it is. */
function copyable(name: string, value: unknown): unknown {
  if (value !== undefined && !cloneable(value)) fail(name, 'a value that can be copied to a worker (no functions, symbols or class instances with private state)', value);
  return value;
}

/** `size` is `minSize = maxSize`; either alone fills in the other. */
function resolveSizes(o: Record<string, unknown>, agents: boolean): { size: number; minSize: number; maxSize: number } {
  if (o.size !== undefined && (o.minSize !== undefined || o.maxSize !== undefined)) {
    const other = o.minSize !== undefined ? 'minSize' : 'maxSize';
    throw new InvalidOptionError(`option "size" cannot be given with "${other}": size means minSize = maxSize`);
  }
  if (o.minSize === undefined && o.maxSize === undefined) {
    const size = integer('size', o.size, 0, availableParallelism());
    if (size === 0 && !agents) fail('size', 'at least 1 for a pool without `listen` (agents)', size);
    return { size, minSize: size, maxSize: size };
  }
  const minSize = integer('minSize', o.minSize, 0, o.maxSize === 0 ? 0 : 1);
  const maxSize = integer('maxSize', o.maxSize, 0, Math.max(minSize, availableParallelism()));
  if (maxSize < minSize) fail('maxSize', `at least minSize (${minSize})`, maxSize);
  if (maxSize === 0 && !agents) fail('maxSize', 'at least 1 for a pool without `listen` (agents)', maxSize);
  return { size: maxSize === 0 ? 0 : Math.max(1, minSize), minSize, maxSize };
}

function resolveListen(value: unknown): ListenOptions {
  try {
    resolveTransportOptions(value, 'server');
  } catch (error) {
    throw new InvalidOptionError(`option "listen": ${(error as Error).message}`);
  }
  return value as ListenOptions;
}
