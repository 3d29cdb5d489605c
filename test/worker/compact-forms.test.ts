import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CALL, type Batch, type Results } from '../../lib/worker/batch.js';
import {
  compactBatch, compactResults, parseFlatBatch, parseFlatResults, parseTextBatch, parseTextResults, textBatch, textResults,
} from '../../lib/worker/compact-forms.js';
import { packBatch, packResults, unpackBatch, unpackResults } from '../../lib/worker/thread-channel.js';

test('flat forms: the common batch and plain results go to a worker process as arrays; others do not', () => {
  const batch = { base: 7, name: 'square', one: [1, 2] };
  assert.equal(compactBatch(batch), [7, 'square', [1, 2]]);
  const flat = compactBatch(batch);
  if (!Array.isArray(flat)) throw new Error('not a flat batch');
  assert.equal(parseFlatBatch(structuredClone(flat)), batch);
  for (const other of [
    { base: 7, name: ['a', 'b'], one: [1, 2] }, { base: 7, name: 'f', args: [[1, 2]] },
    { base: 7, name: 'f', one: [[1]], each: [0] }, { base: 7, name: 'inc', one: [1], actor: 3, op: CALL },
  ]) assert.is(compactBatch(other), undefined, JSON.stringify(other));

  const results = { base: 7, values: [1, 4], busy: 0.5, run: 0.25 };
  assert.equal(compactResults(results), [7, [1, 4], 0.5, 0.25]);
  const flatResults = compactResults(results);
  if (!Array.isArray(flatResults)) throw new Error('not flat results');
  assert.equal(parseFlatResults(structuredClone(flatResults)), { ...results, ids: undefined, failed: undefined, started: undefined });
  for (const more of [{ failed: [1] }, { ids: [9, 3] }, { started: [8] }, { progress: [[7, 1]] as const }, { heap: 1 }]) {
    assert.is(compactResults({ ...results, ...more }), undefined, JSON.stringify(more));
  }
  assert.throws(() => parseFlatBatch([7, 'square']), /flat batch/);
  assert.throws(() => parseFlatResults([7, [1], 0.5]), /flat results/);
  assert.throws(() => parseFlatBatch([7, 'square', 'not a list']), /batch.one/);
});

const EDGES = [0, -1, 7, 0.1, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, -Number.MAX_VALUE, 1e21, -(2 ** 31) - 1];

test('text forms: a lone call with a number and its lone number back go as text, every number exactly', () => {
  for (const n of EDGES) {
    const batch: Batch = { base: 41, name: 'square', one: [n] };
    const text = textBatch(batch)!;
    assert.type(text, 'string');
    assert.ok(Object.is(parseTextBatch(text).one![0], n), `batch ${text}`);
    assert.equal(parseTextBatch(text), batch);
    const results: Results = { base: 41, values: [n], busy: 0.012345, run: 1.5 };
    const back = parseTextResults(textResults(results)!);
    assert.ok(Object.is(back.values[0], n), `results ${textResults(results)}`);
    assert.is(back.base, 41);
    assert.is(back.busy, 0.012345);
    assert.is(back.run, 1.5);
  }
  // A name with spaces is everything between the first and the last space.
  assert.equal(parseTextBatch(textBatch({ base: 1, name: 'a b  c', one: [2] })!), { base: 1, name: 'a b  c', one: [2] });
});

test('text forms: -0, other values, several entries and results with more than times stay in the other forms', () => {
  for (const other of [
    { base: 7, name: 'square', one: [-0] }, { base: 7, name: 'square', one: ['7'] }, { base: 7, name: 'square', one: [1, 2] },
    { base: 7, name: 'f', args: [[1, 2]] }, { base: 7, name: 'f', one: [[1]], each: [0] }, { base: 7, name: 'inc', one: [1], actor: 3, op: CALL },
  ]) assert.is(textBatch(other), undefined, JSON.stringify(other));
  const results = { base: 7, values: [1], busy: 0.5, run: 0.25 };
  for (const more of [{ values: [-0] }, { values: ['x'] }, { values: [1, 2] }, { failed: [0] }, { ids: [9] }, { started: [8] }, { progress: [[7, 1]] as const }, { heap: 1 }]) {
    assert.is(textResults({ ...results, ...more }), undefined, JSON.stringify(more));
  }
});

test('text forms: malformed text is a ProtocolError naming what is wrong', () => {
  for (const [text, message] of [
    ['', /text batch/], ['7', /text batch/], ['7 square', /text batch/], ['x square 1', /batch.base/], ['-1 square 1', /batch.base/],
    ['1.5 square 1', /batch.base/], ['7 square ', /batch.one/], ['7 square z', /batch.one/], [`${Number.MAX_SAFE_INTEGER} square 1`, /overflow/],
  ] as const) assert.throws(() => parseTextBatch(text), message, text);
  for (const [text, message] of [
    ['7 1 2', /text results/], ['7 1 2 3 4', /text results/], ['x 1 2 3', /results.base/], ['7 y 2 3', /results.values/],
    ['7 1 -2 3', /ns >= 0/], ['7 1 2 Infinity', /ns >= 0/], ['7 1 2 ', /results.run/],
  ] as const) assert.throws(() => parseTextResults(text), message, text);
});

test('thread channel: a lone number goes as text both ways; -0 and a transfer list do not', () => {
  const batch = { base: 3, name: 'square', one: [12] };
  const posted = packBatch(batch, undefined);
  assert.is(posted.message, '3 square 12');
  assert.equal(unpackBatch(structuredClone(posted.message)), batch);
  assert.type(packBatch({ ...batch, one: [-0] }, undefined).message, 'object');
  assert.type(packBatch(batch, [new ArrayBuffer(8)]).message, 'object');
  const reply = packResults({ base: 3, values: [144], busy: 0.5, run: 0.5 });
  assert.type(reply.message, 'string');
  assert.equal(unpackResults(structuredClone(reply.message)), { base: 3, values: [144], busy: 0.5, run: 0.5 });
});

test.run();
