/**
 * One pool per mode and size, kept for the whole run so that rounds can interleave:
 * thread and process pools in this process, and remote as a scheduler here (`size: 0`,
 * listening on 127.0.0.1 under a random authkey) with one agent process of `size` workers
 * (inline: `size` inline agents, each its own one worker), started with this package's own
 * CLI as users start it.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createPool, type Pool } from '../pool.js';
import { spawnAgent, stopAgent } from './agents.js';
import type { BenchMode } from './options.js';

/**
 * How a cell's workers and agents start: Node flags (by default this process's own, since a
 * TypeScript task module needs its loader) and, for agents, the environment. A benchmark
 * gives `execArgv: []` so that Troupe's workers start as bare as its peers' do.
 */
export interface CellLaunch {
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
}

export interface Cell {
  mode: BenchMode;
  size: number;
  readonly label: string;
  pool: Pool;
  /** Stops the pool and anything started for it; never throws. */
  stop(): Promise<void>;
}

export async function startCell(mode: BenchMode, size: number, tasks: URL, launch: CellLaunch = {}): Promise<Cell> {
  const label = `${mode} ×${size}`;
  const { execArgv, env } = launch;
  if (mode === 'thread' || mode === 'process') {
    const pool = await createPool({ tasks, mode, size, ...(execArgv !== undefined && { execArgv }) });
    return { mode, size, label, pool, stop: () => pool.destroy().catch(() => {}) };
  }
  const authkey = randomBytes(24).toString('hex');
  const pool = await createPool({ tasks, size: 0, listen: { host: '127.0.0.1', port: 0, authkey } });
  const agents: ChildProcess[] = [];
  try {
    // One at a time: each waits for its own agentJoin.
    if (mode === 'remote') agents.push((await spawnAgent(pool, { tasks, size, authkey, mode: 'process', execArgv, env })).child);
    else for (let i = 0; i < size; i++) agents.push((await spawnAgent(pool, { tasks, size: 1, authkey, mode: 'inline', execArgv, env })).child);
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
