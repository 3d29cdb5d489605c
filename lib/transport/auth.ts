/**
 * The handshake, on the raw socket before any frame is decoded. Every message has a fixed
 * size, so a peer cannot make us buffer more than a few dozen bytes before it has proved
 * that it knows the authkey.
 *
 *   client → server  HELLO      "TROUPE" | version | role 'c' | client nonce (32)      40 B
 *   server → client  CHALLENGE  'S' | server nonce (32) | HMAC(key, "troupe/server" ‖ cN ‖ sN)   65 B
 *   client → server  PROOF      HMAC(key, "troupe/client" ‖ sN ‖ cN)                    32 B
 *   server → client  OK | FAIL                                                           1 B
 *
 * Both directions are challenged with fresh nonces, so neither side can replay an old
 * exchange, and the role labels keep one side's MAC from ever being valid as the other's.
 * The server answers every fault with the same FAIL byte, so a prober learns nothing about
 * which check it tripped. The key itself never leaves the process.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { AuthenticationError, InvalidOptionError, ProtocolError } from '../errors.js';
import { HandshakeReader } from './handshake-reader.js';

export const MAGIC = Buffer.from('TROUPE', 'latin1');
export const HANDSHAKE_VERSION = 1;
export const ROLE_CLIENT = 0x63; // 'c'
export const CHALLENGE_TAG = 0x53; // 'S'
export const REPLY_OK = 0x06;
export const REPLY_FAIL = 0x15;
export const NONCE_BYTES = 32;
export const MAC_BYTES = 32;
export const HELLO_BYTES = MAGIC.length + 2 + NONCE_BYTES;
export const CHALLENGE_BYTES = 1 + NONCE_BYTES + MAC_BYTES;
export const PROOF_BYTES = MAC_BYTES;
export const MIN_AUTHKEY_BYTES = 16;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;

const SERVER_LABEL = Buffer.from('troupe/server', 'latin1');
const CLIENT_LABEL = Buffer.from('troupe/client', 'latin1');

/** Accepts a string (UTF-8 bytes) or bytes; the length rule counts bytes, not characters. */
export function resolveAuthKey(authkey: unknown): Buffer {
  let key: Buffer;
  if (typeof authkey === 'string') key = Buffer.from(authkey, 'utf8');
  else if (authkey instanceof Uint8Array) key = Buffer.from(authkey);
  else throw new InvalidOptionError(`authkey must be a string or a Buffer (got ${typeof authkey})`);
  if (key.length < MIN_AUTHKEY_BYTES) {
    throw new InvalidOptionError(`authkey must be at least ${MIN_AUTHKEY_BYTES} bytes long (got ${key.length})`);
  }
  return key;
}

function mac(key: Buffer, label: Buffer, first: Buffer, second: Buffer): Buffer {
  return createHmac('sha256', key).update(label).update(first).update(second).digest();
}

export function helloMessage(clientNonce: Buffer): Buffer {
  return Buffer.concat([MAGIC, Buffer.from([HANDSHAKE_VERSION, ROLE_CLIENT]), clientNonce]);
}

export function serverMac(key: Buffer, clientNonce: Buffer, serverNonce: Buffer): Buffer {
  return mac(key, SERVER_LABEL, clientNonce, serverNonce);
}

export function clientMac(key: Buffer, serverNonce: Buffer, clientNonce: Buffer): Buffer {
  return mac(key, CLIENT_LABEL, serverNonce, clientNonce);
}

export interface HandshakeOptions {
  timeoutMs: number;
}

export interface ServerHandshakeOptions extends HandshakeOptions {
  /** Wait this long before answering HELLO: how repeated failures are slowed down. */
  delayMs?: number;
}

/**
 * Runs the client side. Call it right after creating the socket: the deadline then covers
 * connecting (and TLS) too. Resolves with the bytes that arrived after OK, which belong to
 * the first frames; the socket is left paused.
 */
