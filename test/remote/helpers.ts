/**
 * Shared by the remote-agent suite: bounded waits (uvu has no per-test timeout), a record
 * of a pool's agent events, agents started through the built CLI (`dist/cli.js`, so run
 * `npm run build` first) or through a child script, and a Scope that stops every pool,
 * agent and child process of a test, and removes its temp files, even when the test fails.
 * Everything listens and connects on 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPool, type AgentInfo, type Pool, type PoolOptions } from '../../lib/index.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const HOST = '127.0.0.1';

/** Absolute path of a file in test/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

export const TASKS = fixture('remote-tasks.js');
/** What TASKS exports, sorted. */
export const TASK_NAMES = [
  'Counter', 'blob', 'echo', 'slowTagged', 'spinForever', 'spinTagged', 'square', 'tagged', 'throwNamed', 'throwTyped', 'whoami',
];
/** The same, plus `agentOnly`, which the scheduler's own workers do not have. */
export const AGENT_TASKS = fixture('remote-agent-tasks.js');

/** Pool options for worker threads (the library brings the tsx loader into them on Node 20). */
export const THREADS = { mode: 'thread' } as const satisfies Partial<PoolOptions>;

export interface Tagged {
  value: number;
  pid: number;
  threadId: number;
}

/** Rejects with a message naming `what` if `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Polls `condition` until it holds; fails after `ms`, with `detail()` in the message. */
export async function waitFor(
  condition: () => boolean,
  ms: number,
  what: string,
  detail: () => string = () => '',
  intervalMs = 10,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) {
      const more = detail();
      throw new Error(`timed out after ${ms} ms waiting for ${what}${more ? `\n${more}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The outcome of `promise`, bounded, without throwing: for asserting on rejections. */
export async function outcome<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<{ ok: true; value: T } | { ok: false; error: Error & { code?: string } }> {
  return within(
    promise.then(
      (value) => ({ ok: true as const, value }),
      (error: Error & { code?: string }) => ({ ok: false as const, error }),
    ),
    ms,
    what,
  );
}

/**
 * A random 32-byte authkey. Its last byte is never "\n": the CLI drops a final newline
 * from a key file (see auth.test.ts, which shows that this corrupts such binary keys).
 */
export function newKey(): Buffer {
  const key = randomBytes(32);
  if (key[31] === 0x0a) key[31] = 0x0b;
  return key;
}

/** What a pool said about agents, from its creation on. */
export interface PoolLog {
  joins: AgentInfo[];
  leaves: { agent: AgentInfo; error?: Error }[];
  authFailures: { address: string; error: Error }[];
}

export function record(pool: Pool): PoolLog {
  const log: PoolLog = { joins: [], leaves: [], authFailures: [] };
  pool.on('agentJoin', (agent) => log.joins.push(agent));
  pool.on('agentLeave', (agent, error) => log.leaves.push({ agent, error }));
  pool.on('authFailure', (address, error) => log.authFailures.push({ address, error }));
  return log;
}

import { pidAlive } from '../support/processes.js';

export { pidAlive };

/** The parent pid of `pid` (Linux), or undefined when it cannot be read. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** A child node process with its output collected. */
export class Child {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout = '';
  stderr = '';
  readonly #graceful: boolean;

  constructor(args: string[], env: NodeJS.ProcessEnv, graceful: boolean) {
    this.#graceful = graceful;
    this.process = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = this.process.pid!;
    this.process.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exit = new Promise((resolve) =>
      this.process.once('close', (code, signal) => resolve({ code, signal })),
    );
  }

  get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  /** Bounded wait for the exit, with the output in the error if it does not come. */
  async waitExit(ms: number, what = 'the child to exit'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    try {
      return await within(this.exit, ms, what);
    } catch (error) {
      (error as Error).message += `\n--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`;
      throw error;
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.exited) this.process.kill(signal);
  }

  /**
   * Stops it for good. A process-mode agent first gets SIGTERM, so that it stops its worker
   * processes itself; whatever is still running after that (or at once, otherwise) is SIGKILLed.
   */
  async stop(): Promise<void> {
    if (this.exited) return;
    if (this.#graceful) {
      this.process.kill('SIGCONT');
      this.process.kill('SIGTERM');
      try {
        await within(this.exit, 5000, 'the agent to stop on SIGTERM');
        return;
      } catch {}
    }
    this.process.kill('SIGKILL');
    await within(this.exit, 5000, `process ${this.pid} to die of SIGKILL`);
  }

  describe(): string {
    return `--- stdout of ${this.pid}:\n${this.stdout}\n--- stderr of ${this.pid}:\n${this.stderr}`;
  }
}

export interface CliAgentOptions {
  port: number;
  /** Path of the authkey file; without it the key comes from `env.TROUPE_AUTHKEY`. */
  keyFile?: string;
  tasks?: string;
  mode?: 'thread' | 'process' | 'inline';
  size?: number;
  /** More CLI arguments, e.g. TLS flags. */
  extra?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Cleanups of one test, run in reverse order, each bounded, whatever happened. */
export class Scope {
  readonly #cleanups: (() => unknown)[] = [];
  #dir: string | undefined;

  defer(fn: () => unknown): void {
    this.#cleanups.push(fn);
  }

  /** A temporary directory of this test, removed at the end. */
  get dir(): string {
    if (this.#dir === undefined) {
      const dir = (this.#dir = mkdtempSync(join(tmpdir(), 'troupe-remote-')));
      this.defer(() => rmSync(dir, { recursive: true, force: true }));
    }
    return this.#dir;
  }

  /** Writes `key` to a fresh file of the temp directory (mode 0600); returns its path. */
  keyFile(key: Buffer | string, name = `key-${randomBytes(4).toString('hex')}`): string {
    const path = join(this.dir, name);
    writeFileSync(path, key, { mode: 0o600 });
    return path;
  }

  async pool(options: PoolOptions): Promise<{ pool: Pool; log: PoolLog }> {
    const pool = await createPool(options);
    this.defer(() => pool.destroy());
    return { pool, log: record(pool) };
  }

  /** `node dist/cli.js agent …` against 127.0.0.1:port. */
  cliAgent(o: CliAgentOptions): Child {
    const args = ['dist/cli.js', 'agent', '--connect', `${HOST}:${o.port}`, '--tasks', o.tasks ?? TASKS];
    args.push('--mode', o.mode ?? 'thread', '--size', String(o.size ?? 1));
    if (o.keyFile !== undefined) args.push('--authkey-file', o.keyFile);
    args.push(...(o.extra ?? []));
    const env = { ...process.env, ...o.env };
    if (!o.env || !('TROUPE_AUTHKEY' in o.env)) delete env.TROUPE_AUTHKEY;
    return this.node(args, env, o.mode === 'process' || o.mode === 'inline');
  }

  /**
   * A pure scheduler (`size: 0`) listening on 127.0.0.1 under a fresh key, and one CLI agent
   * (options as for cliAgent, less the port and key) that has joined it.
   */
  async schedulerWithAgent(agentOptions: Omit<CliAgentOptions, 'port' | 'keyFile'> = {}) {
    const key = newKey();
    const { pool, log } = await this.pool({ tasks: TASKS, size: 0, listen: { host: HOST, port: 0, authkey: key } });
    const agent = this.cliAgent({ ...agentOptions, port: pool.address()!.port, keyFile: this.keyFile(key) });
    const info = await joined(log, agent);
    return { pool, log, agent, info, key };
  }

  /** `node test/fixtures/remote-agent-child.js` with startAgent options the CLI has no flags for. */
  childAgent(options: Record<string, unknown>, key: Buffer): Child {
    const env = { ...process.env, TROUPE_TEST_AUTHKEY: key.toString('hex') };
    return this.node([fixture('remote-agent-child.js'), JSON.stringify(options)], env, options.mode === 'process');
  }

  /** Any `node <args>` in the repository root; stopped at the end of the test. */
  node(args: string[], env: NodeJS.ProcessEnv = process.env, graceful = false): Child {
    const child = new Child(args, env, graceful);
    this.defer(() => child.stop());
    return child;
  }

  async close(): Promise<void> {
    const errors: string[] = [];
    for (const fn of this.#cleanups.splice(0).reverse()) {
      try {
        await within(Promise.resolve().then(fn), 10_000, 'a cleanup step');
      } catch (error) {
        errors.push((error as Error).message);
      }
    }
    if (errors.length > 0) console.error(`cleanup problems:\n${errors.join('\n')}`);
  }
}

/** Waits (bounded) for the pool to announce the agent process `child`; fails early if it exits. */
export async function joined(log: PoolLog, child: Child, ms = 15_000): Promise<AgentInfo> {
  let found: AgentInfo | undefined;
  await waitFor(
    () => (found = log.joins.find((a) => a.pid === child.pid)) !== undefined || child.exited,
    ms,
    `agent ${child.pid} to join`,
    () => child.describe(),
  );
  if (!found) throw new Error(`agent ${child.pid} exited before joining\n${child.describe()}`);
  return found;
}

/** Runs `count` tasks named `name` with `args(i)`, bounded; resolves with their values in order. */
export function runMany<T>(pool: Pool, name: string, count: number, args: (i: number) => unknown[], ms: number): Promise<T[]> {
  const all = Array.from({ length: count }, (_, i) => pool.run<T>(name, args(i)));
  return within(Promise.all(all), ms, `${count} "${name}" tasks`);
}

/** How many of `results` ran in each pid. */
export function countByPid(results: readonly { pid: number }[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const r of results) counts.set(r.pid, (counts.get(r.pid) ?? 0) + 1);
  return counts;
}

export function describeCounts(counts: Map<number, number>): string {
  return [...counts].map(([pid, n]) => `${pid}: ${n}`).join(', ');
}
