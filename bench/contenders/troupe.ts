// Troupe itself, as the built package users get: local pools, and remote mode with an agent.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createPool, type Pool, type PoolMode } from '../../dist/index.js';
import { childEnv, fixture, sleep, windowed, type Contender } from '../lib/harness.js';

/**
 * How a contender drives its pool: 'run' is one `run()` per task (windowed) and one-in-flight
 * round trips; 'map' consumes `pool.map('square', range(n))` fully, default map options.
 */
export type Api = 'run' | 'map';

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

async function consumeMap(pool: Pool, n: number): Promise<void> {
  let i = 0;
  for await (const value of pool.map<number>('square', range(n))) {
    if (value !== i * i) throw new Error(`map(): item ${i} came back as ${String(value)}`);
    i++;
  }
  if (i !== n) throw new Error(`map(): ${i} results for ${n} items`);
}

/** The throughput and latency drivers for `api`, on the pool `get()` returns once set up. */
function drivers(api: Api, get: () => Pool): Pick<Contender, 'runThroughput' | 'roundTrip'> {
  if (api === 'map') return { runThroughput: (n) => consumeMap(get(), n) };
  return {
    runThroughput: (n, inFlight) => windowed(n, inFlight, (i) => get().run('square', [i])),
    roundTrip: (i) => get().run('square', [i]),
  };
}

const suffix = (api: Api) => (api === 'map' ? ' map()' : '');

/** A local pool: `size` worker threads or worker processes, default batching and windows. */
export function troupeLocal(mode: PoolMode, size = 2, api: Api = 'run'): Contender {
  let pool: Pool | undefined;
  return {
    name: `troupe ${mode}${suffix(api)}`,
    detail: `createPool({ mode: '${mode}', size: ${size} }), default options${api === 'map' ? `; pool.map('square', range(n)) consumed fully` : ''}`,
    async setup() {
      // execArgv: [] keeps the tsx loader (this script's --import) out of the workers, as for every peer.
      pool = await createPool({ tasks: fixture('troupe-tasks.js'), mode, size, execArgv: [] });
    },
    ...drivers(api, () => pool!),
    async teardown() {
      await pool?.close();
    },
  };
}

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const JOIN_TIMEOUT_MS = 20_000;

/**
 * Remote mode on loopback: a scheduler with no workers of its own (`size: 0`, `listen`) in
 * this process, and one agent started with the built CLI as users start it, `--mode process
 * --size 2`, under a random authkey. Tasks go scheduler → agent (TCP) → the
 * agent's worker processes (IPC) and back. With `inline`, the agent runs them itself
 * (`--mode inline`, one worker holding its own connection): no IPC hop.
 */
export function troupeRemote(workers = 2, api: Api = 'run', agentMode: 'process' | 'inline' = 'process'): Contender {
  if (agentMode === 'inline') workers = 1;
  let pool: Pool | undefined;
  let agent: ChildProcess | undefined;
  let agentExited: Promise<void> | undefined;
  let stopping = false;
  let stderrTail = '';
  return {
    name: `troupe remote${agentMode === 'inline' ? ' inline' : ''}${suffix(api)}`,
    detail:
      `createPool({ size: 0, listen: 127.0.0.1 }) + 1 agent (\`troupe agent --mode ${agentMode} --size ${workers}\`) on loopback, ` +
      `default options${api === 'map' ? `; pool.map('square', range(n)) consumed fully` : ''}`,
    async setup() {
      const authkey = randomBytes(24).toString('hex');
      const p = await createPool({ tasks: fixture('troupe-tasks.js'), size: 0, listen: { host: '127.0.0.1', port: 0, authkey } });
      pool = p;
      const { port } = p.address()!;
      const joined = new Promise<void>((resolve) => p.once('agentJoin', () => resolve()));
      const child = spawn(
        process.execPath,
        [CLI, 'agent', '--connect', `127.0.0.1:${port}`, '--tasks', fileURLToPath(fixture('troupe-tasks.js')), '--mode', agentMode, '--size', String(workers)],
        { env: { ...childEnv(), TROUPE_AUTHKEY: authkey }, stdio: ['ignore', 'inherit', 'pipe'] },
      );
      agent = child;
      child.stderr!.setEncoding('utf8').on('data', (text: string) => {
        stderrTail = (stderrTail + text).slice(-4_000);
      });
      agentExited = new Promise<void>((resolve) => {
        child.once('exit', (code, signal) => {
          resolve();
          if (stopping && code === 0) return;
          const why = `troupe agent exited unexpectedly (${String(signal ?? code)})${stderrTail ? `:\n${stderrTail.trimEnd()}` : ''}`;
          console.error(why);
          // With size 0 nothing else can run the tasks: fail whatever waits instead of hanging.
          if (!stopping) void p.destroy();
        });
      });
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          joined,
          agentExited.then(() => {
            throw new Error(`the agent exited before joining: ${stderrTail.trim() || 'no output'}`);
          }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no agentJoin within ${JOIN_TIMEOUT_MS / 1000} s`)), JOIN_TIMEOUT_MS);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
      // Answers from the agent's workers, as the other contenders' setups wait for theirs.
      await Promise.all(Array.from({ length: workers * 4 }, (_, i) => p.run('square', [i])));
    },
    ...drivers(api, () => pool!),
    async teardown() {
      stopping = true;
      const child = agent;
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM'); // the agent closes its workers and exits 0
        const timedOut = await Promise.race([agentExited!.then(() => false), sleep(10_000, true).then(() => true)]);
        if (timedOut) {
          console.error('troupe agent: no exit 10 s after SIGTERM; killing it');
          child.kill('SIGKILL');
          await agentExited;
        } else if (child.exitCode !== 0) {
          console.error(`troupe agent: exit ${String(child.signalCode ?? child.exitCode)} after SIGTERM${stderrTail ? `:\n${stderrTail.trimEnd()}` : ''}`);
        }
      }
      await pool?.close();
    },
  };
}
