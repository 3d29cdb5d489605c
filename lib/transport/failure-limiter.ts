/**
 * Slows down guessing of the authkey, without ever locking out an address for long:
 *
 * - Per address: after `freeFailures` failed handshakes (each within `windowMs` of the
 *   previous), the next attempt is answered no earlier than `delay` after the last failure,
 *   `delay` doubling from `baseDelayMs` per further failure up to `maxDelayMs`; only one
 *   such attempt waits at a time (others are closed at once). A guesser on one address so
 *   gets one guess per `maxDelayMs` at best, and an agent with the right key behind the
 *   same address (a shared NAT or host) gets in at most `maxDelayMs` after guessing stops.
 * - Globally: attempts from addresses that have failed before share `guessesPerSecond`
 *   (a burst of as many). An attempt that would have to wait more than `maxDelayMs` for it
 *   is closed. Addresses that never failed are not charged, so a good agent is never
 *   slowed by it, except while the table of failing addresses overflows (more than
 *   `maxAddresses` failing at once): then addresses it cannot remember are charged too,
 *   since forgetting must not be a way around the budget.
 *
 * State is one small entry per recently failing address, oldest dropped first.
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
  /** @default 16_384 */
  maxAddresses?: number;
  /** @default 20 */
  guessesPerSecond?: number;
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
  readonly #guessIntervalMs: number;
  readonly #burstMs: number;
  readonly #now: () => number;
  /** Insertion order is last-failure order, so the oldest entries are at the front. */
  readonly #entries = new Map<string, Entry>();
  /** The global budget as a virtual schedule: the next charged attempt's slot. */
  #nextGuessAt = -Infinity;
  /** When an entry still in its window was last dropped for room. */
  #overflowAt = -Infinity;

  constructor(options: FailureLimiterOptions = {}) {
    this.#freeFailures = options.freeFailures ?? 5;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#baseDelayMs = options.baseDelayMs ?? 250;
    this.#maxDelayMs = options.maxDelayMs ?? 4000;
    this.#maxAddresses = options.maxAddresses ?? 16_384;
    const perSecond = options.guessesPerSecond ?? 20;
    this.#guessIntervalMs = 1000 / perSecond;
    this.#burstMs = 1000; // a second's worth of guesses may come at once
    this.#now = options.now ?? (() => performance.now());
  }

  /** Addresses currently tracked. */
  get size(): number {
    return this.#entries.size;
  }

  /** Admits an attempt (possibly after a delay), or returns undefined: close it now. */
  admit(address: string): Admission | undefined {
    const now = this.#now();
    const entry = this.#live(addressKey(address), now);
    const suspect = entry !== undefined || now - this.#overflowAt <= this.#windowMs;
    if (!suspect) return FREE;
    if (entry && entry.failures >= this.#freeFailures && entry.throttled > 0) return undefined;
    const globalWait = this.#globalWait(now);
    if (globalWait === undefined) return undefined;
    if (!entry || entry.failures < this.#freeFailures) return { delayMs: globalWait, done() {} };
    const delay = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (entry.failures - this.#freeFailures));
    const ownWait = Math.max(0, entry.lastFailureAt + delay - now);
    entry.throttled++;
    let finished = false;
    return {
      delayMs: Math.max(ownWait, globalWait),
      done() {
        if (finished) return;
        finished = true;
        entry.throttled--;
      },
    };
  }

  recordFailure(address: string): void {
    const key = addressKey(address);
    const now = this.#now();
    const entry = this.#live(key, now) ?? { failures: 0, lastFailureAt: 0, throttled: 0 };
    entry.failures++;
    entry.lastFailureAt = now;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    this.#prune(now);
  }

  /** Takes a slot of the global budget: how long until it comes, or undefined if too far off. */
  #globalWait(now: number): number | undefined {
    const slot = Math.max(this.#nextGuessAt, now - this.#burstMs);
    const wait = Math.max(0, slot - now);
    if (wait > this.#maxDelayMs) return undefined;
    this.#nextGuessAt = slot + this.#guessIntervalMs;
    return wait;
  }

  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && now - entry.lastFailureAt > this.#windowMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #prune(now: number): void {
    for (const [key, entry] of this.#entries) {
      const expired = now - entry.lastFailureAt > this.#windowMs;
      if (!expired && this.#entries.size <= this.#maxAddresses) break;
      if (!expired) this.#overflowAt = now;
      this.#entries.delete(key);
    }
  }
}
