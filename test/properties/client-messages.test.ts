/**
 * Property tests of the client messages (lib/queues/protocol.ts): whatever a client or a
 * pool sends, each parser returns a typed value or throws a ProtocolError, at once, and
 * what it returns is within the limits.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProtocolError } from '../../lib/errors.js';
import {
  MAX_ITEMS, MAX_PREFETCH, MAX_QUEUE_NAME, parseAck, parseCancel, parseCredit, parseDeliver, parseEnd, parsePut, parseReply, parseRun,
  parseSize,
} from '../../lib/queues/protocol.js';

const PARSERS = { parsePut, parseRun, parseCancel, parseSize, parseCredit, parseAck, parseReply, parseDeliver, parseEnd };

const anything = fc.anything({ withBigInt: true, withMap: true, withSet: true, withSparseArray: true, withNullPrototype: true });

/** Message-shaped values: the right keys, with values drawn from troublesome ones. */
const field = fc.oneof(
  anything,
  fc.constantFrom(-1, 0, 1, 2 ** 53, NaN, Infinity, 'q', 'x'.repeat(MAX_QUEUE_NAME + 1), true, false),
  fc.array(fc.oneof(fc.integer(), fc.string()), { maxLength: 5 }),
  fc.constant(Object.assign([], { length: 2 ** 32 - 1 })),
);
const shaped = fc.record(
  {
    q: field, base: field, items: field, id: field, name: field, args: field, timeout: field, window: field, ids: field,
    requeue: field, values: field, failed: field, error: field,
  },
  { requiredKeys: [] },
);

function parsedOrRefused(parse: (value: unknown) => unknown, value: unknown): unknown {
  const started = performance.now();
  try {
    return parse(value);
  } catch (error) {
    assert.instance(error, ProtocolError, `${parse.name} threw ${String(error)}`);
    return undefined;
  } finally {
    assert.ok(performance.now() - started < 100, `${parse.name} took ${performance.now() - started} ms`);
  }
}

for (const [name, parse] of Object.entries(PARSERS)) {
  test(`${name}: a typed value or a ProtocolError, at once, for any value`, () => {
    fc.assert(
      fc.property(fc.oneof(anything, shaped), (value) => {
        const parsed = parsedOrRefused(parse, value) as Record<string, unknown> | undefined;
        if (parsed === undefined || typeof parsed !== 'object') return;
        if (typeof parsed.q === 'string') assert.ok(parsed.q.length <= MAX_QUEUE_NAME);
        if (Array.isArray(parsed.items)) assert.ok(parsed.items.length <= MAX_ITEMS);
        if (typeof parsed.window === 'number') assert.ok(Number.isInteger(parsed.window) && parsed.window >= 0 && parsed.window <= MAX_PREFETCH);
      }),
      { numRuns: 200 },
    );
  });
}

test('well-formed messages parse to themselves', () => {
  assert.equal(parsePut({ q: 'jobs', base: 7, items: [1, 'two', { three: 3 }] }), { q: 'jobs', base: 7, items: [1, 'two', { three: 3 }] });
  assert.equal(parseCredit({ q: 'jobs', window: 64 }), { q: 'jobs', window: 64 });
  assert.equal(parseAck({ ids: [1, 2], requeue: true }), { ids: [1, 2], requeue: true });
  assert.equal(parseRun({ id: 3, name: 'square', args: [2] }), { id: 3, name: 'square', args: [2], timeout: undefined });
  assert.equal(parseReply({ ids: [1], values: [4], failed: [] }), { ids: [1], values: [4], failed: [] });
});

test.run();
