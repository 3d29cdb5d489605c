/**
 * `troupe agent --mode inline --size N`: N inline agents, each a process of its own holding
 * its own connection to the scheduler (a worker with no hop behind it), watched by this
 * process, which holds no connection. One that exits unexpectedly (a crash, an uncaught
 * exception in a task, a kill) is started again, after a pause that doubles while
 * replacements keep dying young; one that stops for good on purpose (the scheduler refused
 * its key, its task module cannot load) stops them all, with its exit status.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { reconnectBackoff } from '../address.js';

/** Set in each inline agent's environment: it reports final failures and stops with its supervisor. */
export const SUPERVISED_ENV = 'TROUPE_AGENT_SUPERVISED';
/** What a supervised agent sends before it exits on purpose with a status that must not be retried. */
export interface FinalExit {
  troupeFinalExit: number;
}

function finalExit(message: unknown): number | undefined {
  if (typeof message !== 'object' || message === null || !('troupeFinalExit' in message)) return undefined;
  const status = message.troupeFinalExit;
  return typeof status === 'number' && Number.isInteger(status) ? status : undefined;
}

/** An agent that lived this long counts as healthy: the next replacement starts without a pause. */
const HEALTHY_MS = 10_000;
const FIRST_RESTART_MS = 100;
const MAX_RESTART_MS = 10_000;
/** How long the agents may take to stop on SIGTERM (each runs teardown()) before they are killed. */
const STOP_GRACE_MS = 10_000;

/**
 * Runs `size` copies of `troupe agent <args> --size 1` until SIGINT/SIGTERM (resolves 0) or
 * until one stops on purpose (resolves with its status). `args` must not hold --size.
 */
export function superviseInline(cli: string, args: readonly string[], size: number): Promise<number> {
  const live = new Set<ChildProcess>();
  const timers = new Set<NodeJS.Timeout>();
  let failures = 0;
  let stopping: number | undefined;
  let done: (status: number) => void;
  const finished = new Promise<number>((resolve) => (done = resolve));

  const stop = (status: number) => {
    if (stopping !== undefined) return;
    stopping = status;
    for (const timer of timers) clearTimeout(timer);
    if (live.size === 0) return done(status);
    for (const child of live) child.kill('SIGTERM');
    setTimeout(() => {
      for (const child of live) child.kill('SIGKILL');
    }, STOP_GRACE_MS).unref();
  };

  const start = () => {
    const started = performance.now();
    let final: number | undefined;
    const child = fork(cli, ['agent', ...args, '--size', '1'], {
      env: { ...process.env, [SUPERVISED_ENV]: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    live.add(child);
    child.on('message', (message) => {
      final = finalExit(message) ?? final;
    });
    child.once('exit', (code, signal) => {
      live.delete(child);
      if (stopping !== undefined) {
        if (live.size === 0) done(stopping);
        return;
      }
      if (final !== undefined || code === 2) return stop(final ?? 2);
      failures = performance.now() - started >= HEALTHY_MS ? 0 : failures + 1;
      const pause = failures === 0 ? 0 : reconnectBackoff(failures - 1, FIRST_RESTART_MS, MAX_RESTART_MS);
      process.stderr.write(
        `troupe agent: inline worker ${child.pid} exited (${signal ?? `code ${code}`}); starting another${pause > 0 ? ` in ${(pause / 1000).toFixed(1)} s` : ''}\n`,
      );
      const timer = setTimeout(() => {
        timers.delete(timer);
        start();
      }, pause);
      timers.add(timer);
    });
  };

  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  for (let i = 0; i < size; i++) start();
  return finished;
}
