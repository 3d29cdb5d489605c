// Latency: samples recorded in runs into a perf_hooks histogram; every read sees all of them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Latency } from '../../lib/scheduler/stats.js';

test('a read sees every sample recorded before it, whether or not a run of them was full', () => {
  const latency = new Latency();
  assert.is(latency.read().count, 0);
  for (let i = 0; i < 3; i++) latency.record(2);
  assert.is(latency.read().count, 3);
  assert.is(latency.read().count, 3, 'reading twice counts nothing twice');
  for (let i = 0; i < 2_500; i++) latency.record(i < 2_000 ? 1 : 40);
  const read = latency.read();
  assert.is(read.count, 2_503);
  assert.ok(Math.abs(read.p50 - 1) < 0.05, `p50 ${read.p50} ms`);
  assert.ok(Math.abs(read.max - 40) < 0.5, `max ${read.max} ms`);
});

test('samples below a microsecond count as one microsecond', () => {
  const latency = new Latency();
  latency.record(0);
  latency.record(0.0002);
  const read = latency.read();
  assert.is(read.count, 2);
  assert.is(read.max, 0.001);
});

test('absurd samples (a peer may report any time) are clamped, never thrown on, whether recorded in a full run or read', () => {
  const latency = new Latency();
  latency.record(1e20);
  latency.record(NaN);
  assert.is(latency.read().count, 2, 'a read records what waits without throwing');
  for (let i = 0; i < 1_024; i++) latency.record(1e20);
  const read = latency.read();
  assert.is(read.count, 1_026);
  assert.is(read.max, Number.MAX_SAFE_INTEGER / 1000);
});

test.run();
