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
