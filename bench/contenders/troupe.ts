// Troupe itself, as the built package users get: local pools, and remote mode with an agent.
import { randomBytes } from 'node:crypto';
import { spawnAgent, stopAgent, type Agent } from '../../dist/bench/agents.js';
import { createPool, type Pool, type PoolMode } from '../../dist/index.js';
import { childEnv, fixture, windowed, type Contender } from '../lib/harness.js';

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

/**
 * Remote mode on loopback: a scheduler with no workers of its own (`size: 0`, `listen`) in
 * this process, and one agent started with the built CLI as users start it, `--mode process
 * --size 2`, under a random authkey. Tasks go scheduler → agent (TCP) → the
 * agent's worker processes (a pipe each) and back. With `inline`, the agent runs them itself
 * (`--mode inline`, one worker holding its own connection): no hop.
 */
export function troupeRemote(workers = 2, api: Api = 'run', agentMode: 'process' | 'inline' = 'process'): Contender {
  if (agentMode === 'inline') workers = 1;
  let pool: Pool | undefined;
  let agent: Agent | undefined;
  let stopping = false;
  return {
    name: `troupe remote${agentMode === 'inline' ? ' inline' : ''}${suffix(api)}`,
    detail:
      `createPool({ size: 0, listen: 127.0.0.1 }) + 1 agent (\`troupe agent --mode ${agentMode} --size ${workers}\`) on loopback, ` +
      `default options${api === 'map' ? `; pool.map('square', range(n)) consumed fully` : ''}`,
    async setup() {
      const authkey = randomBytes(24).toString('hex');
      const p = await createPool({ tasks: fixture('troupe-tasks.js'), size: 0, listen: { host: '127.0.0.1', port: 0, authkey } });
      pool = p;
      // No loader flags for the agent (they stay out of every peer's workers too).
      const started = await spawnAgent(p, { tasks: fixture('troupe-tasks.js'), size: workers, authkey, mode: agentMode, execArgv: [], env: childEnv() });
      agent = started;
      started.child.once('exit', (code, signal) => {
        if (stopping && code === 0) return;
        const why = `troupe agent exited ${stopping ? 'badly after SIGTERM' : 'unexpectedly'} (${String(signal ?? code)})${started.stderr() ? `:\n${started.stderr().trimEnd()}` : ''}`;
        console.error(why);
        // With size 0 nothing else can run the tasks: fail whatever waits instead of hanging.
        if (!stopping) void p.destroy();
      });
      // Answers from the agent's workers, as the other contenders' setups wait for theirs.
      await Promise.all(Array.from({ length: workers * 4 }, (_, i) => p.run('square', [i])));
    },
    ...drivers(api, () => pool!),
    async teardown() {
      stopping = true;
      if (agent !== undefined) await stopAgent(agent.child);
      await pool?.close();
    },
  };
}
