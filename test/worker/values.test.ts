import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ERR, OK } from '../../lib/worker/protocol.js';
import { fromBase64, isPlainBatch, isPlainResults, toBase64 } from '../../lib/worker/values.js';

test('plain primitives travel as they are: JSON would carry them unchanged', () => {
  const batch = [1, 'square', [7, 'x', true, null, -3.5, ''], 2, 'noop', []];
  assert.ok(isPlainBatch(batch));
  assert.equal(JSON.parse(JSON.stringify(batch)), batch);
  assert.ok(isPlainResults([1, OK, 49, 2, OK, 'ok', 3, OK, null]));
});

test('values JSON would change or drop are not plain', () => {
  for (const value of [undefined, NaN, Infinity, -Infinity, -0, 1n, Buffer.from('a'), new Map(), new Date(0), [1], { a: 1 }]) {
    assert.not.ok(isPlainBatch([1, 'f', [value]]), `argument ${String(value)}`);
    assert.not.ok(isPlainResults([1, OK, value]), `result ${String(value)}`);
  }
});

test('an error result is never plain: it goes as v8 bytes with its shape', () => {
  assert.not.ok(isPlainResults([1, ERR, 'boom']));
});

test('v8 bytes in base64 keep Buffers, Maps, Dates, BigInts, -0 and undefined', () => {
  const value = [Buffer.from('hi'), new Map([[1, 'a']]), new Date(5), 7n, -0, undefined, NaN];
  const back = fromBase64(toBase64(value)) as unknown[];
  assert.ok(Buffer.isBuffer(back[0]));
  assert.equal(back, value);
  assert.ok(Object.is(back[4], -0));
});

test.run();
