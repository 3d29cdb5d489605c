import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serializeError, deserializeError, TimeoutError } from '../lib/errors.js';

test('a RangeError keeps its class, message, stack, code, cause and own properties', () => {
  const inner = new TypeError('inner');
  const err = Object.assign(new RangeError('outer', { cause: inner }), { code: 'E_X', extra: { n: 1 } });
  const back = deserializeError(structuredClone(serializeError(err))) as RangeError & { code: string; extra: unknown };
  assert.instance(back, RangeError);
  assert.is(back.message, 'outer');
  assert.is(back.stack, err.stack);
  assert.is(back.code, 'E_X');
  assert.equal(back.extra, { n: 1 });
  assert.instance(back.cause, TypeError);
  assert.is((back.cause as Error).message, 'inner');
});

test('a custom error class keeps its name; unclonable properties are dropped, not fatal', () => {
  class DbError extends Error {
    override name = 'DbError';
    fn = () => 1;
  }
  const back = deserializeError(structuredClone(serializeError(new DbError('no db'))));
  assert.is(back.name, 'DbError');
  assert.is(back.message, 'no db');
  assert.not.ok('fn' in back);
});

test('thrown non-errors become errors that say what was thrown', () => {
  assert.is(deserializeError(serializeError('plain')).message, 'plain');
  assert.equal((deserializeError(serializeError(42)) as Error & { thrown: number }).thrown, 42);
});

test('AggregateError keeps its errors', () => {
  const back = deserializeError(serializeError(new AggregateError([new Error('a'), new RangeError('b')], 'many')));
  assert.instance(back, AggregateError);
  assert.instance((back as AggregateError).errors[1], RangeError);
});

test('troupe errors carry a stable code and their class name', () => {
  const err = new TimeoutError(5);
  assert.is(err.code, 'ERR_TROUPE_TIMEOUT');
  assert.is(err.name, 'TimeoutError');
  assert.match(err.message, /5 ms/);
});

test.run();
