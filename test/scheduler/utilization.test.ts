// BusyWindow and utilization(): busy time over a sliding window, on an injected clock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BusyWindow, utilization } from '../../lib/scheduler/utilization.js';

test('a young window covers only its age; busy time counts where it was recorded', () => {
  const w = new BusyWindow(10_000, 5_000);
  w.record(200, 5_500);
  assert.equal(w.read(6_000), { busy: 200, span: 1_000 });
  assert.is(utilization(200, 1_000, 1), 0.2);
});

test('busy time leaves the window once it is older than the window', () => {
  const w = new BusyWindow(10_000, 0);
  w.record(300, 500);
  w.record(100, 9_500);
  assert.equal(w.read(9_900), { busy: 400, span: 9_900 });
  assert.equal(w.read(11_000), { busy: 100, span: 10_000 }, 'the bucket of t=500 has gone');
  assert.equal(w.read(30_000), { busy: 0, span: 10_000 });
  // A bucket reused for a later time starts from zero.
  w.record(50, 20_500);
  assert.equal(w.read(20_600), { busy: 50, span: 10_000 });
});

test('utilization is busy ÷ (span × parallelism), within [0, 1]', () => {
  assert.is(utilization(500, 1_000, 2), 0.25);
  assert.is(utilization(5_000, 1_000, 1), 1, 'a long task reported at once is clamped');
  assert.is(utilization(10, 0, 1), 0);
});

test.run();
