import { InvalidOptionError } from './errors.js';
import { describe } from './options.js';
import { MAX_DELAY_MS } from './timers.js';

/**
 * Where a scheduler listens, as agents (`connect`), the CLI (`--connect`) and clients
 * (`address`) give it: "host:port", "[v6]:port" or { host, port }. `option` names the
 * option in the error.
 */
export function parseAddress(value: unknown, option = 'connect'): { host: string; port: number } {
  if (typeof value === 'string') {
    const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(value);
    const port = Number(match?.[2]);
    if (match && match[1] && port > 0 && port < 65536) return { host: match[1], port };
  } else if (value !== null && typeof value === 'object') {
    const { host, port } = value as { host?: unknown; port?: unknown };
    if (typeof host === 'string' && Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536) {
      return { host, port: port as number };
    }
  }
  throw new InvalidOptionError(`option "${option}" must be "host:port" or { host, port }; got ${describe(value)}`);
}

/**
 * The pause before reconnect attempt `failures + 1`: `base` doubling per failure up to `max`
 * (and setTimeout's limit), times a jitter in [0.5, 1) so that peers spread out.
 */
export function reconnectBackoff(failures: number, base: number, max: number, random = Math.random()): number {
  const ceiling = Math.min(max, MAX_DELAY_MS, base * 2 ** failures);
  return ceiling * (0.5 + random / 2);
}
