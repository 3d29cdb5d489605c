import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serializeError, deserializeError, TimeoutError, TroupeError, UnknownTaskError } from '../lib/errors.js';

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

test("a Troupe error made in a worker comes back as its own class", () => {
  const back = deserializeError(structuredClone(serializeError(new UnknownTaskError('nope'))));
  assert.instance(back, UnknownTaskError);
  assert.instance(back, TroupeError);
  assert.is((back as UnknownTaskError).code, 'ERR_TROUPE_UNKNOWN_TASK');
  assert.is(back.name, 'UnknownTaskError');
});

test('errors from a peer: any shape is accepted, nothing reaches a prototype', () => {
  for (const junk of [null, 42, 'x', { name: 7 }, { name: 'toString', message: 'm' }, { name: '__proto__' }]) {
    assert.instance(deserializeError(junk), Error);
  }
  const polluted = deserializeError(JSON.parse('{"name":"Error","message":"m","props":{"__proto__":{"evil":1}}}'));
  assert.is(Object.getPrototypeOf(polluted), Error.prototype);
  assert.is(({} as Record<string, unknown>).evil, undefined);
});

test('serializeError never throws, even for a getter that throws', () => {
  const err = new Error('m');
  Object.defineProperty(err, 'bad', { enumerable: true, get() { throw new Error('getter'); } });
  assert.is(serializeError(err).message, 'm');
});

test.run();