export async function clientHandshake(socket: Socket, key: Buffer, options: HandshakeOptions): Promise<Buffer> {
  const reader = new HandshakeReader(socket, options.timeoutMs);
  try {
    const clientNonce = randomBytes(NONCE_BYTES);
    socket.write(helloMessage(clientNonce));
    const tag = (await reader.read(1))[0];
    if (tag === REPLY_FAIL) throw new AuthenticationError('the server refused the handshake');
    if (tag !== CHALLENGE_TAG) throw new ProtocolError('the server did not answer with a troupe handshake');
    const challenge = await reader.read(NONCE_BYTES + MAC_BYTES);
    const serverNonce = challenge.subarray(0, NONCE_BYTES);
    if (!timingSafeEqual(challenge.subarray(NONCE_BYTES), serverMac(key, clientNonce, serverNonce))) {
      // A deliberately wrong proof lets the server count the failure against us as well,
      // instead of a bare disconnect, without giving an impostor a proof for its nonce.
      endThenDestroy(socket, Buffer.alloc(PROOF_BYTES));
      throw new AuthenticationError('the server did not prove that it knows the authkey (the keys differ)');
    }
    socket.write(clientMac(key, serverNonce, clientNonce));
    const reply = (await reader.read(1))[0];
    if (reply === REPLY_FAIL) throw new AuthenticationError('the server refused the authkey');
    if (reply !== REPLY_OK) throw new ProtocolError('the server did not answer with a troupe handshake');
    return reader.finish();
  } catch (err) {
    reader.abort(err as Error);
    if (!socket.writableEnded) socket.destroy();
    throw err;
  }
}

/**
 * Runs the server side. Any fault is answered with the one FAIL byte and the socket is
 * ended; the rejection carries the detailed reason (AuthenticationError,
 * HandshakeTimeoutError, PeerLostError), for the server's log and 'authFailure' only.
 */
export async function serverHandshake(socket: Socket, key: Buffer, options: ServerHandshakeOptions): Promise<Buffer> {
  const reader = new HandshakeReader(socket, options.timeoutMs + (options.delayMs ?? 0));
  try {
    const hello = await reader.read(HELLO_BYTES);
    if (!hello.subarray(0, MAGIC.length).equals(MAGIC)) throw new AuthenticationError('bad magic in HELLO');
    if (hello[MAGIC.length] !== HANDSHAKE_VERSION) {
      throw new AuthenticationError(`unsupported handshake version ${hello[MAGIC.length]}`);
    }
    if (hello[MAGIC.length + 1] !== ROLE_CLIENT) throw new AuthenticationError('HELLO is not from a client');
    if (options.delayMs) await reader.sleep(options.delayMs);
    // The client cannot know our nonce yet, so any byte beyond HELLO is not a proof.
    if (reader.buffered > 0) throw new AuthenticationError('bytes sent before the challenge');
    const clientNonce = hello.subarray(MAGIC.length + 2);
    const serverNonce = randomBytes(NONCE_BYTES);
    socket.write(Buffer.concat([Buffer.from([CHALLENGE_TAG]), serverNonce, serverMac(key, clientNonce, serverNonce)]));
    const proof = await reader.read(PROOF_BYTES);
    if (!timingSafeEqual(proof, clientMac(key, serverNonce, clientNonce))) {
      throw new AuthenticationError('wrong proof: the client does not know the authkey');
    }
    socket.write(Buffer.from([REPLY_OK]));
    return reader.finish();
  } catch (err) {
    reader.abort(err as Error);
    endThenDestroy(socket, Buffer.from([REPLY_FAIL]));
    throw err;
  }
}

/** Sends a last message, then destroys once it is flushed: a hostile peer may never send FIN. */
function endThenDestroy(socket: Socket, last: Buffer): void {
  if (socket.destroyed || socket.writableEnded) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const timer = setTimeout(() => socket.destroy(), 1000).unref();
  socket.end(last, () => {
    clearTimeout(timer);
    socket.destroy();
  });
}
