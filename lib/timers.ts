/**
 * One rule for every delay option (startTimeout, timeout, reconnect and heartbeat delays):
 * setTimeout takes at most 2^31-1 ms and fires a longer delay after 1 ms (with only a
 * warning), so delays are clamped to that; Infinity means no timer at all.
 */

/** The longest delay `setTimeout` honours, about 24.8 days. */
export const MAX_DELAY_MS = 2 ** 31 - 1;

/** `ms` as `setTimeout` can honour it: clamped to [0, MAX_DELAY_MS]; Infinity stays Infinity (no timer). */
export function clampDelay(ms: number): number {
  if (ms === Infinity) return Infinity;
  return Number.isNaN(ms) || ms <= 0 ? 0 : Math.min(ms, MAX_DELAY_MS);
}

/** Calls `callback` after `ms` (clamped); for Infinity sets no timer and returns undefined. */
export function setDelay(callback: () => void, ms: number): NodeJS.Timeout | undefined {
  const delay = clampDelay(ms);
  return delay === Infinity ? undefined : setTimeout(callback, delay);
}

const RESOLVED = Promise.resolve();

/**
 * Calls `callback` at the end of the current turn, after the code that is running, as
 * `queueMicrotask` does: the one way the library defers to the end of a turn. Hot paths
 * defer once per message or per lone task, and `queueMicrotask` wraps each callback in an
 * async resource: this costs about a third.
 * A callback that throws surfaces as an unhandled rejection, which ends the process as an
 * uncaught exception would.
 */
export function atTurnEnd(callback: () => void): void {
  void RESOLVED.then(callback);
}
