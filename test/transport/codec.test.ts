import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProtocolError } from '../../lib/errors.js';
import { decode, encode } from '../../lib/transport/codec.js';

const roundTrip = (value: unknown) => decode(encode(value));

test('a Buffer comes back as a Buffer with the same bytes', () => {
  const back = roundTrip(Buffer.from([0, 1, 2, 255])) as Buffer;
  assert.ok(Buffer.isBuffer(back));
  assert.equal([...back], [0, 1, 2, 255]);
});

test('typed arrays keep their class, including unaligned views', () => {
  const floats = new Float64Array([1.5, -2, Infinity]);
  assert.equal(roundTrip(floats), floats);
  const view = new Uint16Array(new Uint8Array(9).buffer, 2, 3).fill(513);
  const back = roundTrip(view) as Uint16Array;
  assert.instance(back, Uint16Array);
  assert.equal([...back], [513, 513, 513]);
});

test('Map, Set, Date, BigInt, RegExp, undefined and -0 survive', () => {
  const back = roundTrip({
    map: new Map<unknown, unknown>([[1, 'one'], ['k', { deep: true }]]),
    set: new Set([1, 'two']),
    date: new Date(1_700_000_000_000),
    big: 2n ** 80n,
    re: /ab+c/gi,
    nothing: undefined,
    negZero: -0,
  }) as Record<string, unknown>;
  assert.equal(back.map, new Map<unknown, unknown>([[1, 'one'], ['k', { deep: true }]]));
  assert.equal(back.set, new Set([1, 'two']));
  assert.instance(back.date, Date);
  assert.is((back.date as Date).getTime(), 1_700_000_000_000);
  assert.is(back.big, 2n ** 80n);
  assert.is(String(back.re), '/ab+c/gi');
  assert.ok('nothing' in back && back.nothing === undefined);
  assert.ok(Object.is(back.negZero, -0));
});

test('nested structures and cycles', () => {
  const value: Record<string, unknown> = { tasks: [[1, 'square', [4]], [2, 'echo', [{ a: [new Map([[1, [2n]]])] }]]] };
  value.self = value;
  const back = roundTrip(value) as Record<string, unknown>;
  assert.equal(back.tasks, value.tasks);
  assert.is(back.self, back);
});

test('a function cannot be sent: the sender finds out, nothing is silently dropped', () => {
  assert.throws(() => encode({ run() {} }), /could not be cloned/);
});

test('bytes that are not a serialized value are a ProtocolError', () => {
  for (const bytes of [Buffer.alloc(0), Buffer.from([1, 2, 3, 4, 5]), Buffer.from([0xff, 0x0f, 0x5c, 0x03]), Buffer.from('{"json":1}')]) {
    assert.throws(
      () => decode(bytes),
      (err: Error) => err instanceof ProtocolError && err.code === 'ERR_TROUPE_PROTOCOL',
    );
  }
});

test('truncated input is a ProtocolError, at every cut', () => {
  const bytes = encode({ list: [1, 'two', new Map([[3, Buffer.from('four')]])] });
  for (let cut = 0; cut < bytes.length; cut++) {
    assert.throws(() => decode(bytes.subarray(0, cut)), (err: Error) => err instanceof ProtocolError, `cut at ${cut}`);
  }
});

test.run();
