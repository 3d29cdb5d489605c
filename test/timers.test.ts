// One rule for delay options: clamped to what setTimeout honours, Infinity for none.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { atTurnEnd, clampDelay, MAX_DELAY_MS, setDelay } from '../lib/timers.js';
import { MODES, openPool, within } from './e2e/helpers.js';

test('clampDelay keeps ordinary delays, clamps huge ones, and keeps Infinity as none', () => {
  assert.is(MAX_DELAY_MS, 2 ** 31 - 1);
  assert.equal([0, 1, 1500, MAX_DELAY_MS].map(clampDelay), [0, 1, 1500, MAX_DELAY_MS]);
  assert.equal([2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER].map(clampDelay), Array(3).fill(MAX_DELAY_MS));
  assert.is(clampDelay(Infinity), Infinity);
  assert.equal([-5, NaN].map(clampDelay), [0, 0]);
});

test('setDelay: a huge delay does not fire at once; Infinity sets no timer', async () => {
  let fired = false;
  const timer = setDelay(() => (fired = true), 2 ** 32);
  assert.ok(timer !== undefined);
  await new Promise((resolve) => setTimeout(resolve, 50));
  clearTimeout(timer);
  assert.not.ok(fired, 'an overflowing setTimeout would have fired after 1 ms');
  assert.is(setDelay(() => (fired = true), Infinity), undefined);
  const fast = await within(new Promise<boolean>((resolve) => setDelay(() => resolve(true), 5)), 1_000, 'a 5 ms delay');
  assert.ok(fast);
});

test('atTurnEnd runs its callbacks after the running code, in order, before the next turn', async () => {
  const seen: string[] = [];
  const nextTurn = new Promise<void>((resolve) => setImmediate(() => {
    seen.push('next turn');
    resolve();
  }));
  atTurnEnd(() => seen.push('first'));
  atTurnEnd(() => seen.push('second'));
  seen.push('sync');
  await within(nextTurn, 1_000, 'the next turn');
  assert.equal(seen, ['sync', 'first', 'second', 'next turn']);
});

for (const mode of MODES) {
  test(`${mode}: startTimeout 2 ** 31 lets the workers start (no overflow into an instant deadline)`, async () => {
    const pool = await openPool(mode, { size: 1, startTimeout: 2 ** 31 });
    try {
      assert.is(await within(pool.run('square', [6]), 10_000, 'a task'), 36);
    } finally {
      await within(pool.destroy(), 10_000, 'destroy()');
    }
  });
}

test.run();
