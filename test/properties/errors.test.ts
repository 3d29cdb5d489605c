/**
 * Property tests of error deserialization: any value a peer can send (through node:v8,
 * so with shared references, cycles and holes) becomes an Error, fast, without throwing.
 */
import fc from 'fast-check';
import { deserialize, serialize } from 'node:v8';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deserializeError, serializeError } from '../../lib/errors.js';

const SLOW_MS = 50;

/** Rebuilds `value`; a slow call is tried once more, so a stall of a shared machine is not blamed on it. */
function rebuiltFast(value: unknown): Error {
  for (let attempt = 0; ; attempt++) {
    const started = performance.now();
    const error = deserializeError(value);
    const ms = performance.now() - started;
    assert.instance(error, Error);
    if (ms < SLOW_MS) return error;
    assert.ok(attempt === 0, `took ${ms} ms, twice over ${SLOW_MS} ms`);
  }
}

test('any value at all', () => {
  fc.assert(
    fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withSparseArray: true, withNullPrototype: true }), (value) => {
      rebuiltFast(value);
    }),
    { numRuns: 300 },
  );
});

/** Error-shaped values whose members are drawn from a pool, so that they share and loop. */
const errorGraph = fc
  .record({
    nodes: fc.array(
      fc.record({
        name: fc.oneof(fc.constantFrom('Error', 'TypeError', 'AggregateError', 'PeerLostError', '__proto__', 'constructor'), fc.string()),
        message: fc.oneof(fc.string(), fc.integer()),
        code: fc.option(fc.oneof(fc.constantFrom('ERR_TROUPE_PEER_LOST', 'ERR_TROUPE_TIMEOUT'), fc.anything())),
        errors: fc.option(fc.array(fc.nat(), { maxLength: 30 })),
        sparse: fc.option(fc.integer({ min: 0, max: 2 ** 32 - 1 })),
        cause: fc.option(fc.oneof(fc.nat(), fc.record({ value: fc.anything() }))),
        props: fc.option(fc.dictionary(fc.string(), fc.anything())),
      }),
      { minLength: 1, maxLength: 40 },
    ),
  })
  .map(({ nodes }) => {
    const built = nodes.map((n) => ({ name: n.name, message: n.message }) as Record<string, unknown>);
    nodes.forEach((n, i) => {
      const b = built[i];
      if (n.code !== null) b.code = n.code;
      if (n.errors !== null) {
        b.errors = n.errors.map((j) => built[j % built.length]);
        if (n.sparse !== null) (b.errors as unknown[]).length = Math.max((b.errors as unknown[]).length, n.sparse);
      }
      if (n.cause !== null) b.cause = typeof n.cause === 'number' ? built[n.cause % built.length] : n.cause;
      if (n.props !== null) b.props = n.props;
    });
    return built[0];
  });

test('error graphs: shared members, cycles, huge sparse lists, through node:v8', () => {
  fc.assert(
    fc.property(errorGraph, (value) => {
      let wire: unknown;
      try {
        wire = deserialize(serialize(value));
      } catch {
        return; // a value node:v8 cannot carry never reaches us
      }
      const error = rebuiltFast(wire);
      // what we rebuilt can be sent on again
      deserializeError(deserialize(serialize(serializeError(error))));
    }),
    { numRuns: 500 },
  );
});

test.run();
