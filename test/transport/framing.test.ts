import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameTooLargeError, ProtocolError } from '../../lib/errors.js';
import { FrameDecoder, GATHER_FROM_BYTES, HEADER_BYTES, encodeFrame, encodeFrameHeader, type Frame } from '../../lib/transport/framing.js';

const isA = (Class: abstract new (...args: any[]) => Error) => (err: Error) => err instanceof Class;

const sample: Frame[] = [
  { type: 16, body: Buffer.from('hello') },
  { type: 0, body: Buffer.alloc(0) },
  { type: 255, body: Buffer.from('ünïcödé ✓ 🎭', 'utf8') },
  { type: 17, body: Buffer.alloc(300, 7) },
];
const wire = Buffer.concat(sample.map((f) => encodeFrame(f.type, f.body)));

function same(actual: Frame[], expected: Frame[]) {
  assert.is(actual.length, expected.length);
  actual.forEach((f, i) => {
    assert.is(f.type, expected[i].type);
    assert.ok(f.body.equals(expected[i].body), `body of frame ${i}`);
  });
}

test('the header is a big-endian byte length, the version, then the type', () => {
  const frame = encodeFrame(42, Buffer.from('✓'));
  assert.equal([...frame], [0, 0, 0, 5, 1, 42, 0xe2, 0x9c, 0x93]);
  assert.equal([...encodeFrameHeader(42, 3)], [0, 0, 0, 5, 1, 42]);
});

test('encodeFrame refuses a type outside one byte', () => {
  assert.throws(() => encodeFrame(256, Buffer.alloc(0)), isA(RangeError));
  assert.throws(() => encodeFrame(-1, Buffer.alloc(0)), isA(RangeError));
  assert.throws(() => encodeFrame(1.5, Buffer.alloc(0)), isA(RangeError));
});

test('many frames in one chunk', () => {
  same(new FrameDecoder().push(wire), sample);
});

test('split into two chunks at every byte offset', () => {
  for (let at = 0; at <= wire.length; at++) {
    const decoder = new FrameDecoder();
    const frames = [...decoder.push(wire.subarray(0, at)), ...decoder.push(wire.subarray(at))];
    same(frames, sample);
    assert.is(decoder.bufferedBytes, 0);
  }
});

test('fed one byte at a time', () => {
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  for (let i = 0; i < wire.length; i++) frames.push(...decoder.push(wire.subarray(i, i + 1)));
  same(frames, sample);
});

test('a body inside one chunk is a view of it, not a copy', () => {
  const [frame] = new FrameDecoder().push(wire);
  assert.is(frame.body.buffer, wire.buffer);
});

test('an absurd length is refused from the header alone, before any allocation', () => {
  const decoder = new FrameDecoder();
  const header = Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 16]);
  try {
    decoder.push(header);
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.instance(err, FrameTooLargeError);
    assert.is((err as FrameTooLargeError).code, 'ERR_TROUPE_FRAME_TOO_LARGE');
  }
  assert.is(decoder.bufferedBytes, 0);
  // the decoder stays broken: the stream position is lost
  assert.throws(() => decoder.push(encodeFrame(16, Buffer.from('x'))), isA(FrameTooLargeError));
});

test('maxFrameBytes is the limit on the length field', () => {
  const decoder = new FrameDecoder({ maxFrameBytes: 10 });
  same(decoder.push(encodeFrame(16, Buffer.alloc(8))), [{ type: 16, body: Buffer.alloc(8) }]);
  assert.throws(() => decoder.push(encodeFrame(16, Buffer.alloc(9))), isA(FrameTooLargeError));
});

test('a large frame spread over many chunks is buffered as it arrives, not as declared', () => {
  const body = Buffer.alloc(1 << 20, 3);
  const frame = encodeFrame(20, body);
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  for (let at = 0; at < frame.length; at += 1000) {
    frames.push(...decoder.push(frame.subarray(at, at + 1000)));
    if (frames.length === 0) assert.is(decoder.bufferedBytes, Math.min(at + 1000, frame.length) - HEADER_BYTES);
  }
  same(frames, [{ type: 20, body }]);
});

test('a body past GATHER_FROM_BYTES, gathered into a buffer of its own, comes out whole and right', () => {
  const body = Buffer.from(Array.from({ length: GATHER_FROM_BYTES * 3 + 5 }, (_, i) => i % 251));
  const frame = encodeFrame(21, body);
  const decoder = new FrameDecoder();
  const chunks: Buffer[] = [];
  const frames: Frame[] = [];
  for (let at = 0; at < frame.length; at += 65_536) {
    const chunk = Buffer.from(frame.subarray(at, at + 65_536)); // a fresh buffer, as a socket gives
    chunks.push(chunk);
    frames.push(...decoder.push(chunk));
  }
  same(frames, [{ type: 21, body }]);
  const { byteOffset, byteLength, buffer } = frames[0].body;
  assert.is(byteOffset, HEADER_BYTES, 'the body starts as far into its buffer as into its first chunk, so that copies run aligned');
  assert.is(byteOffset + byteLength, buffer.byteLength, 'and fills the rest of it');
  assert.ok(chunks.every((c) => c.buffer !== frames[0].body.buffer));
  assert.is(decoder.bufferedBytes, 0);
  same(decoder.push(encodeFrame(16, Buffer.from('next'))), [{ type: 16, body: Buffer.from('next') }]);
});

test('a body joined from a few chunks starts as far into its buffer, modulo 16, as into its first chunk', () => {
  const body = Buffer.alloc(1_000, 7);
  const frame = encodeFrame(22, body);
  const decoder = new FrameDecoder();
  // Chunks of their own memory, as a socket gives (a small Buffer.from shares a pool).
  const chunk = (part: Buffer) => {
    const own = Buffer.allocUnsafeSlow(part.length);
    part.copy(own);
    return own;
  };
  const frames = [frame.subarray(0, 500), frame.subarray(500)].flatMap((part) => decoder.push(chunk(part)));
  same(frames, [{ type: 22, body }]);
  assert.is(frames[0].body.byteOffset % 16, HEADER_BYTES);
});

test('a wrong version is a ProtocolError', () => {
  const bad = encodeFrame(16, Buffer.from('x'));
  bad[4] = 2;
  assert.throws(() => new FrameDecoder().push(bad), (err: Error) => err instanceof ProtocolError && /version 2/.test(err.message));
});

test('lengths 0 and 1 are ProtocolErrors, even split across chunks', () => {
  for (const length of [0, 1]) {
    const decoder = new FrameDecoder();
    assert.equal(decoder.push(Buffer.from([0, 0])), []);
    assert.throws(() => decoder.push(Buffer.from([0, length, 1, 16])), isA(ProtocolError));
  }
});

test('an empty body is a frame of length 2', () => {
  same(new FrameDecoder().push(Buffer.from([0, 0, 0, 2, 1, 33])), [{ type: 33, body: Buffer.alloc(0) }]);
});

test('a Uint8Array chunk works like a Buffer', () => {
  same(new FrameDecoder().push(new Uint8Array(wire)), sample);
});

test.run();
