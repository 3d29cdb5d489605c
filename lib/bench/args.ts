// The task's arguments: the parsed JSON array, or what the named export of a module returns.
import { InvalidOptionError } from '../errors.js';
import type { ArgsSource } from './options.js';

export async function buildArgs(source: ArgsSource): Promise<unknown[]> {
  if (source.kind === 'json') return source.value;
  const module = (await import(source.module.href)) as Record<string, unknown>;
  const builder = module[source.exportName];
  if (typeof builder !== 'function') {
    throw new InvalidOptionError(`--args ${source.text}: the module has no exported function "${source.exportName}"`);
  }
  const args: unknown = await (builder as () => unknown)();
  if (!Array.isArray(args)) {
    throw new InvalidOptionError(`--args ${source.text}: "${source.exportName}" must return an array of arguments`);
  }
  return args;
}
