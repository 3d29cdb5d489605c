// Troupe itself, as the built package users get.
import { createPool, type Pool, type PoolMode } from '../../dist/index.js';
import { fixture, windowed, type Contender } from '../lib/harness.js';

/** A local pool: `size` worker threads or worker processes, default batching and windows. */
export function troupeLocal(mode: PoolMode, size = 2): Contender {
  let pool: Pool | undefined;
  return {
    name: `troupe ${mode}`,
    detail: `createPool({ mode: '${mode}', size: ${size} }), defaults (maxInFlight 256, batchSize 64)`,
    async setup() {
      // execArgv: [] keeps the tsx loader (this script's --import) out of the workers, as for every peer.
      pool = await createPool({ tasks: fixture('troupe-tasks.js'), mode, size, execArgv: [] });
    },
    runThroughput: (n, inFlight) => windowed(n, inFlight, (i) => pool!.run('square', [i])),
    roundTrip: (i) => pool!.run('square', [i]),
    async teardown() {
      await pool?.close();
    },
  };
}
