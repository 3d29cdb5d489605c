// How pool.map() sizes its chunks, fed measurements directly (no workers, no clock).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CHUNK_TARGET_MS, ChunkSizer, MAX_SIZED_CHUNK, SETTLE_CHUNKS } from '../lib/chunk-sizer.js';

test('tiny items: the size doubles with each chunk back up to the largest, then stops growing', () => {
  const sizer = new ChunkSizer(undefined, 4 * MAX_SIZED_CHUNK);
  assert.equal([sizer.size, sizer.growing], [1, true]);
  const sizes: number[] = [];
  while (sizer.growing) {
    sizer.measured(0.0001 * sizer.size, sizer.size);
    sizes.push(sizer.size);
  }
  assert.equal(sizes, [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]);
  assert.is(sizer.size, MAX_SIZED_CHUNK);
});

test('the largest sized chunk is a quarter of concurrency when that is less', () => {
  const sizer = new ChunkSizer(undefined, 100);
  for (let i = 0; i < 20; i++) sizer.measured(0, sizer.size);
  assert.equal([sizer.size, sizer.growing], [25, false]);
});

test('long items go one to a chunk, settled once a few chunks have come back', () => {
  const sizer = new ChunkSizer(undefined, 4096);
  for (let i = 1; i < SETTLE_CHUNKS; i++) {
    sizer.measured(5, 1);
    assert.equal([sizer.size, sizer.growing], [1, true], `after ${i} chunks`);
  }
  sizer.measured(5, 1);
  assert.equal([sizer.size, sizer.growing], [1, false]);
});

test('one slow first item does not settle the size at one: later tiny ones grow it', () => {
  const sizer = new ChunkSizer(undefined, 4 * MAX_SIZED_CHUNK);
  sizer.measured(3, 1); // preempted
  assert.ok(sizer.growing, 'not settled on one sample');
  for (let i = 0; i < 40 && sizer.size < MAX_SIZED_CHUNK; i++) sizer.measured(0.0001 * sizer.size, sizer.size);
  assert.is(sizer.size, MAX_SIZED_CHUNK);
});

test('a chunk that seemed slow (a preempted worker) moves the size a little; items that stay slower bring it to what fits them', () => {
  const sizer = new ChunkSizer(undefined, 4096);
  for (let i = 0; i < 12; i++) sizer.measured(0.0001 * sizer.size, sizer.size);
  assert.is(sizer.size, 1024);
  sizer.measured(4, 1024); // one chunk 40x slower than the rest
  assert.ok(sizer.size >= 512, `one slow chunk left ${sizer.size}`);
  for (let i = 0; i < 30; i++) sizer.measured(0.05 * sizer.size, sizer.size); // items now cost 50 µs
  const fits = CHUNK_TARGET_MS / 0.05;
  assert.ok(sizer.size >= fits && sizer.size <= fits * 1.05, `items of 50 µs in chunks of ${sizer.size}`);
});

test('a chunkSize given is kept whatever chunks take', () => {
  const sizer = new ChunkSizer(16, 4096);
  sizer.measured(100, 16);
  sizer.measured(0, 16);
  assert.equal([sizer.size, sizer.growing], [16, false]);
});

test.run();
