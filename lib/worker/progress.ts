/**
 * Progress from inside a task: which task is running (its wire id) and where reports go.
 * The registry lives on globalThis, as moved.ts's does: the task module may import
 * `troupe/worker` from the built package while the runtime runs from another copy.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const KEY = Symbol.for('troupe.worker.progress');

interface Registry {
  /** Follows a task across its awaits; made once `troupe/worker` is loaded (it costs a little per task). */
  context: AsyncLocalStorage<number> | undefined;
  /** The task whose synchronous part is running now; 0 between tasks. */
  current: number;
  /** Set by the worker runtime. */
  sink: ((id: number, value: unknown) => void) | undefined;
}

export function progressRegistry(): Registry {
  const global = globalThis as { [KEY]?: Registry };
  return (global[KEY] ??= { context: undefined, current: 0, sink: undefined });
}

/** Tasks from now on are followed across their awaits, so that progress() knows them there too. */
export function followTasks(): void {
  progressRegistry().context ??= new AsyncLocalStorage<number>();
}

export function reportProgress(value: unknown): void {
  const registry = progressRegistry();
  const id = registry.context?.getStore() ?? registry.current;
  if (id === 0 || registry.sink === undefined) throw new Error('progress() must be called by a task running in a Troupe worker');
  registry.sink(id, value);
}
