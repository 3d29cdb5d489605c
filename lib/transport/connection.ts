/**
 * An authenticated, framed, heart-beating message pipe over one TCP (or TLS) socket.
 */
import { EventEmitter } from 'eventemitter3';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { AuthenticationError, FrameTooLargeError, PeerLostError, ProtocolError, TroupeError } from '../errors.js';
import { clientHandshake } from './auth.js';
import { decode, encode } from './codec.js';
import { FrameDecoder, MIN_FRAME_LENGTH, encodeFrame, encodeFrameHeader, type Frame } from './framing.js';
import { debug } from '../debug.js';
import type { FrameBudget, FrameBudgetAccount } from './frame-budget.js';
import { Heartbeat } from './heartbeat.js';
import { atTurnEnd } from '../timers.js';
import { resolveTransportOptions, type ConnectOptions, type ResolvedTransportOptions } from './options.js';

/** Frame types the transport keeps for itself; 2–15 are reserved and refused. */
export const FRAME_PING = 0;
export const FRAME_PONG = 1;
/** Application messages use types 16–255. */
export const MIN_MESSAGE_TYPE = 16;
export const MAX_MESSAGE_TYPE = 255;

/** Up to this many queued bytes are joined into one buffer; beyond, they go out as one writev. */
const COALESCE_BYTES = 64 * 1024;
const PONG = encodeFrame(FRAME_PONG);
const PING = encodeFrame(FRAME_PING);

export interface ConnectionEvents {
  message: [type: number, value: unknown];
  /** Emitted after `send()` returned false, once the socket has flushed its buffer. */
  drain: [];
  /** Once. `error` says why, unless this side closed or destroyed it without one. */
  close: [error?: Error];
}

export type ConnectionSettings = Pick<ResolvedTransportOptions, 'maxFrameBytes' | 'heartbeatIntervalMs' | 'heartbeatTimeoutMs'>;

export class Connection extends EventEmitter<ConnectionEvents> {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #socket: net.Socket;
  readonly #decoder: FrameDecoder;
  readonly #heartbeat: Heartbeat;
  readonly #maxFrameBytes: number;
  readonly #closeGraceMs: number;
  /** This connection's share of its server's partial-frame budget (none on a client). */
  readonly #budget: FrameBudgetAccount | undefined;
  #queue: Buffer[] = [];
  #queuedBytes = 0;
  /** Control frames (PING, PONG) queued and not yet handed to the socket. */
  readonly #controlQueued = new Set<Buffer>();
  #flushScheduled = false;
  #needDrain = false;
  #jsonBodies = false;
  #state: 'open' | 'closing' | 'closed' = 'open';
  #reason: Error | undefined;
  #closeTimer: NodeJS.Timeout | undefined;
  #resolveClosed!: () => void;
  readonly #closed = new Promise<void>((resolve) => (this.#resolveClosed = resolve));

