// Shared by the end-to-end tests: bounded waits, process checks, fixtures and child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { createPool, type Pool, type PoolEvents, type PoolMode, type PoolOptions } from '../../lib/index.js';

export const MODES: readonly PoolMode[] = ['thread', 'process'];

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A file in test/fixtures, as a file: URL. */
export function fixture(name: string): URL {
  return new URL(`../fixtures/${name}`, import.meta.url);
}

export const TASKS = fixture('e2e-tasks.js');

/** Rejects with a message naming `what` if `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Polls `condition` every `intervalMs` until it holds; fails after `ms`. */
export async function waitFor(condition: () => boolean, ms: number, what: string, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves with the next `event` of `emitter` (bounded). */
export function nextEvent<A extends unknown[]>(
  emitter: { once(event: string, listener: (...args: A) => void): unknown },
  event: string,
  ms: number,
): Promise<A> {
  return within(new Promise<A>((resolve) => emitter.once(event, (...args: A) => resolve(args))), ms, `event "${event}"`);
}

/** The next `event` of `pool`, with its arguments typed (bounded). */
export function poolEvent<K extends keyof PoolEvents>(pool: Pool, event: K, ms: number): Promise<PoolEvents[K]> {
  return within(
    new Promise<PoolEvents[K]>((resolve) => pool.once(event, ((...args: PoolEvents[K]) => resolve(args)) as never)),
    ms,
    `event "${event}"`,
  );
}

import { pidAlive } from '../support/processes.js';

export { pidAlive };

export async function waitGone(pids: readonly number[], ms: number, what: string): Promise<void> {
  await waitFor(() => pids.every((pid) => !pidAlive(pid)), ms, `${what} (alive: ${pids.filter(pidAlive).join(', ')})`, 20);
}

/** The rejection of `promise` (bounded), which must carry `code`. */
export async function rejection(promise: Promise<unknown>, code: string, ms = 10_000): Promise<Error & { code?: string }> {
  const outcome = await within(
    promise.then(
      (value) => ({ ok: true as const, value }),
      (error: Error & { code?: string }) => ({ ok: false as const, error }),
    ),
    ms,
    `a rejection with ${code}`,
  );
  if (outcome.ok) throw new Error(`expected a rejection with ${code}, got ${String(outcome.value)}`);
  assert.is(outcome.error.code, code, `expected ${code}, got ${outcome.error.code}: ${outcome.error.message}`);
  return outcome.error;
}

/** Whether `promise` has already settled once the current macrotask is over (no I/O, no timer). */
export function settledAtOnce(promise: Promise<unknown>): Promise<boolean> {
  const settled = promise.then(
    () => true,
    () => true,
  );
  return Promise.race([settled, new Promise<boolean>((resolve) => setImmediate(resolve, false))]);
}

/** A fresh temporary directory; remove it with `removeDir`. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'troupe-e2e-'));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `node <args>` in the repository root, stdout/stderr collected. */
export function startNode(args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess & { output: () => ChildResult } {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return Object.assign(child, {
    output: (): ChildResult => ({ code: child.exitCode, signal: child.signalCode, stdout, stderr }),
  });
}

/** Resolves when the child has exited and its output is closed. */
export function exited(child: ChildProcess & { output: () => ChildResult }, ms: number, what: string): Promise<ChildResult> {
  const done =
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => child.once('close', () => resolve()));
  return within(done, ms, what).then(
    () => child.output(),
    (error: Error) => {
      const { stdout, stderr } = child.output();
      error.message += `\n--- stdout:\n${stdout}\n--- stderr:\n${stderr}`;
      throw error;
    },
  );
}

/** Runs `node <args>` to its end (bounded); kills it if the bound passes. */
export async function runNode(args: string[], ms: number, env?: NodeJS.ProcessEnv): Promise<ChildResult> {
  const child = startNode(args, env);
  try {
    return await exited(child, ms, `node ${args.join(' ')} to exit`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Resolves with the first stdout line of `child` matching `pattern` (bounded). */
export function lineMatching(child: ChildProcess, pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
  let buffer = '';
  let onData: (chunk: string) => void = () => {};
  const found = new Promise<RegExpMatchArray>((resolve, reject) => {
    onData = (chunk: string) => {
      buffer += chunk;
      for (const line of buffer.split('\n')) {
        const match = line.match(pattern);
        if (match) return resolve(match);
      }
    };
    child.stdout!.on('data', onData);
    child.once('close', (code, signal) => reject(new Error(`child exited with ${signal ?? code} before printing ${pattern}`)));
  });
  return within(found, ms, `a line matching ${pattern}`).finally(() => child.stdout!.off('data', onData));
}


/** Options for a test pool: the e2e task module, 2 workers. */
export function poolOptions(mode: PoolMode, options: Partial<PoolOptions> = {}): PoolOptions {
  return { tasks: TASKS, mode, size: 2, ...options };
}

export function openPool(mode: PoolMode, options: Partial<PoolOptions> = {}): Promise<Pool> {
  return within(createPool(poolOptions(mode, options)), 30_000, `a ${mode} pool to start`);
}

/**
 * Runs `body` with a fresh pool, which is destroyed afterwards whatever happens. The body
 * as a whole is bounded too, so a forgotten bound on one of its awaits cannot hang the file.
 */
export async function withPool(
  mode: PoolMode,
  options: Partial<PoolOptions>,
  body: (pool: Pool) => Promise<void>,
  ms = 60_000,
): Promise<void> {
  const pool = await openPool(mode, options);
  try {
    await within(body(pool), ms, 'the test body');
  } finally {
    await within(pool.destroy(), 15_000, 'pool.destroy()');
  }
}

/** Pids of the worker processes of a pool (none for threads: they live in this process). */
export function workerPids(pool: Pool): number[] {
  return pool
    .stats()
    .workers.filter((w) => w.kind === 'process')
    .map((w) => w.pid!);
}
