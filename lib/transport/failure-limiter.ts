/**
 * Slows down guessing of the authkey: after `freeFailures` failed handshakes from one
 * address (each within `windowMs` of the previous), every further attempt from it waits
 * longer before it is answered (doubling from `baseDelayMs`), only one such attempt at a
 * time is served, and past `maxDelayMs` attempts are closed outright until the address has
 * been quiet for `windowMs`. State is one small entry per recently failing address, at most
 * `maxAddresses` of them, oldest dropped first.
 */

export interface FailureLimiterOptions {
  /** @default 5 */
  freeFailures?: number;
  /** @default 60_000 */
  windowMs?: number;
  /** @default 250 */
  baseDelayMs?: number;
  /** @default 4000 */
  maxDelayMs?: number;
  /** @default 4096 */
  maxAddresses?: number;
  /** A clock, for tests. @default performance.now */
  now?: () => number;
}

export interface Admission {
  /** How long to wait before answering this attempt. */
  readonly delayMs: number;
  /** Call once the attempt is over, whatever its outcome. */
  done(): void;
}

interface Entry {
  failures: number;
  lastFailureAt: number;
  throttled: number;
}

const FREE: Admission = { delayMs: 0, done() {} };

/**
 * The key an address is counted under. IPv4-mapped IPv6 counts as its IPv4 address, and
 * IPv6 by its /64, since one host commonly holds a whole /64 and would otherwise get a
 * fresh budget per address.
 */
export function addressKey(address: string): string {
  const plain = address.replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(plain);
  if (mapped) return mapped[1];
  if (!plain.includes(':')) return plain;
  const [head, tail] = plain.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array(Math.max(0, 8 - left.length - right.length)).fill('0');
  const groups = [...left, ...zeros, ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export class FailureLimiter {
  readonly #freeFailures: number;
  readonly #windowMs: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #maxAddresses: number;
  readonly #now: () => number;
  /** Insertion order is last-failure order, so the oldest entries are at the front. */
  readonly #entries = new Map<string, Entry>();

  constructor(options: FailureLimiterOptions = {}) {
    this.#freeFailures = options.freeFailures ?? 5;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#baseDelayMs = options.baseDelayMs ?? 250;
    this.#maxDelayMs = options.maxDelayMs ?? 4000;
    this.#maxAddresses = options.maxAddresses ?? 4096;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Addresses currently tracked. */
  get size(): number {
    return this.#entries.size;
  }

  /** Admits an attempt (possibly after a delay), or returns undefined: close it now. */
  admit(address: string): Admission | undefined {
    const entry = this.#live(addressKey(address));
    if (!entry || entry.failures < this.#freeFailures) return FREE;
    const delayMs = this.#baseDelayMs * 2 ** (entry.failures - this.#freeFailures);
    if (delayMs > this.#maxDelayMs || entry.throttled > 0) return undefined;
    entry.throttled++;
    let finished = false;
    return {
      delayMs,
      done() {
        if (finished) return;
        finished = true;
        entry.throttled--;
      },
    };
  }

  recordFailure(address: string): void {
    const key = addressKey(address);
    const entry = this.#live(key) ?? { failures: 0, lastFailureAt: 0, throttled: 0 };
    entry.failures++;
    entry.lastFailureAt = this.#now();
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    this.#prune();
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && this.#now() - entry.lastFailureAt > this.#windowMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #prune(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      const expired = now - entry.lastFailureAt > this.#windowMs;
      if (!expired && this.#entries.size <= this.#maxAddresses) break;
      this.#entries.delete(key);
    }
  }
}
