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
  for (const bytes of [Buffer.alloc(0), Buffer.from([1, 2, 3, 4, 5]), Buffer.from([0xff, 0x0f, 0x5c, 0x03]), Buffer.from('{"json":')]) {
    assert.throws(
      () => decode(bytes),
      (err: Error) => err instanceof ProtocolError && err.code === 'ERR_TROUPE_PROTOCOL',
    );
  }
});

const V8_TAG = 0xff;

test('a small frame of JSON values goes as JSON text and comes back equal', () => {
  const frames = [
    { base: 12, name: 'square', one: [42] },
    { base: 12, values: [1764, 'é\u{1F600}\ud800', true, null, { a: [1.5e-300, -7] }], busy: 0.0123, run: 0 },
    { upTo: 99 },
    ['__proto__', { nested: { deeper: [[], {}] } }],
    ['x'.repeat(1_000)],
  ];
  for (const value of frames) {
    assert.is(encode(value)[0], V8_TAG, 'without `json`, v8 always');
    const bytes = encode(value, true);
    assert.is.not(bytes[0], V8_TAG, JSON.stringify(value));
    assert.equal(decode(bytes), value);
  }
  const own = JSON.parse('{"__proto__": {"polluted": 1}}') as object;
  const back = decode(encode(own, true)) as Record<string, unknown>;
  assert.ok(Object.hasOwn(back, '__proto__'), 'an own "__proto__" key stays an own property');
  assert.is(({} as Record<string, unknown>).polluted, undefined);
});

test('what JSON would change goes as v8 and comes back exactly', () => {
  const holey = [1, , 3];
  const extra = Object.assign([1, 2], { tag: 'x' });
  const cases: [string, unknown][] = [
    ['-0', { v: -0 }],
    ['NaN', [NaN]],
    ['Infinity', { v: [Infinity] }],
    ['undefined', { v: undefined }],
    ['a hole', holey],
    ['an extra property on an array', extra],
    ['a Date', { at: new Date(5) }],
    ['more values than the budget', Array.from({ length: 300 }, (_, i) => i)],
    ['a string past 1,024 characters', 'x'.repeat(1_025)],
    ['packed numbers', new Float64Array(20)],
  ];
  for (const [what, value] of cases) {
    const bytes = encode(value, true);
    assert.is(bytes[0], V8_TAG, what);
    const back = decode(bytes);
    assert.equal(back, value, what);
  }
  // A class instance goes as v8, which brings its own properties back as a plain object.
  const instance = encode({ e: new (class Point { x = 1; })() }, true);
  assert.is(instance[0], V8_TAG);
  assert.equal(JSON.stringify(decode(instance)), '{"e":{"x":1}}');
  assert.throws(() => encode({ p: new Proxy({ a: 1 }, {}) }, true), /could not be cloned/, 'a Proxy is refused as v8 refuses it');
  assert.ok(Object.is((decode(encode({ v: -0 })) as { v: number }).v, -0));
  assert.ok(!(1 in (decode(encode(holey)) as unknown[])), 'the hole stays a hole');
  assert.is((decode(encode(extra)) as unknown as { tag: string }).tag, 'x');
});

test('truncated input is a ProtocolError, at every cut, v8 and JSON alike', () => {
  for (const value of [{ list: [1, 'two', new Map([[3, Buffer.from('four')]])] }, { base: 1, name: 'square', one: [1234] }]) {
    const bytes = encode(value, true);
    for (let cut = 0; cut < bytes.length; cut++) {
      assert.throws(() => decode(bytes.subarray(0, cut)), (err: Error) => err instanceof ProtocolError, `cut at ${cut}`);
    }
  }
});

test.run();
