/**
 * Liveness of one peer. Anything that arrives counts as a sign of life (a large frame in
 * transit keeps a busy peer alive), so `touch()` is called per chunk and must stay cheap:
 * it only records a time; one timer does the rest.
 */

export interface HeartbeatTarget {
  /** Ask the peer for a sign of life. */
  sendPing(): void;
  /** Nothing arrived for `timeoutMs`. Called at most once. */
  onDead(silentMs: number): void;
}

export interface HeartbeatOptions {
  /** @default 1000 */
  intervalMs?: number;
  /** A peer silent this long is dead. @default 3000 */
  timeoutMs?: number;
  /** A monotonic clock, for tests. @default performance.now */
  now?: () => number;
}

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1000;
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 3000;

export class Heartbeat {
  readonly #target: HeartbeatTarget;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #lastSeen = 0;
  #nextPingAt = 0;
  #dueAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(target: HeartbeatTarget, options: HeartbeatOptions = {}) {
    this.#target = target;
    this.#intervalMs = options.intervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
    this.#now = options.now ?? (() => performance.now());
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const now = this.#now();
    this.#lastSeen = now;
    this.#nextPingAt = now + this.#intervalMs;
    this.#schedule(now);
  }

  /** Something arrived from the peer. */
  touch(): void {
    this.#lastSeen = this.#now();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(now: number): void {
    // Wake for the next ping or the moment silence would become death, whichever is first,
    // so death is declared within timeoutMs rather than at the next interval after it.
    this.#dueAt = Math.min(this.#nextPingAt, this.#lastSeen + this.#timeoutMs);
    this.#timer = setTimeout(() => this.#tick(), Math.max(1, Math.ceil(this.#dueAt - now))).unref();
  }

  #tick(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const now = this.#now();
    const lateness = now - this.#dueAt;
    if (lateness > this.#intervalMs) {
      // This process itself stalled (a long synchronous job, a starved CPU): we were not
      // listening, so that time is not the peer's silence. Its answers may be waiting unread;
      // the ping below gives it a fresh chance, judged on time we actually ran.
      this.#lastSeen = Math.min(now, this.#lastSeen + lateness);
    }
    const silentMs = now - this.#lastSeen;
    if (silentMs >= this.#timeoutMs) {
      this.stop();
      this.#target.onDead(silentMs);
      return;
    }
    if (now >= this.#nextPingAt) {
      this.#nextPingAt = now + this.#intervalMs;
      this.#target.sendPing();
    }
    if (this.#running) this.#schedule(now);
  }
}