  /**
   * @internal Made by `connect()` and `TransportServer` from an authenticated, paused socket.
   * Reading starts on the next turn of the event loop, so whoever receives the connection
   * can attach its 'message' listener first; bytes that came with the handshake come first.
   */
  constructor(socket: net.Socket, leftover: Buffer, settings: ConnectionSettings, budget?: FrameBudget) {
    super();
    this.#budget = budget?.open((error) => this.destroy(error));
    this.#socket = socket;
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.remotePort = socket.remotePort ?? 0;
    this.#maxFrameBytes = settings.maxFrameBytes;
    this.#closeGraceMs = settings.heartbeatTimeoutMs;
    this.#decoder = new FrameDecoder({ maxFrameBytes: settings.maxFrameBytes });
    this.#heartbeat = new Heartbeat(
      {
        sendPing: () => this.#sendControl(PING),
        onDead: (silentMs, ownStallMs) =>
          this.destroy(new PeerLostError(`no data from the peer for ${Math.round(silentMs)} ms`, undefined, ownStallMs)),
      },
      { intervalMs: settings.heartbeatIntervalMs, timeoutMs: settings.heartbeatTimeoutMs },
    );
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('drain', this.#onDrain);
    if (socket.destroyed) {
      atTurnEnd(this.#onClose);
      return;
    }
    this.#heartbeat.start();
    setImmediate(() => {
      if (this.#state === 'closed') return;
      socket.on('data', this.#onData);
      if (leftover.length > 0) this.#onData(leftover);
      socket.resume();
    });
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** From now on, small frames of JSON values go as JSON text (codec.ts): the peer has said it reads them. */
  useJsonBodies(): void {
    this.#jsonBodies = true;
  }

  /**
   * Queues one message; frames queued in the same tick leave in one socket write. Returns
   * false once the socket's buffer is over its high-water mark: stop sending until 'drain'.
   * Throws (before anything is queued) if the value cannot be serialized, is larger than
   * maxFrameBytes, or the connection is closing.
   */
  send(type: number, value: unknown): boolean {
    if (!Number.isInteger(type) || type < MIN_MESSAGE_TYPE || type > MAX_MESSAGE_TYPE) {
      throw new RangeError(`message type must be an integer from ${MIN_MESSAGE_TYPE} to ${MAX_MESSAGE_TYPE} (got ${type})`);
    }
    if (this.#state !== 'open') throw new PeerLostError(`cannot send: the connection is ${this.#state}`);
    const body = encode(value, this.#jsonBodies);
    if (MIN_FRAME_LENGTH + body.length > this.#maxFrameBytes) {
      throw new FrameTooLargeError(MIN_FRAME_LENGTH + body.length, this.#maxFrameBytes);
    }
    this.#enqueue(encodeFrameHeader(type, body.length), body);
    if (this.#needDrain || !this.#congested) {
      return !this.#needDrain;
    }
    // Whoever was told false waits for 'drain': it comes once the socket has taken it all.
    this.#needDrain = true;
    return false;
  }

  /** Sends what is queued, then ends the connection; resolves once it is closed. */
  close(): Promise<void> {
    if (this.#state !== 'open') return this.#closed;
    this.#state = 'closing';
    this.#heartbeat.stop();
    this.#flush();
    this.#socket.end();
    // a peer that never answers our FIN must not hold the socket forever
    this.#closeTimer = setTimeout(() => this.#socket.destroy(), this.#closeGraceMs).unref();
    return this.#closed;
  }

  /** Closes now, dropping anything unsent; 'close' carries `error`. */
  destroy(error?: Error): void {
    if (this.#state === 'closed') return;
    this.#reason ??= error;
    this.#heartbeat.stop();
    this.#budget?.release();
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#socket.destroy();
  }

  /** Lets the process exit while this connection is open (and undoes that). */
  unref(): this {
    this.#socket.unref();
    return this;
  }

  ref(): this {
    this.#socket.ref();
    return this;
  }

  /**
   * A PING or PONG: at most one of each waits in our queue, and none is added while the
   * socket is over its high-water mark. A peer that pings without reading then costs us
   * nothing; a peer that does read still sees our data arrive, which counts as life.
   */
  #sendControl(frame: Buffer): void {
    if (this.#controlQueued.has(frame) || this.#congested) return;
    this.#controlQueued.add(frame);
    this.#enqueue(frame);
  }

  get #congested(): boolean {
    return this.#queuedBytes + this.#socket.writableLength >= this.#socket.writableHighWaterMark;
  }

  #enqueue(...buffers: Buffer[]): void {
    if (this.#state !== 'open') return;
    for (const b of buffers) {
      this.#queue.push(b);
      this.#queuedBytes += b.length;
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      atTurnEnd(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    this.#controlQueued.clear();
    const queue = this.#queue;
    const bytes = this.#queuedBytes;
    this.#queue = [];
    this.#queuedBytes = 0;
    if (queue.length === 0 || !this.#socket.writable) return;
    let ok: boolean;
    if (bytes <= COALESCE_BYTES) {
      ok = this.#socket.write(queue.length === 1 ? queue[0] : Buffer.concat(queue, bytes));
    } else {
      this.#socket.cork();
      ok = true;
      for (const b of queue) ok = this.#socket.write(b);
      this.#socket.uncork();
    }
    if (!ok) this.#needDrain = true;
    // Said full before the flush, but the socket took everything: the socket will not emit
    // 'drain', so say it here.
    else if (this.#needDrain) setImmediate(this.#onDrain);
  };

  readonly #onData = (chunk: Buffer): void => {
    this.#heartbeat.touch();
    let frames: Frame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (err) {
      this.destroy(err as Error);
      return;
    }
    this.#budget?.set(this.#decoder.bufferedBytes);
    for (const frame of frames) {
      if (this.#state === 'closed' || this.#socket.destroyed) return;
      this.#dispatch(frame);
    }
  };

  #dispatch(frame: Frame): void {
    if (frame.type === FRAME_PING) {
      this.#sendControl(PONG);
      return;
    }
    if (frame.type === FRAME_PONG) return;
    if (frame.type < MIN_MESSAGE_TYPE) {
      this.destroy(new ProtocolError(`unknown frame type ${frame.type}`));
      return;
    }
    let value: unknown;
    try {
      value = decode(frame.body);
    } catch (err) {
      this.destroy(err as Error);
      return;
    }
    this.emit('message', frame.type, value);
  }

  readonly #onDrain = (): void => {
    if (!this.#needDrain) return;
    this.#needDrain = false;
    this.emit('drain');
  };

  readonly #onEnd = (): void => {
    if (this.#state === 'open') this.#reason ??= new PeerLostError('the peer closed the connection');
  };

  readonly #onError = (err: Error): void => {
    this.#reason ??= err instanceof TroupeError ? err : new PeerLostError(`connection error: ${err.message}`, err);
  };

  readonly #onClose = (): void => {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    const ownStallMs = this.#heartbeat.ownStallMs();
    this.#heartbeat.stop();
    this.#budget?.release();
    clearTimeout(this.#closeTimer);
    this.#queue = [];
    this.#queuedBytes = 0;
    let reason = this.#reason;
    if (reason instanceof PeerLostError && ownStallMs > 0 && !reason.afterOwnStall) {
      reason = new PeerLostError(reason.message, reason.cause, ownStallMs);
    }
    debug('connection to %s:%d closed: %s', this.remoteAddress, this.remotePort, reason?.message ?? 'by this side');
    this.emit('close', reason);
    this.#resolveClosed();
  };
}

/**
 * Connects and authenticates. Rejects with AuthenticationError when either side does not
 * know the key (or TLS refuses us), HandshakeTimeoutError past `handshakeTimeoutMs`, and
 * the socket's own error (e.g. ECONNREFUSED) when nothing answers.
 */
export async function connect(options: ConnectOptions): Promise<Connection> {
  const o = resolveTransportOptions(options, 'client');
  const socket = o.tls
    ? tls.connect({
        host: o.host,
        port: o.port,
        ca: o.tls.ca,
        cert: o.tls.cert,
        key: o.tls.key,
        servername: o.tls.servername,
        minVersion: 'TLSv1.2',
      })
    : net.connect({ host: o.host, port: o.port });
  socket.setNoDelay(true);
  // Between the handshake and the Connection's own listener, a late error must not be fatal.
  socket.on('error', () => {});
  let connected = false;
  socket.once('connect', () => (connected = true));
  try {
    const leftover = await clientHandshake(socket, o.authkey, { timeoutMs: o.handshakeTimeoutMs });
    return new Connection(socket, leftover, o);
  } catch (err) {
    throw handshakeFault(err as Error, connected, o.tls !== undefined);
  }
}

/**
 * TLS refusals (bad or missing certificate) are authentication failures to the caller; a
 * reset after connecting is a lost peer; ECONNREFUSED and the like stay as they are.
 */
function handshakeFault(err: Error, connected: boolean, tls: boolean): Error {
  if (err instanceof TroupeError) return err;
  const code = String((err as { code?: unknown }).code ?? '');
  if (tls && /SSL|TLS|CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    const wrapped = new AuthenticationError(`TLS refused the connection: ${err.message}`);
    Object.defineProperty(wrapped, 'cause', { value: err, writable: true, configurable: true });
    return wrapped;
  }
  if (connected) return new PeerLostError(`the connection was lost during the handshake: ${err.message}`, err);
  return err;
}
