import { checkRunOptions } from './run-options.js';
import type { RunOptions } from './scheduler/types.js';

type AnyFunction = (...args: never[]) => unknown;

/**
 * `pool.tasks<typeof import('./tasks.js')>()`: every exported function, returning a promise,
 * and `with(options)`: the same functions, each call run with those run options
 * (`tasks.with({ signal, timeout, transfer }).square(7)`).
 */
export type TaskProxy<T> = {
  readonly [K in keyof T as T[K] extends AnyFunction ? (K extends 'with' ? never : K) : never]: T[K] extends (
    ...args: infer A
  ) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
} & {
  /** The same tasks, run with `options` (merged over those of an outer `with`); checked at once. */
  readonly with: (options: RunOptions) => TaskProxy<T>;
};

type Run = (name: string, args: unknown[], options: RunOptions | undefined) => Promise<unknown>;

/** The typed proxy of a pool's or a hub's `tasks<T>()`: each property calls `run(name, args, options)`. */
export function taskProxy<T>(run: Run, options: RunOptions | undefined): TaskProxy<T> {
  const cache = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const withOptions = (more: RunOptions) => taskProxy<T>(run, { ...options, ...checkRunOptions(more) });
  return new Proxy({} as TaskProxy<T>, {
    get: (_, name) => {
      // Not a thenable: `await pool.tasks()` must not call a task named "then".
      if (typeof name !== 'string' || name === 'then') return undefined;
      if (name === 'with') return withOptions;
      let fn = cache.get(name);
      if (!fn) cache.set(name, (fn = (...args: unknown[]) => run(name, args, options)));
      return fn;
    },
  });
}
