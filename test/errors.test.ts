import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serialize, deserialize } from 'node:v8';
import { serializeError, deserializeError, ERROR_LIMITS, TimeoutError, TroupeError, UnknownTaskError } from '../lib/errors.js';

/** What a peer's frame would carry: the value through node:v8, sharing and holes kept. */
const wire = <T>(value: T): T => deserialize(serialize(value)) as T;

/** A serialized AggregateError graph: `levels` levels, each member referenced `fanOut` times. */
function sharedGraph(levels: number, fanOut: number): object {
  let node: object = { name: 'Error', message: 'leaf' };
  for (let i = 1; i < levels; i++) node = { name: 'AggregateError', message: `level ${i}`, errors: Array(fanOut).fill(node) };
  return node;
}

function timed<T>(fn: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = fn();
  return { value, ms: performance.now() - started };
}

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

test('a shared member is rebuilt once and stays shared: a 784-byte graph of 10^8 paths is cheap', () => {
  const frame = serialize(sharedGraph(ERROR_LIMITS.depth + 1, 10));
  assert.ok(frame.length < 1000, `${frame.length} bytes`);
  const { value: back, ms } = timed(() => deserializeError(deserialize(frame)));
  assert.ok(ms < 50, `took ${ms} ms`);
  const top = back as AggregateError;
  assert.instance(top, AggregateError);
  assert.is(top.errors.length, 10);
  assert.is(top.errors[0], top.errors[9], 'the members are one error, not ten copies');
});

test('past the depth limit a value becomes one plain Error that says so', () => {
  const { value: back, ms } = timed(() => deserializeError(wire(sharedGraph(ERROR_LIMITS.depth + 2, 10))));
  assert.ok(ms < 50, `took ${ms} ms`);
  assert.is(Object.getPrototypeOf(back), Error.prototype);
  assert.match(back.message, /too large to rebuild/);
  assert.match(back.message, /level 9/);
  assert.not.ok('errors' in back);
});

test('a sparse errors array claiming 2^32-1 members is refused without walking it', () => {
  const errors: unknown[] = [];
  errors.length = 2 ** 32 - 1;
  const frame = serialize({ name: 'AggregateError', message: 'sparse', errors });
  assert.ok(frame.length < 100, `${frame.length} bytes`);
  const { value: back, ms } = timed(() => deserializeError(deserialize(frame)));
  assert.ok(ms < 50, `took ${ms} ms`);
  assert.match(back.message, /too large to rebuild/);
});

test('many distinct errors: up to the limit they are rebuilt, past it the value is refused', () => {
  const members = (n: number) => Array.from({ length: n }, (_, i) => ({ name: 'Error', message: `m${i}` }));
  const fits = deserializeError(wire({ name: 'AggregateError', message: 'x', errors: members(ERROR_LIMITS.errors - 1) }));
  assert.is((fits as AggregateError).errors.length, ERROR_LIMITS.errors - 1);
  const over = deserializeError(wire({ name: 'AggregateError', message: 'x', errors: members(ERROR_LIMITS.errors) }));
  assert.match(over.message, /too large to rebuild/);
  const holes = deserializeError(wire({ name: 'AggregateError', message: 'x', errors: [members(1)[0], , , 7] }));
  assert.is((holes as AggregateError).errors.length, 4, 'holes and junk become malformed-error placeholders');
});

test('a cycle is rebuilt as a cycle', () => {
  const data: Record<string, unknown> = { name: 'TypeError', message: 'loop' };
  data.cause = data;
  const back = deserializeError(wire(data));
  assert.instance(back, TypeError);
  assert.is(back.cause, back);
});

test('serializeError on a shared graph visits each error once and stays within the limits', () => {
  let node: Error = new Error('leaf');
  for (let i = 1; i < 12; i++) node = new AggregateError(Array(10).fill(node), `level ${i}`);
  const { value: data, ms } = timed(() => serializeError(node));
  assert.ok(ms < 100, `took ${ms} ms`);
  const frame = serialize(data);
  assert.ok(frame.length < 4096, `${frame.length} bytes`);
  const wide = new AggregateError(Array.from({ length: 5000 }, (_, i) => new Error(`e${i}`)), 'wide');
  const back = deserializeError(wire(serializeError(wide))) as AggregateError;
  assert.instance(back, AggregateError, 'what serializeError keeps, deserializeError rebuilds');
  assert.is(back.errors.length, ERROR_LIMITS.errors - 1);
});

test.run();
