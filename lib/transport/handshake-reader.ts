/**
 * Exact-size reads from a socket under one deadline, for the handshake. It owns the
 * socket's listeners until `finish()`, which pauses the socket and returns whatever arrived
 * past the last read, so the frame decoder starts at the right byte and nothing is lost.
 */
import type { Socket } from 'node:net';
import { HandshakeTimeoutError, PeerLostError, ProtocolError } from '../errors.js';

/**
 * Handshake messages are tens of bytes; past this much unread input (e.g. sent while the
 * server is slowing a suspect address down) the peer is flooding, not handshaking.
 */
const MAX_BUFFERED_BYTES = 64 * 1024;

interface Pending {
  bytes: number;
  resolve(data: Buffer): void;
  reject(err: Error): void;
}

export class HandshakeReader {
  readonly #socket: Socket;
  readonly #timer: NodeJS.Timeout;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #pending: Pending | undefined;
  #sleeping: { timer: NodeJS.Timeout; reject(err: Error): void } | undefined;
  #fault: Error | undefined;

  readonly #onData = (chunk: Buffer): void => {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#buffered > MAX_BUFFERED_BYTES) {
      this.abort(new ProtocolError(`more than ${MAX_BUFFERED_BYTES} bytes sent during the handshake`));
      return;
    }
    this.#satisfy();
  };
  readonly #onEnd = (): void => this.abort(new PeerLostError('the peer closed the connection during the handshake'));
  readonly #onError = (err: Error): void => this.abort(err);

  constructor(socket: Socket, timeoutMs: number) {
    this.#socket = socket;
    // unref'd: the socket itself keeps the process alive while it matters
    this.#timer = setTimeout(() => this.abort(new HandshakeTimeoutError(timeoutMs)), timeoutMs).unref();
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
    socket.on('error', this.#onError);
  }

  /** Bytes received and not yet read. */
  get buffered(): number {
    return this.#buffered;
  }

  read(bytes: number): Promise<Buffer> {
    if (this.#fault) return Promise.reject(this.#fault);
    return new Promise((resolve, reject) => {
      this.#pending = { bytes, resolve, reject };
      this.#satisfy();
    });
  }

  /** A pause that the deadline and the peer's disconnect still interrupt. */
  sleep(ms: number): Promise<void> {
    if (this.#fault) return Promise.reject(this.#fault);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#sleeping = undefined;
        resolve();
      }, ms).unref();
      this.#sleeping = { timer, reject };
    });
  }

  /** Stops the handshake with `err`; the error listener stays so a late socket error is not fatal. */
  abort(err: Error): void {
    if (this.#fault) return;
    this.#fault = err;
    clearTimeout(this.#timer);
    this.#socket.off('data', this.#onData);
    this.#chunks = [];
    this.#buffered = 0;
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(err);
    if (this.#sleeping) {
      clearTimeout(this.#sleeping.timer);
      this.#sleeping.reject(err);
      this.#sleeping = undefined;
    }
  }

  /** Hands the socket over, paused, with the bytes that arrived beyond the handshake. */
  finish(): Buffer {
    if (this.#fault) throw this.#fault;
    this.#socket.pause();
    clearTimeout(this.#timer);
    this.#socket.off('data', this.#onData);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('close', this.#onEnd);
    this.#socket.off('error', this.#onError);
    this.#fault = new Error('handshake reader already finished');
    const leftover = Buffer.concat(this.#chunks, this.#buffered);
    this.#chunks = [];
    this.#buffered = 0;
    return leftover;
  }

  #satisfy(): void {
    const pending = this.#pending;
    if (!pending || this.#buffered < pending.bytes) return;
    this.#pending = undefined;
    const all = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks, this.#buffered);
    const data = all.subarray(0, pending.bytes);
    const rest = all.subarray(pending.bytes);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    pending.resolve(data);
  }
}
