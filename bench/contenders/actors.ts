// What the actors suite calls: a set of actors that answer square(i), behind one shape, so
// that Troupe's actors and Comedy's are driven by the same code.
import { startCell, type Cell } from '../../dist/bench/cells.js';
import type { BenchMode } from '../../dist/bench/options.js';
import type { ActorRef } from '../../dist/index.js';
import { bareLaunch, fixture } from '../lib/harness.js';

export interface ActorSet {
  name: string;
  detail: string;
  setup(): Promise<void>;
  /** square(i) on actor i mod the set's size (`spread`) or on its first actor. */
  call(i: number, spread: boolean): PromiseLike<unknown>;
  /** Where each actor lives, once set up (for the results). */
  placement(): string[];
  /** Stops everything it started; never throws, also after a failed setup. */
  teardown(): Promise<void>;
}

export const ACTOR_TASKS = fixture('actor-tasks.js');

/**
 * Troupe: one pool of `size` workers for the mode (remote: a `size: 0` scheduler here and
 * one agent with `size` worker processes on 127.0.0.1), `count` Squarer actors spawned with
 * default options (placed where the fewest live), and `task()` for a `run('square')` on the
 * same pool, the reference for the actors' latency.
 */
export function troupeActors(mode: BenchMode, size: number, count: number): ActorSet & { task(i: number): Promise<unknown> } {
  let cell: Cell | undefined;
  const refs: ActorRef[] = [];
  const how = mode === 'remote' ? `1 agent (\`troupe agent --mode process --size ${size}\`) on 127.0.0.1` : `createPool({ mode: '${mode}', size: ${size} })`;
  return {
    name: 'troupe',
    detail: `${how}; ${count} actors from pool.spawn('Squarer'), ref.call('square', [i])`,
    async setup() {
      cell = await startCell(mode, size, ACTOR_TASKS, bareLaunch());
      for (let k = 0; k < count; k++) refs.push(await cell.pool.spawn('Squarer'));
      // Every worker answers before the first round, as the other suites' setups wait for theirs.
      await Promise.all(Array.from({ length: size * 4 }, (_, i) => cell!.pool.run('square', [i])));
    },
    call: (i, spread) => refs[spread ? i % refs.length : 0].call('square', [i]),
    task: (i) => cell!.pool.run('square', [i]),
    placement: () => refs.map((ref) => ref.info()?.worker ?? 'unknown'),
    teardown: async () => cell?.stop(),
  };
}
