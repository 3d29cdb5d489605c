/**
 * Starting and stopping `troupe agent` processes with this package's own CLI, as users start
 * them: for `troupe bench`'s remote cells, and for the benchmark suites in bench/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Pool } from '../pool.js';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));
const AGENT_EXIT_TIMEOUT_MS = 10_000;

export interface AgentLaunch {
  tasks: URL;
  size: number;
  authkey: string;
  mode: 'process' | 'inline';
  /** Node flags for the agent; by default this process's own but its debugger ones (a TypeScript task module needs the loader). */
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  joinTimeoutMs?: number;
}

export interface Agent {
  readonly child: ChildProcess;
  /** The last 4,000 characters the agent wrote to stderr. */
  stderr(): string;
}

/** Agents still running: killed if this process exits without stopping them (Ctrl-C), since an agent outlives its scheduler by design. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const agent of running) agent.kill('SIGKILL');
    });
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/**
 * Starts an agent for `pool` (listening on 127.0.0.1) and resolves once it has joined: an
 * agent in process mode by its own pid, so that several may start at once; an inline one
 * (its agents run under a supervisor) by the first join. Kills it if it does not join.
 */
export async function spawnAgent(pool: Pool, launch: AgentLaunch): Promise<Agent> {
  const { port } = pool.address()!;
  const execArgv = launch.execArgv ?? process.execArgv.filter((flag) => !/^--(inspect|debug)/.test(flag));
  const child = spawn(
    process.execPath,
    [...execArgv, CLI, 'agent', '--connect', `127.0.0.1:${port}`, '--tasks', fileURLToPath(launch.tasks), '--mode', launch.mode, '--size', String(launch.size)],
    { env: { ...(launch.env ?? process.env), TROUPE_AUTHKEY: launch.authkey }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  track(child);
  let tail = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    tail = (tail + text).slice(-4_000);
  });
  let onJoin: ((agent: { pid: number }) => void) | undefined;
  const joined = new Promise<void>((resolve) => {
    onJoin = (agent) => {
      if (launch.mode === 'inline' || agent.pid === child.pid) resolve();
    };
    pool.on('agentJoin', onJoin);
  });
  const exited = once(child, 'exit').then(([code, signal]) => {
    throw new Error(`the agent exited before joining (${String(signal ?? code)}): ${tail.trim() || 'no output'}`);
  });
  const timeoutMs = launch.joinTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the agent did not join within ${timeoutMs / 1000} s: ${tail.trim()}`)), timeoutMs);
  });
  try {
    await Promise.race([joined, exited, late]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
    pool.off('agentJoin', onJoin!);
    exited.catch(() => {});
  }
  return { child, stderr: () => tail };
}

/** SIGTERM (the agent closes its workers and exits), then SIGKILL if it has not exited within 10 s. */
export async function stopAgent(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
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
