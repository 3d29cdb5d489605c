import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BatchBuilder, entryArgs, entryCount, entryName, MAX_ENTRIES, parseBatch, parseChunkOutcome, parseResults, resultId, type Results,
} from '../../lib/worker/batch.js';
import { MIN_PACKED, packNumbers } from '../../lib/worker/packed.js';
import { ResultBuffer } from '../../lib/worker/result-buffer.js';
import { packBatch, packResults, unpackBatch, unpackResults } from '../../lib/worker/thread-channel.js';
import { markMoved } from '../../lib/worker/moved.js';

function sparse(): unknown[] {
  const array: unknown[] = [];
  array.length = 2 ** 32 - 1;
  return array;
}

test('one task with one argument each: the compact form, ids implicit', () => {
  const builder = new BatchBuilder(41);
  for (const n of [1, 2, 3]) builder.add('square', [n]);
  assert.equal(builder.build(), { base: 41, name: 'square', one: [1, 2, 3] });
});

test('mixed names and argument counts fall back to the general form, keeping every entry', () => {
  const builder = new BatchBuilder(1);
  builder.add('square', [1]);
  builder.add('square', [2]);
  builder.add('add', [1, 2]);
  builder.add('noop', []);
  const batch = builder.build();
  assert.equal(batch, { base: 1, name: ['square', 'square', 'add', 'noop'], args: [[1], [2], [1, 2], []] });
  assert.is(entryCount(batch), 4);
  assert.equal([0, 1, 2, 3].map((i) => [entryName(batch, i), entryArgs(batch, i)]), [
    ['square', [1]], ['square', [2]], ['add', [1, 2]], ['noop', []],
  ]);
});

test('parseBatch accepts what the builder makes and refuses malformed or sparse batches', () => {
  const builder = new BatchBuilder(7);
  builder.add('a', [1, 2]);
  assert.equal(parseBatch(structuredClone(builder.build())), builder.build());
  const bad: unknown[] = [
    null, [], 'x', {}, { base: -1, name: 'a', one: [1] }, { base: 1.5, name: 'a', one: [1] }, { base: 1, name: 'a', one: [] },
    { base: 1, name: 'a', one: sparse() }, { base: 1, name: 'a', args: [sparse()] }, { base: 1, name: 'a', args: [1] },
    { base: 1, name: ['a'], one: [1, 2] }, { base: 1, name: 7, one: [1] }, { base: 1, name: 'x'.repeat(5000), one: [1] },
    { base: 2 ** 53 - 1, name: 'a', one: [1, 2] },
  ];
  bad.forEach((value, i) => assert.throws(() => parseBatch(value), /./, `bad batch ${i}`));
});

test('map chunks: the builder lists them in `each`, and parseBatch checks each is one list of items', () => {
  const builder = new BatchBuilder(5);
  builder.add('square', [1]);
  builder.add('square', [[2, 3]], true);
  const batch = builder.build();
  assert.equal(batch, { base: 5, name: 'square', one: [1, [2, 3]], each: [1] });
  assert.equal(parseBatch(structuredClone(batch)), batch);
  const bad: unknown[] = [
    { base: 1, name: 'a', one: [[1]], each: [1] }, { base: 1, name: 'a', one: [[1], [2]], each: [1, 0] },
    { base: 1, name: 'a', one: [7], each: [0] }, { base: 1, name: 'a', args: [[[1], [2]]], each: [0] },
    { base: 1, name: 'a', one: [sparse()], each: [0] }, { base: 1, name: 'a', one: [[1]], each: [0], actor: 3 },
  ];
  bad.forEach((value, i) => assert.throws(() => parseBatch(value), /ProtocolError|batch|chunk/, `bad batch ${i}`));
});

test('parseChunkOutcome: a value per item, failure indexes ascending, a time', () => {
  assert.equal(parseChunkOutcome({ values: [1, 'e'], failed: [1], ms: 0.5 }, 2), { values: [1, 'e'], failed: [1], ms: 0.5 });
  assert.equal(parseChunkOutcome({ values: [1], ms: 0 }, 1).failed, undefined);
  const bad: unknown[] = [
    null, [1], { values: [1], ms: 0 }, { values: [1, 2], failed: [2], ms: 0 }, { values: [1, 2], failed: [1, 0], ms: 0 },
    { values: [1, 2], ms: -1 }, { values: sparse(), ms: 0 },
  ];
  bad.forEach((value, i) => assert.throws(() => parseChunkOutcome(value, 2), /chunk/, `bad outcome ${i}`));
});

