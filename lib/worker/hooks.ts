/**
 * The task module's lifecycle exports: `setup(workerData)` runs once in each worker before
 * its first task, `teardown()` once before it stops on purpose. They are not tasks.
 */

/** Export names that are hooks, never tasks. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['setup', 'teardown']);

type Hook = (...args: unknown[]) => unknown;

export interface Hooks {
  setup(workerData: unknown): Promise<void>;
  teardown(): Promise<void>;
}

function hook(mod: Record<string, unknown>, name: string): Hook | undefined {
  const own = mod[name];
  if (typeof own === 'function') return own as Hook;
  // A CommonJS module or `export default { … }`, as for tasks.
  const fallback = mod.default;
  if (fallback !== null && typeof fallback === 'object') {
    const value = (fallback as Record<string, unknown>)[name];
    if (typeof value === 'function') return value as Hook;
  }
  return undefined;
}

/** The hooks of the task module `href` (already loaded by loadTasks: the import is cached). */
export async function loadHooks(href: string): Promise<Hooks> {
  const mod = (await import(href)) as Record<string, unknown>;
  const setup = hook(mod, 'setup');
  const teardown = hook(mod, 'teardown');
  return {
    setup: async (workerData) => void (await setup?.(workerData)),
    teardown: async () => void (await teardown?.()),
  };
}
