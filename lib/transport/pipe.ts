/**
 * Messages over a local pipe between a pool and a worker process of its own: the TCP
 * wire's frames and codec (a small frame of JSON values as JSON text, any other as v8
 * bytes, so bytes travel as bytes), plus a frame for a bare string, the form of the common
 * batch and its results. No handshake or heartbeats: both ends are this machine's code,
 * started by the pool itself.
 *
 * Why not Node's IPC channel: its 'advanced' serialization builds a serializer, a
 * deserializer and a joined buffer per message, and its JSON one turns bytes into arrays of
 * numbers. Pinned to one CPU, a round trip of a short string took 28.7 µs over 'advanced'
 * IPC, 26.0 µs over JSON IPC and 22 µs as bare writes on a pipe; a lone task's round trip
 * to a worker process went from 34–36 µs over 'advanced' IPC to 28–31 µs on this pipe.
 */
import type { Socket } from 'node:net';
import { debug } from '../debug.js';
import { ProtocolError } from '../errors.js';
import { decode, encode } from './codec.js';
import { FrameDecoder, MAX_FRAME_BYTES_LIMIT, encodeFrame, encodeFrameHeader, encodeTextFrame, type Frame } from './framing.js';

/** A value in the codec's format (codec.ts): what a message is, its own fields say. */
const FRAME_VALUE = 0;
/** A string, as UTF-8 bytes: the common batch and its results (worker/compact-forms.ts), without JSON's quoting. */
const FRAME_TEXT = 1;

/** A body up to this size is copied behind its header, for one write; a larger one goes beside it. */
const COPY_BELOW_BYTES = 64 * 1024;

function readFrame(frame: Frame): unknown {
  if (frame.type === FRAME_TEXT) return frame.body.toString('utf8');
  if (frame.type === FRAME_VALUE) return decode(frame.body);
  throw new ProtocolError(`unknown frame type ${frame.type}`);
}

export interface PipeHandlers {
  message(value: unknown): void;
  /** Bytes that are not a frame of a value: the pipe is closed, and nothing more is read. */
  fault(error: Error): void;
  /** The pipe closed, whatever closed it. */
  closed(): void;
}

export class FramePipe {
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder({ maxFrameBytes: MAX_FRAME_BYTES_LIMIT });
  readonly #closed: Promise<void>;

  constructor(socket: Socket, handlers: PipeHandlers) {
    this.#socket = socket;
    // A peer that died makes writes fail with EPIPE: each write's callback hears of it, and
    // 'close' follows any error.
    socket.on('error', (error) => debug('pipe: %s', error.message));
    this.#closed = new Promise((resolve) => {
      socket.once('close', () => {
        resolve();
        handlers.closed();
      });
    });
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.#decoder.push(chunk);
      } catch (error) {
        return this.#fault(error as Error, handlers);
      }
      for (const frame of frames) {
        if (socket.destroyed) return;
        let value: unknown;
        try {
          value = readFrame(frame);
        } catch (error) {
          return this.#fault(error as Error, handlers);
        }
        handlers.message(value);
      }
    });
  }

  #fault(error: Error, handlers: PipeHandlers): void {
    this.#socket.destroy();
    handlers.fault(error);
  }

  /**
   * Resolves once everything the peer wrote has been read and the pipe is closed (its end of
   * the pipe closes when it exits), or after `ms` at most: a process it started may hold the
   * pipe open. Then destroys the pipe.
   */
  async drained(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
    this.#socket.destroy();
  }

  get writable(): boolean {
    return this.#socket.writable;
  }

  /**
   * Writes one message; `written` is called once it is handed to the system, or with the
   * error that stopped it. Returns false once the socket's buffer is over its high-water
   * mark. Throws (before anything is written) if the value cannot be serialized.
   */
  send(value: unknown, written?: (error?: Error | null) => void): boolean {
    if (typeof value === 'string' && value.length < COPY_BELOW_BYTES) return this.#socket.write(encodeTextFrame(FRAME_TEXT, value), written);
    const body = encode(value, true);
    if (body.length < COPY_BELOW_BYTES) return this.#socket.write(encodeFrame(FRAME_VALUE, body), written);
    const header = encodeFrameHeader(FRAME_VALUE, body.length);
    this.#socket.cork();
    this.#socket.write(header);
    const accepted = this.#socket.write(body, written);
    this.#socket.uncork();
    return accepted;
  }

  ref(): void {
    this.#socket.ref();
  }

  unref(): void {
    this.#socket.unref();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}