test('numbers packed: 16 or more numbers go as one Float64Array, anything else as it is; parsers take both', () => {
  const numbers = Array.from({ length: MIN_PACKED }, (_, i) => i - 0.5);
  const packed = packNumbers(numbers);
  assert.ok(packed instanceof Float64Array);
  assert.equal(Array.from(packed), numbers);
  const short = numbers.slice(1);
  assert.is(packNumbers(short), short);
  const mixed = [...numbers, '1'];
  assert.is(packNumbers(mixed), mixed);

  const batch = { base: 1, name: 'echo', one: [packed], each: [0] };
  assert.is(entryArgs(parseBatch(structuredClone(batch)), 0)[0] instanceof Float64Array, true);
  assert.is(packBatch(batch, undefined).message, batch, 'a thread posts packed items by structured clone, not as v8 bytes');
  // Structured clone would share a SharedArrayBuffer and copy all of a view's buffer: those go as v8 bytes.
  const shared = new Float64Array(new SharedArrayBuffer(64));
  const view = new Float64Array(new ArrayBuffer(800), 8, 2);
  for (const arg of [shared, view]) assert.ok(packBatch({ base: 1, name: 'f', one: [arg] }, undefined).message instanceof Uint8Array);
  const outcome = parseChunkOutcome({ values: packed, ms: 1 }, MIN_PACKED);
  assert.is(outcome.values, packed);
  assert.throws(() => parseChunkOutcome({ values: packed, ms: 1 }, MIN_PACKED + 1), /came back with 16 values/);
  const tooLong = { base: 1, name: 'echo', one: [new Float64Array(MAX_ENTRIES + 1)], each: [0] };
  assert.throws(() => parseBatch(tooLong), /at most 65536/);
  assert.throws(() => parseBatch({ base: 1, name: 'echo', one: [new Int32Array(20)], each: [0] }), /must be an array/);
});

test('numbers packed: a batch of one-number calls, and results that are all numbers, go as Float64Arrays', () => {
  const builder = new BatchBuilder(1);
  for (let n = 0; n < MIN_PACKED; n++) builder.add('square', [n + 0.5]);
  const batch = parseBatch(structuredClone(builder.build()));
  assert.ok(batch.one instanceof Float64Array);
  assert.equal(entryArgs(batch, 3), [3.5]);

  const sent: Results[] = [];
  const buffer = new ResultBuffer((r) => sent.push(parseResults(structuredClone(r))));
  for (let n = 0; n < MIN_PACKED; n++) buffer.push(1 + n, 0, -n);
  buffer.flush();
  buffer.push(100, 0, 'a string');
  buffer.flush();
  assert.ok(sent[0].values instanceof Float64Array);
  assert.ok(Object.is(sent[0].values[0], -0));
  assert.equal(sent[1].values, ['a string']);
});

test('parseBatch is quick on a sparse array of length 2^32-1 (it never walks it)', () => {
  const started = performance.now();
  assert.throws(() => parseBatch({ base: 1, name: 'a', one: sparse() }));
  assert.throws(() => parseResults({ base: 1, values: sparse(), busy: 0, run: 0 }));
  assert.ok(performance.now() - started < 100);
});

test('parseResults checks ids, failure indexes and times', () => {
  assert.equal(parseResults({ base: 3, values: [1, 2], busy: 1, run: 2 }).values, [1, 2]);
  const bad: unknown[] = [
    { base: 3, values: [1], busy: -1, run: 0 }, { base: 3, values: [1], busy: 0, run: NaN },
    { base: 3, values: [1], ids: [1, 2], busy: 0, run: 0 }, { base: 3, values: [1], failed: [1], busy: 0, run: 0 },
    { base: 3, values: [1], ids: ['x'], busy: 0, run: 0 }, { base: 3, values: 'x', busy: 0, run: 0 },
  ];
  for (const value of bad) assert.throws(() => parseResults(value), /./, JSON.stringify(value));
});

