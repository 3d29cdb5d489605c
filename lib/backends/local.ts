import { WorkerStartError } from '../errors.js';
import type { WorkerInfo } from './types.js';

/** What the thread and process backends need to start their workers. */
export interface LocalBackendOptions {
  tasks: URL;
  size: number;
  maxInFlight: number;
  execArgv: string[];
  env: Record<string, string | undefined>;
  startTimeout: number;
}

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
  if (ms === Infinity) return promise;
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WorkerStartError(`${what} did not start within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

const TSX_FLAG = /^(tsx|tsx\/.*|.*[\/]node_modules[\/]tsx[\/].*)$/;
const LOADER_FLAGS = new Set(['--import', '--loader', '--experimental-loader']);

function usesTsx(execArgv: readonly string[]): boolean {
  return execArgv.some((flag, i) => {
    const [name, inline] = flag.split('=', 2);
    const value = inline ?? (LOADER_FLAGS.has(name) ? execArgv[i + 1] : undefined);
    return LOADER_FLAGS.has(name) && value !== undefined && TSX_FLAG.test(value);
  });
}

/**
 * Flags for worker threads. On Node 20, a parent's `--import tsx` does not reach worker
 * threads (tsx registers its hooks on the main thread only), so a thread could not load a
 * TypeScript task module: a small preload registers tsx in each thread.
 */
export function threadExecArgv(execArgv: readonly string[]): string[] {
  if (Number(process.versions.node.split('.')[0]) >= 22 || !usesTsx(execArgv)) return [...execArgv];
  let api: string;
  try {
    api = import.meta.resolve('tsx/esm/api');
  } catch {
    return [...execArgv];
  }
  const preload =
    `import { isMainThread } from 'node:worker_threads';\n` +
    `if (!isMainThread) (await import(${JSON.stringify(api)})).register();\n`;
  return [...execArgv, '--import', `data:text/javascript,${encodeURIComponent(preload)}`];
}
