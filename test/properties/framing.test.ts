/**
 * Property tests of the frame decoder and the body codec: whatever bytes a peer sends, cut
 * into whatever chunks, the decoder returns frames or throws a TroupeError (which closes
 * that one connection), holds no more than one frame's worth, and answers each chunk fast.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TroupeError } from '../../lib/errors.js';
import { decode, encode } from '../../lib/transport/codec.js';
import { FrameDecoder, HEADER_BYTES, encodeFrame, type Frame } from '../../lib/transport/framing.js';
import { chunked } from './chunks.js';

const MAX_FRAME = 4096;
const SLOW_MS = 20;

/**
 * Runs `fn`; if it took over SLOW_MS, once more: a machine shared with other work can stall
 * any one call, but the same input being slow twice is the input's doing.
 */
function fast(fn: () => void): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    const started = performance.now();
    fn();
    const ms = performance.now() - started;
    if (ms < SLOW_MS) return;
    if (attempt === 1) assert.ok(false, `took ${ms} ms, twice over ${SLOW_MS} ms`);
  }
}

/** Feeds every chunk; checks the invariants on the way; returns the frames and the fault. */
function feed(chunks: Uint8Array[]): { frames: Frame[]; fault?: unknown } {
  const decoder = new FrameDecoder({ maxFrameBytes: MAX_FRAME });
  const frames: Frame[] = [];
  let fault: unknown;
  for (const chunk of chunks) {
    try {
      frames.push(...decoder.push(chunk));
    } catch (err) {
      if (fault === undefined) fault = err;
      else assert.is(err, fault, 'after a fault the decoder keeps refusing with the same error');
    }
    assert.ok(decoder.bufferedBytes <= MAX_FRAME + HEADER_BYTES, `${decoder.bufferedBytes} bytes held`);
  }
  if (fault !== undefined) assert.instance(fault, TroupeError);
  for (const f of frames) assert.ok(f.body.length + 2 <= MAX_FRAME);
  return { frames, fault };
}

test('arbitrary bytes in arbitrary chunks: frames or a TroupeError, bounded memory and time', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 20_000 }), fc.array(fc.nat(), { maxLength: 50 }), (bytes, cuts) => {
      fast(() => feed(chunked(bytes, cuts)));
    }),
    { numRuns: 300 },
  );
});

test('bytes that start like frames (mostly right headers, some bodies, some lies)', () => {
  const header = fc.record({
    length: fc.oneof(fc.integer({ min: 0, max: MAX_FRAME + 10 }), fc.constant(0xffff_ffff)),
    version: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 255 })),
    type: fc.integer({ min: 0, max: 255 }),
    body: fc.uint8Array({ maxLength: 300 }),
  });
  fc.assert(
    fc.property(fc.array(header, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 40 }), (parts, cuts) => {
      const bytes = Buffer.concat(
        parts.map((p) => {
          const h = Buffer.alloc(6);
          h.writeUInt32BE(p.length >>> 0, 0);
          h[4] = p.version;
          h[5] = p.type;
          return Buffer.concat([h, p.body]);
        }),
      );
      fast(() => feed(chunked(bytes, cuts)));
    }),
    { numRuns: 300 },
  );
});

test('valid frames decode the same whatever the chunking', () => {
  const frame = fc.record({ type: fc.integer({ min: 0, max: 255 }), body: fc.uint8Array({ maxLength: 500 }) });
  fc.assert(
    fc.property(fc.array(frame, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 40 }), (frames, cuts) => {
      const bytes = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.body)));
      const { frames: got, fault } = feed(chunked(bytes, cuts));
      assert.is(fault, undefined);
      assert.equal(
        got.map((f) => [f.type, Buffer.from(f.body).toString('hex')]),
        frames.map((f) => [f.type, Buffer.from(f.body).toString('hex')]),
      );
    }),
    { numRuns: 200 },
  );
});

test('frame bodies: arbitrary bytes decode to a value or a ProtocolError, fast', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
      fast(() => {
        try {
          decode(bytes);
        } catch (err) {
          assert.instance(err, TroupeError);
        }
      });
    }),
    { numRuns: 1000 },
  );
});

test('frame bodies: a valid body with bytes flipped, cut or appended never escapes as a crash', () => {
  fc.assert(
    fc.property(
      fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 5 }),
      fc.nat(),
      (value, flips, cut) => {
        const bytes = Buffer.from(encode(value));
        for (const [at, byte] of flips) bytes[at % bytes.length] = byte;
        for (const body of [bytes, bytes.subarray(0, cut % (bytes.length + 1)), Buffer.concat([bytes, bytes])]) {
          fast(() => {
            try {
              decode(body);
            } catch (err) {
              assert.instance(err, TroupeError);
            }
          });
        }
      },
    ),
    { numRuns: 500 },
  );
});

test.run();
