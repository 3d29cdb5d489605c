/**
 * The hostile host's program: attacks the scheduler at argv[2]:argv[3] on command (one
 * JSON line on stdin each), and reports when each attack has been delivered.
 *
 *   { cmd: 'garbage', count }        pre-auth: random bytes instead of a handshake
 *   { cmd: 'slowloris', count, ms }  pre-auth: sockets that dribble a HELLO a byte at a time
 *   { cmd: 'pingflood', ms }         post-auth: PINGs as fast as possible, never reading
 *   { cmd: 'partial', count, mib }   post-auth: frames that announce `mib` MiB, send most, stall
 *   { cmd: 'forged', index }         post-auth: frame `index` of forge.ts, on a connection of its own
 *   { cmd: 'close' }                 drop every socket
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { createInterface } from 'node:readline';
import { clientHandshake, helloMessage, resolveAuthKey } from '../../lib/transport/auth.js';
import { PING_FRAME, helloFrame, hugeFrameHeader, postAuthFrames } from './forge.js';

// Authenticated attacks come from a second address of the host: its first one is the one
// that sends garbage, and the server rightly slows that one down.
const [host, port, authedFrom] = [process.argv[2], Number(process.argv[3]), process.argv[4]];
const key = resolveAuthKey(process.env.TROUPE_HOSTS_KEY);
const sockets = new Set<net.Socket>();

function emit(ev: string, data: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ ev, t: Date.now(), ...data })}\n`);
}

function raw(localAddress?: string): Promise<net.Socket> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, localAddress });
    s.on('error', () => {});
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(s));
  });
}

/**
 * An authenticated socket (the hostile host knows the key) that has introduced itself as
 * an agent: from here on it writes whatever bytes it likes.
 */
async function authed(): Promise<net.Socket> {
  const socket = await raw(authedFrom);
  await clientHandshake(socket, key, { timeoutMs: 5000 });
  socket.resume();
  socket.write(helloFrame(['echo']));
  return socket;
}

async function garbage(count: number): Promise<void> {
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async () => {
        const s = await raw();
        s.end(randomBytes(64));
      }),
    );
  }
}

async function slowloris(count: number, ms: number): Promise<void> {
  const hello = helloMessage(randomBytes(32));
  const all = await Promise.all(Array.from({ length: count }, () => raw()));
  const started = Date.now();
  let at = 0;
  while (Date.now() - started < ms) {
    for (const s of all) if (!s.destroyed && at < hello.length - 1) s.write(hello.subarray(at, at + 1));
    at++;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function pingFlood(ms: number): Promise<number> {
  const socket = await authed();
  socket.pause();
  const batch = Buffer.concat(Array(10_000).fill(PING_FRAME));
  const started = Date.now();
  let sent = 0;
  while (Date.now() - started < ms && !socket.destroyed) {
    if (!socket.write(batch)) await new Promise((r) => setTimeout(r, 5));
    sent += 10_000;
  }
  return sent;
}

async function partial(count: number, mib: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const socket = await authed();
    socket.write(hugeFrameHeader(mib * 1024 * 1024));
    const chunk = Buffer.alloc(1024 * 1024);
    for (let m = 0; m < mib - 1 && !socket.destroyed; m++) {
      if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r).once('close', r));
    }
    // then a byte now and then, so the heartbeat does not end it: it holds what it sent
    const dribble = setInterval(() => (socket.destroyed ? clearInterval(dribble) : socket.write(Buffer.alloc(1))), 500);
    socket.once('close', () => clearInterval(dribble));
  }
}

async function forged(index: number): Promise<string[]> {
  const outcomes: string[] = [];
  for (const { what, bytes } of postAuthFrames().slice(index, index + 1)) {
    const socket = await authed();
    await new Promise((r) => setTimeout(r, 100));
    socket.write(bytes);
    const closed = await Promise.race([
      new Promise<boolean>((r) => socket.once('close', () => r(true))),
      new Promise<boolean>((r) => setTimeout(() => r(false), 1500)),
    ]);
    outcomes.push(`${what}: ${closed ? 'connection closed' : 'ignored'}`);
  }
  return outcomes;
}

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const c = JSON.parse(line) as { cmd: string; count?: number; ms?: number; mib?: number; index?: number };
  try {
    if (c.cmd === 'garbage') await garbage(c.count ?? 1000);
    else if (c.cmd === 'slowloris') void slowloris(c.count ?? 200, c.ms ?? 10_000).catch(() => {});
    else if (c.cmd === 'pingflood') {
      void pingFlood(c.ms ?? 5000).then(
        (sent) => emit('flooded', { sent }),
        (error: Error) => emit('flooded', { error: error.message }),
      );
    }
    else if (c.cmd === 'partial') await partial(c.count ?? 4, c.mib ?? 60);
    else if (c.cmd === 'forged') emit('forged', { outcomes: await forged(c.index ?? 0) });
    else if (c.cmd === 'close') {
      for (const s of sockets) s.destroy();
    }
    emit('delivered', { cmd: c.cmd });
  } catch (error) {
    emit('delivered', { cmd: c.cmd, error: (error as Error).message });
  }
}
process.exit(0);
