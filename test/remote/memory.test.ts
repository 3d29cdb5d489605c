import { connect as rawConnect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rawHandshake } from '../transport/helpers.js';
import { HOST, newKey, Scope, TASKS, within } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Opens a raw socket, writes `bytes`, and waits (bounded) for the server to close it. */
function hit(port: number, bytes: Buffer): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const socket = rawConnect({ host: HOST, port }, () => socket.write(bytes));
      socket.on('error', () => {});
      socket.on('close', () => resolve());
      socket.resume(); // the reply must be read for the end, and so the close, to come
    }),
    15_000,
    'the pool to close a hostile connection',
  );
}

test("four hundred hostile connections leave the pool's memory where it was, and the pool serving", async () => {
  const scope = new Scope();
  try {
    const key = newKey().toString('hex');
    const { pool } = await scope.pool({ tasks: TASKS, size: 1, listen: { host: HOST, port: 0, authkey: key } });
    const { port } = pool.address()!;
    assert.is(await pool.run('square', [3]), 9);
    const before = heapAfterGc();
    // Authenticated peers announcing a 4 GiB frame: refused before anything is allocated.
    for (let i = 0; i < 200; i++) {
      const socket = await rawHandshake(port, key);
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 16]));
      await within(closed, 5000, 'the pool to close a peer announcing a 4 GiB frame');
    }
    // Garbage instead of a handshake, in parallel waves (the failure limiter soon cuts them short).
    for (let wave = 0; wave < 5; wave++) {
      await Promise.all(Array.from({ length: 40 }, () => hit(port, Buffer.alloc(4096, 0xff))));
    }
    const growth = heapAfterGc() - before;
    assert.ok(growth < 8 * 1024 * 1024, `the heap grew by ${(growth / 1048576).toFixed(1)} MiB`);
    assert.is(await pool.run('square', [4]), 16, 'the pool still serves');
  } finally {
    await scope.close();
  }
});

test.run();
