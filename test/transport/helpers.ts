/**
 * Shared by the transport suites: bounded waits (uvu has no per-test timeout), cleanup that
 * runs even when a test fails, and a hand-written handshake client so that the wire format
 * is checked against the description in auth.ts, not against the library's own client.
 */
import { createHmac, randomBytes } from 'node:crypto';
import * as net from 'node:net';

export const KEY = 'correct horse battery staple, 32b';
export const OTHER_KEY = 'a different key of enough length!';

/** Rejects if `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

interface Emitter {
  once(event: string, fn: (...args: any[]) => void): unknown;
  off(event: string, fn: (...args: any[]) => void): unknown;
}

/** The arguments of the next `event`, or a rejection after `ms`. */
export function nextEvent<A extends unknown[] = unknown[]>(emitter: Emitter, event: string, ms = 2000): Promise<A> {
  let listener!: (...args: any[]) => void;
  const p = new Promise<A>((resolve) => {
    listener = (...args) => resolve(args as A);
    emitter.once(event, listener);
  });
  return within(p, ms, `'${event}'`).catch((err) => {
    emitter.off(event, listener);
    throw err;
  });
}

/** Things to close after each test, whatever happened in it. */
export class Cleanup {
  #items: Array<() => unknown> = [];

  add<T extends { close(): unknown } | { destroy(): unknown }>(item: T): T {
    this.#items.push(() => ('destroy' in item ? item.destroy() : item.close()));
    return item;
  }

  defer(fn: () => unknown): void {
    this.#items.push(fn);
  }

  async run(): Promise<void> {
    const items = this.#items.splice(0).reverse();
    for (const fn of items) {
      try {
        await within(Promise.resolve(fn()), 3000, 'cleanup');
      } catch {}
    }
  }
}

/** A plain TCP socket, connected. */
export function rawSocket(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  return within(
    new Promise<net.Socket>((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    }),
    2000,
    'TCP connect',
  );
}

/** Reads exactly `n` bytes (or rejects on end/deadline), keeping any surplus for later reads. */
export function readExactly(socket: net.Socket, n: number, ms = 2000): Promise<Buffer> {
  const state = socket as net.Socket & { surplus?: Buffer };
  return within(
    new Promise<Buffer>((resolve, reject) => {
      let got = state.surplus ?? Buffer.alloc(0);
      const check = () => {
        if (got.length < n) return false;
        socket.off('data', onData);
        socket.off('end', onEnd);
        state.surplus = got.subarray(n);
        resolve(got.subarray(0, n));
        return true;
      };
      const onData = (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        check();
      };
      const onEnd = () => reject(new Error(`connection ended after ${got.length} of ${n} bytes`));
      if (check()) return;
      socket.on('data', onData);
      socket.once('end', onEnd);
    }),
    ms,
    `${n} bytes`,
  );
}

/** Resolves once the peer has closed `socket`. */
export function closedByPeer(socket: net.Socket, ms: number): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  socket.resume();
  return within(new Promise<void>((resolve) => socket.once('close', () => resolve())), ms, 'the server to close the socket');
}

/**
 * Runs the client side of the handshake by hand; resolves with the authenticated socket.
 * `afterProof` leaves in the same write as the proof, as a pipelining client would send it.
 */
export async function rawHandshake(port: number, key = KEY, afterProof: Uint8Array = Buffer.alloc(0)): Promise<net.Socket> {
  const socket = await rawSocket(port);
  const clientNonce = randomBytes(32);
  socket.write(Buffer.concat([Buffer.from('TROUPE'), Buffer.from([1, 0x63]), clientNonce]));
  const challenge = await readExactly(socket, 65);
  if (challenge[0] !== 0x53) throw new Error('no challenge');
  const serverNonce = challenge.subarray(1, 33);
  const expected = createHmac('sha256', key).update('troupe/server').update(clientNonce).update(serverNonce).digest();
  if (!expected.equals(challenge.subarray(33))) throw new Error('server MAC does not verify');
  const proof = createHmac('sha256', key).update('troupe/client').update(serverNonce).update(clientNonce).digest();
  socket.write(Buffer.concat([proof, afterProof]));
  const ok = await readExactly(socket, 1);
  if (ok[0] !== 0x06) throw new Error(`handshake refused (${ok[0]})`);
  return socket;
}

/** A bare TCP server on 127.0.0.1 for playing a misbehaving peer; `close()` also cuts its sockets. */
export async function rawServer(onSocket: (socket: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Plays the server side of the handshake by hand; resolves with the client's socket once OK is sent. */
export async function acceptRawHandshake(socket: net.Socket, key = KEY, afterOk: Uint8Array = Buffer.alloc(0)): Promise<net.Socket> {
  const hello = await readExactly(socket, 40);
  const clientNonce = hello.subarray(8);
  const serverNonce = randomBytes(32);
  const mac = createHmac('sha256', key).update('troupe/server').update(clientNonce).update(serverNonce).digest();
  socket.write(Buffer.concat([Buffer.from([0x53]), serverNonce, mac]));
  const proof = await readExactly(socket, 32);
  const expected = createHmac('sha256', key).update('troupe/client').update(serverNonce).update(clientNonce).digest();
  if (!proof.equals(expected)) throw new Error('client proof does not verify');
  // OK and whatever follows leave in one write, so the client gets them in one chunk
  socket.write(Buffer.concat([Buffer.from([0x06]), afterOk]));
  return socket;
}
