import { Worker } from 'node:worker_threads';
import { WorkerStartError } from '../errors.js';
import { setDelay } from '../timers.js';
import type { RecyclingOptions } from './recycling.js';
import type { WorkerInfo } from './types.js';

export interface ResourceLimits {
  /** Most MB of the main (old generation) heap. Threads and processes. */
  maxOldGenerationSizeMb?: number;
  /** Most MB of the young generation heap. Threads only. */
  maxYoungGenerationSizeMb?: number;
  /** MB reserved for generated code. Threads only. */
  codeRangeSizeMb?: number;
  /** Default stack size, MB. Threads only. */
  stackSizeMb?: number;
}

/**
 * How an idle worker thread waits for its next batch. 'disabled' and 'async': in its event
 * loop (timers and sockets a task left running keep running). 'sync': blocked in
 * Atomics.wait, woken at once by the pool; its event loop turns once after each batch.
 */
export type AtomicsMode = 'sync' | 'async' | 'disabled';

/** What the thread and process backends need to start their workers. */
export interface LocalBackendOptions extends RecyclingOptions {
  tasks: URL;
  size: number;
  maxInFlight: number;
  execArgv: string[];
  env: Record<string, string | undefined>;
  startTimeout: number;
  /** What the task module's setup() gets in each worker. */
  workerData: unknown;
  resourceLimits: ResourceLimits | undefined;
  atomics: AtomicsMode;
}

/** How long a worker stopping on purpose may take (its teardown() included) before it is killed. */
export const CLOSE_GRACE_MS = 5_000;

/** Lifecycle notices a backend gives the pool, which turns them into events. */
export interface WorkerEvents {
  workerStart?(info: WorkerInfo): void;
  workerExit?(info: WorkerInfo, error?: Error): void;
}

/** A worker entry beside this module: `.ts` when running from source under a loader, `.js` when built. */
export function entryUrl(name: string): URL {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`../worker/${name}${extension}`, import.meta.url);
}

export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setDelay(() => reject(new WorkerStartError(`${what} did not start within ${ms} ms`)), ms);
  });
  if (timer === undefined) return promise;
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

const TSX_FLAG = /^(tsx|tsx\/.*|.*[\/]node_modules[\/]tsx[\/].*)$/;
const LOADER_FLAGS = new Set(['--import', '--loader', '--experimental-loader', '--require', '-r']);

/** Splits NODE_OPTIONS as Node does: on spaces, with double quotes and backslash escapes inside them. */
export function splitNodeOptions(value: string | undefined): string[] {
  const out: string[] = [];
  let current: string | undefined;
  let quoted = false;
  for (let i = 0; i < (value ?? '').length; i++) {
    const c = value![i];
    if (quoted && c === '\\' && i + 1 < value!.length) current = (current ?? '') + value![++i];
    else if (c === '"') {
      quoted = !quoted;
      current ??= '';
    } else if (c === ' ' && !quoted) {
      if (current !== undefined) out.push(current);
      current = undefined;
    } else current = (current ?? '') + c;
  }
  if (current !== undefined) out.push(current);
  return out;
}

function usesTsx(execArgv: readonly string[]): boolean {
  return execArgv.some((flag, i) => {
    const [name, inline] = flag.split('=', 2);
    const value = inline ?? (LOADER_FLAGS.has(name) ? execArgv[i + 1] : undefined);
    return LOADER_FLAGS.has(name) && value !== undefined && TSX_FLAG.test(value);
  });
}

/**
 * On Node 20, a parent's `--import tsx` (in execArgv or NODE_OPTIONS) does not reach worker
 * threads (tsx registers its hooks on the main thread only), so a thread could not load a
 * TypeScript task module: a small preload registers tsx in each thread.
 */
function tsxPreload(flags: readonly string[]): string[] {
  if (Number(process.versions.node.split('.')[0]) >= 22 || !usesTsx(flags)) return [];
  let api: string;
  try {
    api = import.meta.resolve('tsx/esm/api');
  } catch {
    return [];
  }
  const preload =
    `import { isMainThread } from 'node:worker_threads';\n` +
    `if (!isMainThread) (await import(${JSON.stringify(api)})).register();\n`;
  return ['--import', `data:text/javascript,${encodeURIComponent(preload)}`];
}

/** A flag no Worker accepts (it is per-process), so that a probe never starts a thread. */
const REFUSED_PROBE = '--title=troupe-probe';

/**
 * The flags of `execArgv` that `new Worker()` refuses. Node's Worker rejects V8 and
 * per-process flags (`--max-old-space-size`, `--expose-gc`, `--stack-size`, `--title`…) when
 * execArgv is given explicitly, and its error lists them; a flag it always refuses is added,
 * so the probe throws every time and starts nothing.
 */
function refusedByWorker(execArgv: readonly string[]): Set<string> {
  try {
    const worker = new Worker('', { eval: true, execArgv: [REFUSED_PROBE, ...execArgv], stdout: true, stderr: true });
    void worker.terminate(); // a future Node that accepts the probe flag: nothing known to refuse
    return new Set();
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code !== 'ERR_WORKER_INVALID_EXEC_ARGV') return new Set();
    return new Set(message.slice(message.indexOf(': ') + 2).split(', '));
  }
}

function withoutFlags(execArgv: readonly string[], refused: ReadonlySet<string>): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    if (!refused.has(execArgv[i])) kept.push(execArgv[i]);
    // A refused `--flag value`: its value goes too (values are the items not starting with "-").
    else if (!execArgv[i].includes('=') && i + 1 < execArgv.length && !execArgv[i + 1].startsWith('-')) i++;
  }
  return kept;
}

/**
 * What to give piscina (and so `new Worker()`) as execArgv for the pool's threads: `execArgv`
 * without the flags a Worker refuses (they are per-process: the threads share the process
 * that has them anyway), plus the tsx preload on Node 20 when `execArgv` or NODE_OPTIONS
 * loads tsx.
 */
export function threadExecArgv(
  execArgv: readonly string[],
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): string[] {
  return [...acceptedByWorker(execArgv), ...tsxPreload([...splitNodeOptions(nodeOptions), ...execArgv])];
}

/** What a Worker accepts of each execArgv seen (joined): a probe costs about 1 ms of a thread's start. */
const accepted = new Map<string, readonly string[]>();

function acceptedByWorker(execArgv: readonly string[]): readonly string[] {
  if (execArgv.length === 0) return execArgv;
  const key = execArgv.join('\0');
  let kept = accepted.get(key);
  if (kept !== undefined) return kept;
  kept = execArgv;
  // Node stops listing after some refused flags (`--title x` hides what follows it): repeat.
  for (let round = 0; round < 16; round++) {
    const next = withoutFlags(kept, refusedByWorker(kept));
    if (next.length === kept.length) break;
    kept = next;
  }
  accepted.set(key, kept);
  return kept;
}
