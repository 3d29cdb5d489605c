/**
 * One server's budget for bytes of frames that have started to arrive but are not complete.
 * Each connection may hold a partial frame up to `maxFrameBytes`; without a shared cap, ten
 * peers each sending most of a 64 MiB frame (and then nothing) would hold 640 MiB. Over
 * budget, the connection holding the most partial bytes is closed: whoever hoards pays,
 * and a peer sending an ordinary frame next to it is not the one refused.
 */
import { ProtocolError } from '../errors.js';

export const DEFAULT_MAX_PARTIAL_FRAME_BYTES = 128 * 1024 * 1024;

export class FrameBudget {
  readonly limitBytes: number;
  #usedBytes = 0;
  readonly #accounts = new Set<FrameBudgetAccount>();

  constructor(limitBytes: number) {
    this.limitBytes = limitBytes;
  }

  /** Partial-frame bytes held by all connections now. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** `evict` must close the connection; its account is released either way. */
  open(evict: (error: Error) => void): FrameBudgetAccount {
    const account = new FrameBudgetAccount(this, evict);
    this.#accounts.add(account);
    return account;
  }

  /** @internal */
  change(account: FrameBudgetAccount, deltaBytes: number): void {
    this.#usedBytes += deltaBytes;
    while (this.#usedBytes > this.limitBytes && this.#accounts.size > 0) {
      let largest = account;
      for (const a of this.#accounts) if (a.bytes > largest.bytes) largest = a;
      const held = largest.bytes;
      largest.release();
      largest.evict(
        new ProtocolError(
          `partial frames on all connections passed the server's budget of ${this.limitBytes} bytes; ` +
            `this connection held the most (${held} bytes)`,
        ),
      );
    }
  }

  /** @internal */
  forget(account: FrameBudgetAccount): void {
    this.#accounts.delete(account);
  }
}

export class FrameBudgetAccount {
  readonly #budget: FrameBudget;
  readonly evict: (error: Error) => void;
  #bytes = 0;
  #released = false;

  constructor(budget: FrameBudget, evict: (error: Error) => void) {
    this.#budget = budget;
    this.evict = evict;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The connection now holds `bytes` of partial frames. */
  set(bytes: number): void {
    if (this.#released || bytes === this.#bytes) return;
    const delta = bytes - this.#bytes;
    this.#bytes = bytes;
    this.#budget.change(this, delta);
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#budget.forget(this);
    const held = this.#bytes;
    this.#bytes = 0;
    this.#budget.change(this, -held);
  }
}
