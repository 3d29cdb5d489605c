/**
 * Liveness of one peer. Anything that arrives counts as a sign of life (a large frame in
 * transit keeps a busy peer alive), so `touch()` is called per chunk and must stay cheap:
 * it only records a time; one timer does the rest.
 */

export interface HeartbeatTarget {
  /** Ask the peer for a sign of life. */
  sendPing(): void;
  /**
   * Nothing arrived for `timeoutMs` of time this process actually ran. `ownStallMs` is how
   * late our own event loop was in that silence (see `Heartbeat.ownStallMs`). Called at most once.
   */
  onDead(silentMs: number, ownStallMs: number): void;
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

/**
 * Our own event loop's lateness is measured on the heartbeat's timer: it asked to wake at
 * `dueAt` and woke at `now`. Time we did not run is not the peer's silence (its answers may
 * be sitting unread in the socket), so it is added to the deadline; and a loss that comes
 * within a timeout of a stall of ours may be our own fault (the peer heard nothing from us
 * either), which the close error says.
 */
export class Heartbeat {
  readonly #target: HeartbeatTarget;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #lastSeen = 0;
  /** Our own lateness since `#lastSeen`: the deadline moves out by this much. */
  #lateSinceSeen = 0;
  /** The last stall of at least one interval: when it ended and how long it was. */
  #stall = { endedAt: -Infinity, ms: 0 };
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
    this.#lateSinceSeen = 0;
    this.#nextPingAt = now + this.#intervalMs;
    this.#schedule(now);
  }

  /** Something arrived from the peer. */
  touch(): void {
    this.#lastSeen = this.#now();
    this.#lateSinceSeen = 0;
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * How long our own event loop stalled (at least one interval at a time) within the last
   * `timeoutMs + intervalMs`, counting a wake-up that is overdue right now; 0 if it did not.
   * Long enough a stall means the peer heard nothing from us either and may have dropped
   * us for it: a loss then is not evidence that the peer failed.
   */
  ownStallMs(): number {
    const now = this.#now();
    const overdue = this.#timer !== undefined ? now - this.#dueAt : 0;
    if (overdue >= this.#intervalMs) return overdue;
    return now - this.#stall.endedAt <= this.#timeoutMs + this.#intervalMs ? this.#stall.ms : 0;
  }

  #schedule(now: number): void {
    // Wake for the next ping or the moment silence would become death, whichever is first,
    // so death is declared within timeoutMs rather than at the next interval after it.
    this.#dueAt = Math.min(this.#nextPingAt, this.#deadline());
    this.#timer = setTimeout(() => this.#tick(), Math.max(1, Math.ceil(this.#dueAt - now))).unref();
  }

  #deadline(): number {
    return this.#lastSeen + this.#lateSinceSeen + this.#timeoutMs;
  }

  #tick(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const now = this.#now();
    const lateness = Math.max(0, now - this.#dueAt);
    this.#lateSinceSeen += lateness;
    if (lateness >= this.#intervalMs) this.#stall = { endedAt: now, ms: lateness };
    if (now >= this.#deadline()) {
      this.stop();
      this.#target.onDead(now - this.#lastSeen, this.ownStallMs());
      return;
    }
    this.#pingIfDue(now);
    if (this.#running) this.#schedule(now);
  }

  #pingIfDue(now: number): void {
    if (now >= this.#nextPingAt) {
      this.#nextPingAt = now + this.#intervalMs;
      this.#target.sendPing();
    }
  }
}
