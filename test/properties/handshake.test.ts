/**
 * Property tests of the server side of the handshake: whatever a client sends before it
 * has proved the key, cut into whatever chunks, the handshake rejects with a TroupeError,
 * answers at most the challenge and one FAIL byte, and holds at most 64 KiB.
 */
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TroupeError } from '../../lib/errors.js';
import { CHALLENGE_BYTES, helloMessage, serverHandshake } from '../../lib/transport/auth.js';
import { HandshakeReader } from '../../lib/transport/handshake-reader.js';
import { chunked } from './chunks.js';

const KEY = Buffer.from('correct horse battery staple, 32b');

/** An in-memory socket: what the test pushes is what the handshake reads. */
function memorySocket() {
  const written: Buffer[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk, _encoding, callback) {
      written.push(Buffer.from(chunk));
      callback();
    },
  });
  return { socket, written };
}

test('arbitrary client bytes: a TroupeError, at most challenge + FAIL written', async () => {
  const prefix = fc.oneof(fc.constant(Buffer.alloc(0)), fc.constant(helloMessage(randomBytes(32))));
  await fc.assert(
    fc.asyncProperty(prefix, fc.uint8Array({ maxLength: 70_000 }), fc.array(fc.nat(), { maxLength: 30 }), async (head, tail, cuts) => {
      const { socket, written } = memorySocket();
      const result = serverHandshake(socket as unknown as Socket, KEY, { timeoutMs: 2000 }).then(
        () => undefined,
        (err: unknown) => err,
      );
      for (const chunk of chunked(Buffer.concat([head, tail]), cuts)) {
        socket.push(Buffer.from(chunk));
        await new Promise((r) => setImmediate(r));
      }
      socket.push(null);
      const err = await result;
      assert.instance(err, TroupeError);
      const out = Buffer.concat(written).length;
      assert.ok(out <= CHALLENGE_BYTES + 1, `${out} bytes written back`);
      socket.destroy();
    }),
    { numRuns: 150 },
  );
});

test('the reader never holds more than 64 KiB, whatever the chunks', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 20_000 }), { maxLength: 20 }),
      fc.integer({ min: 1, max: 100 }),
      async (chunkSizes, readBytes) => {
        const { socket } = memorySocket();
        const reader = new HandshakeReader(socket as unknown as Socket, 2000);
        reader.read(readBytes).catch(() => {});
        let max = 0;
        for (const size of chunkSizes) {
          socket.push(Buffer.alloc(size));
          await new Promise((r) => setImmediate(r));
          max = Math.max(max, reader.buffered);
        }
        assert.ok(max <= 64 * 1024, `${max} bytes held`);
        reader.abort(new Error('done'));
        socket.destroy();
      },
    ),
    { numRuns: 100 },
  );
});

test.run();
