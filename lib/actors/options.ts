import { InvalidOptionError } from '../errors.js';
import { describe, integer } from '../options.js';
import type { CallOptions, Placement, ResolvedSpawnOptions, RestartPolicy, SpawnOptions } from './types.js';

export const DEFAULT_MAILBOX = 10_000;
const DEFAULT_RESTART: RestartPolicy = { max: 3, withinMs: 60_000 };
const KNOWN = new Set(['name', 'place', 'restart', 'mailbox', 'overflow']);

function bad(name: string, expected: string, value: unknown): never {
  throw new InvalidOptionError(`spawn(): options.${name} must be ${expected}; got ${describe(value)}`);
}

function placement(value: unknown): Placement {
  if (value === undefined || value === 'any' || value === 'local') return value ?? 'any';
  if (value !== null && typeof value === 'object' && typeof (value as { agent?: unknown }).agent === 'string') {
    return { agent: (value as { agent: string }).agent };
  }
  return bad('place', "'any', 'local' or { agent: id }", value);
}

function restart(value: unknown): RestartPolicy | false {
  if (value === undefined) return DEFAULT_RESTART;
  if (value === false) return false;
  if (value === null || typeof value !== 'object') return bad('restart', '{ max, withinMs } or false', value);
  const { max, withinMs } = value as Partial<RestartPolicy>;
  return {
    max: integer('restart.max', max, 0, DEFAULT_RESTART.max),
    withinMs: integer('restart.withinMs', withinMs, 1, DEFAULT_RESTART.withinMs, true),
  };
}

export function resolveSpawnOptions(options: unknown): ResolvedSpawnOptions {
  if (options !== undefined && (options === null || typeof options !== 'object')) bad('', 'an object', options);
  const o = (options ?? {}) as SpawnOptions;
  for (const key of Object.keys(o)) if (!KNOWN.has(key)) throw new InvalidOptionError(`spawn(): unknown option ${JSON.stringify(key)}`);
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0 || o.name.length > 1024)) {
    bad('name', 'a non-empty string of at most 1024 characters', o.name);
  }
  if (o.overflow !== undefined && o.overflow !== 'reject' && o.overflow !== 'wait') bad('overflow', "'reject' or 'wait'", o.overflow);
  return {
    name: o.name,
    place: placement(o.place),
    restart: restart(o.restart),
    mailbox: integer('mailbox', o.mailbox, 1, DEFAULT_MAILBOX, true),
    overflow: o.overflow ?? 'reject',
  };
}

/** Checks `call()`'s options; the timeout as ms (Infinity for none). */
export function checkCallOptions(options: CallOptions | undefined): { signal: AbortSignal | undefined; timeout: number } {
  if (options === undefined) return { signal: undefined, timeout: Infinity };
  if (options === null || typeof options !== 'object') throw new InvalidOptionError(`call(): options must be an object; got ${describe(options)}`);
  const { signal, timeout = Infinity } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidOptionError(`call(): options.signal must be an AbortSignal; got ${describe(signal)}`);
  }
  if (typeof timeout !== 'number' || !(timeout > 0)) throw new InvalidOptionError(`call(): options.timeout must be ms > 0; got ${describe(timeout)}`);
  return { signal, timeout };
}