test('parseResults: optional progress pairs and heap, checked', () => {
  const ok = parseResults({ base: 1, values: [], busy: 0, run: 0, progress: [[4, { done: 1 }], [5, 'x']], heap: 1024 });
  assert.equal([ok.progress, ok.heap], [[[4, { done: 1 }], [5, 'x']], 1024]);
  const bad: unknown[] = [
    { progress: 'x' }, { progress: [[1]] }, { progress: [[-1, 0]] }, { progress: [['1', 0]] }, { progress: [1, 2] },
    { heap: -1 }, { heap: 1.5 },
  ];
  for (const extra of bad) {
    assert.throws(() => parseResults({ base: 1, values: [], busy: 0, run: 0, ...(extra as object) }), /results\.(progress|heap)/, JSON.stringify(extra));
  }
  const sparse = new Array(2 ** 32 - 1);
  assert.throws(() => parseResults({ base: 1, values: [], busy: 0, run: 0, progress: sparse }), /results\.progress has/);
});

test('a result buffer sends the latest progress of each task, alone or with results', () => {
  const sent: unknown[] = [];
  const buffer = new ResultBuffer((r) => sent.push(r));
  buffer.progress(7, 1);
  buffer.progress(8, 'a');
  buffer.progress(7, 2);
  buffer.flush();
  buffer.push(7, 0, 'done');
  buffer.flush();
  const [first, second] = sent.map(parseResults);
  assert.equal([first.values, first.progress], [[], [[7, 2], [8, 'a']]]);
  assert.equal([second.values, second.progress], [['done'], undefined]);
});

test('a result buffer keeps ids implicit while they come in order, explicit once they do not', async () => {
  const sent: unknown[] = [];
  const buffer = new ResultBuffer((r) => sent.push(r));
  buffer.push(10, 0, 'a');
  buffer.push(11, 1, { name: 'Error', message: 'x' });
  buffer.flush();
  buffer.push(5, 0, 'c');
  buffer.push(9, 0, 'd');
  buffer.time(1, 2);
  buffer.flushSoon();
  buffer.flushSoon();
  await Promise.resolve();
  const [first, second] = sent.map(parseResults);
  assert.equal([first.base, first.ids, first.failed], [10, undefined, [1]]);
  assert.equal([second.ids, second.busy, second.run], [[5, 9], 1, 2]);
  assert.equal([0, 1].map((i) => resultId(second, i)), [5, 9]);
  assert.is(sent.length, 2, 'flushSoon twice in a turn sends once');
});

test('thread channel: plain batches go as they are, others as v8 bytes that keep Buffers, Maps and -0', () => {
  const plain = { base: 1, name: 'f', one: [1, 'x', null, true] };
  assert.is(packBatch(plain, undefined).message, plain);
  const rich = { base: 1, name: 'f', args: [[Buffer.from('hi'), new Map([[1, 2]]), -0, 7n]] };
  const posted = packBatch(rich, undefined);
  assert.ok(posted.message instanceof Uint8Array);
  assert.is(posted.transfer!.length, 1, 'the bytes move, they are not copied again');
  const back = unpackBatch(structuredClone(posted.message, { transfer: posted.transfer as never }));
  const args = entryArgs(back, 0);
  assert.ok(Buffer.isBuffer(args[0]));
  assert.ok(Object.is(args[2], -0));
  assert.equal(args, rich.args[0]);
});

test('thread channel: transferred Buffers arrive as Buffers, and a moved result moves back', () => {
  const buffer = Buffer.alloc(1024 * 16, 1);
  const posted = packBatch({ base: 1, name: 'f', one: [buffer] }, [buffer.buffer]);
  const cloned = structuredClone(posted.message, { transfer: posted.transfer as never });
  assert.is(buffer.byteLength, 0, 'the memory moved');
  const arg = entryArgs(unpackBatch(cloned), 0)[0];
  assert.ok(Buffer.isBuffer(arg));
  assert.is((arg as Buffer).byteLength, 1024 * 16);

  const result = markMoved(Buffer.alloc(1024 * 16, 2));
  const reply = packResults({ base: 1, values: [result], busy: 0, run: 0 });
  assert.equal(reply.transfer, [result.buffer]);
  const returned = unpackResults(structuredClone(reply.message, { transfer: reply.transfer as never })).values[0];
  assert.ok(Buffer.isBuffer(returned));
  assert.is(result.byteLength, 0);
});

test('a small pooled Buffer is never moved: that would empty its neighbours', () => {
  const small = markMoved(Buffer.from('tiny'));
  const reply = packResults({ base: 1, values: [small], busy: 0, run: 0 });
  assert.is(reply.transfer?.length ?? 0, 1, 'sent as v8 bytes (one buffer of its own), not by moving the pool');
  assert.is(small.toString(), 'tiny');
});

test.run();
