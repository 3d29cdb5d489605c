/**
 * One pool per mode and size, kept for the whole run so that rounds can interleave:
 * thread and process pools in this process, and remote as a scheduler here (`size: 0`,
 * listening on 127.0.0.1 under a random authkey) with one agent process of `size` workers
 * (inline: `size` inline agents, each its own one worker), started with this package's own
 * CLI as users start it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createPool, type Pool } from '../pool.js';
import type { BenchMode } from './options.js';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));
const AGENT_JOIN_TIMEOUT_MS = 30_000;
const AGENT_EXIT_TIMEOUT_MS = 10_000;
/** The agent gets this process's loader flags (a TypeScript task module), not its debugger ones. */
const agentExecArgv = () => process.execArgv.filter((flag) => !/^--(inspect|debug)/.test(flag));

export interface Cell {
  mode: BenchMode;
  size: number;
  readonly label: string;
  pool: Pool;
  /** Stops the pool and anything started for it; never throws. */
  stop(): Promise<void>;
}

/** Agents still running: killed if this process exits without stopping them (Ctrl-C), since an agent outlives its scheduler by design. */
const agents = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const agent of agents) agent.kill('SIGKILL');
    });
  }
  agents.add(child);
  child.once('exit', () => agents.delete(child));
}

async function startAgent(pool: Pool, tasks: URL, size: number, authkey: string, agentMode: 'process' | 'inline'): Promise<ChildProcess> {
  const { port } = pool.address()!;
  const joined = new Promise<void>((resolve) => pool.once('agentJoin', () => resolve()));
  const child = spawn(
    process.execPath,
    [...agentExecArgv(), CLI, 'agent', '--connect', `127.0.0.1:${port}`, '--tasks', fileURLToPath(tasks), '--mode', agentMode, '--size', String(size)],
    { env: { ...process.env, TROUPE_AUTHKEY: authkey }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  track(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-4_000);
  });
  const exited = once(child, 'exit').then(([code, signal]) => {
    throw new Error(`the agent exited before joining (${String(signal ?? code)}): ${stderr.trim() || 'no output'}`);
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the agent did not join within ${AGENT_JOIN_TIMEOUT_MS / 1000} s: ${stderr.trim()}`)), AGENT_JOIN_TIMEOUT_MS);
  });
  try {
    await Promise.race([joined, exited, late]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
    exited.catch(() => {});
  }
  return child;
}

async function stopAgent(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM'); // the agent closes its workers and exits
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), AGENT_EXIT_TIMEOUT_MS);
  });
  if ((await Promise.race([exited, late])) === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}

export async function startCell(mode: BenchMode, size: number, tasks: URL): Promise<Cell> {
  const label = `${mode} ×${size}`;
  if (mode === 'thread' || mode === 'process') {
    const pool = await createPool({ tasks, mode, size });
    return { mode, size, label, pool, stop: () => pool.destroy().catch(() => {}) };
  }
  const authkey = randomBytes(24).toString('hex');
  const pool = await createPool({ tasks, size: 0, listen: { host: '127.0.0.1', port: 0, authkey } });
  const agents: ChildProcess[] = [];
  try {
    // One at a time: each waits for its own agentJoin.
    if (mode === 'remote') agents.push(await startAgent(pool, tasks, size, authkey, 'process'));
    else for (let i = 0; i < size; i++) agents.push(await startAgent(pool, tasks, 1, authkey, 'inline'));
  } catch (error) {
    await Promise.all(agents.map((agent) => stopAgent(agent).catch(() => {})));
    await pool.destroy().catch(() => {});
    throw error;
  }
  return {
    mode,
    size,
    label,
    pool,
    async stop() {
      await Promise.all(agents.map((agent) => stopAgent(agent).catch(() => {})));
      await pool.destroy().catch(() => {});
    },
  };
}
