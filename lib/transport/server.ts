/**
 * Accepts TCP (or TLS) connections, authenticates each, and hands out Connections.
 * Whatever one peer does, the fault stays with its own socket.
 */
import { EventEmitter } from 'eventemitter3';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { AuthenticationError } from '../errors.js';
import { serverHandshake } from './auth.js';
import { Connection } from './connection.js';
import { debug } from '../debug.js';
import { FailureLimiter } from './failure-limiter.js';
import { FrameBudget } from './frame-budget.js';
import { resolveTransportOptions, type ListenOptions, type ResolvedTransportOptions } from './options.js';

/** Past this many unauthenticated sockets at once, new ones are closed: a flood costs little. */
const MAX_PENDING_HANDSHAKES = 512;

export interface TransportServerEvents {
  /** An authenticated peer. Attach 'message' before returning from the listener. */
  connection: [connection: Connection];
  /** A handshake failed or was refused; `error` has the detail that the peer was not told. */
  authFailure: [address: string, error: Error];
  error: [error: Error];
  close: [];
}

export class TransportServer extends EventEmitter<TransportServerEvents> {
  readonly #server: net.Server;
  readonly #options: ResolvedTransportOptions;
  readonly #limiter: FailureLimiter;
  readonly #frameBudget: FrameBudget;
  readonly #sockets = new Set<net.Socket>();
  readonly #handshaking = new Set<net.Socket>();
  readonly #connections = new Set<Connection>();
  #address = { host: '', port: 0 };
  #closing: Promise<void> | undefined;

  /** @internal use `listen()` */
  /** The options it listens with, resolved. */
  get options(): ResolvedTransportOptions {
    return this.#options;
  }

  constructor(server: net.Server, options: ResolvedTransportOptions, limiter = new FailureLimiter()) {
    super();
    this.#server = server;
    this.#options = options;
    this.#limiter = limiter;
    this.#frameBudget = new FrameBudget(options.maxPartialFrameBytes);
    server.on('listening', () => {
      const info = server.address() as net.AddressInfo;
      this.#address = { host: info.address, port: info.port };
      debug('listening on %s:%d%s', info.address, info.port, options.tls ? ' (TLS)' : '');
    });
    server.on('connection', (socket: net.Socket) => {
      // Raw sockets are tracked so close() can cut those still in a TLS handshake too, and
      // counted so that a flood of unauthenticated ones is cut before any TLS or HMAC work.
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      if (this.#sockets.size - this.#connections.size > MAX_PENDING_HANDSHAKES) {
        debug('refused %s: %d handshakes already pending', socket.remoteAddress, MAX_PENDING_HANDSHAKES);
        socket.destroy();
        return;
      }
      if (!(server instanceof tls.Server)) this.#accept(socket);
    });
    if (server instanceof tls.Server) {
      server.on('secureConnection', (socket: tls.TLSSocket) => this.#accept(socket));
      server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
        // a refused client certificate surfaces as a bare hang-up; say what was wrong with it
        const refused = socket.authorizationError;
        const reason = refused ? new AuthenticationError(`client certificate refused: ${String(refused)}`) : err;
        if (socket.remoteAddress) this.#failed(socket.remoteAddress, reason);
        else this.#report('unknown', reason);
      });
    }
    server.on('error', (err) => this.emit('error', err));
  }

  /** Where it listens; `port` is the one picked when listening on port 0. */
  address(): { host: string; port: number } {
    return { ...this.#address };
  }

  /** Bytes of frames still arriving, over all connections: at most `maxPartialFrameBytes`. */
  get partialFrameBytes(): number {
    return this.#frameBudget.usedBytes;
  }

  /** Authenticated connections currently open. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Stops accepting and destroys every connection; resolves once all is closed. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const connection of this.#connections) connection.destroy();
      for (const socket of this.#handshaking) socket.destroy();
      for (const socket of this.#sockets) socket.destroy();
    }).then(() => {
      this.emit('close');
    });
    return this.#closing;
  }

  unref(): this {
    this.#server.unref();
    return this;
  }

  ref(): this {
    this.#server.ref();
    return this;
  }

  #accept(socket: net.Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    if (this.#closing) {
      socket.destroy();
      return;
    }
    socket.on('error', () => {}); // the handshake or the Connection reports it; never the process
    const admission = this.#limiter.admit(address);
    if (!admission) {
      socket.destroy();
      this.#report(address, new AuthenticationError('too many failed handshakes from this address'));
      return;
    }
    socket.setNoDelay(true);
    this.#handshaking.add(socket);
    const o = this.#options;
    serverHandshake(socket, o.authkey, { timeoutMs: o.handshakeTimeoutMs, delayMs: admission.delayMs }).then(
      (leftover) => {
        admission.done();
        this.#handshaking.delete(socket);
        if (this.#closing) {
          socket.destroy();
          return;
        }
        const connection = new Connection(socket, leftover, o, this.#frameBudget);
        this.#connections.add(connection);
        connection.once('close', () => this.#connections.delete(connection));
        debug('authenticated %s:%d', address, socket.remotePort);
        this.emit('connection', connection);
      },
      (err: Error) => {
        admission.done();
        this.#handshaking.delete(socket);
        if (!this.#closing) this.#failed(address, err);
      },
    );
  }

  #failed(address: string, err: Error): void {
    this.#limiter.recordFailure(address);
    this.#report(address, err);
  }

  #report(address: string, err: Error): void {
    debug('handshake with %s failed: %s', address, err.message);
    this.emit('authFailure', address, err);
  }
}

/** Listens and resolves once the port is bound (rejects e.g. with EADDRINUSE). */
export async function listen(options: ListenOptions): Promise<TransportServer> {
  const o = resolveTransportOptions(options, 'server');
  const server = o.tls
    ? tls.createServer({
        cert: o.tls.cert,
        key: o.tls.key,
        ca: o.tls.ca,
        requestCert: o.tls.ca !== undefined,
        rejectUnauthorized: o.tls.ca !== undefined,
        handshakeTimeout: o.handshakeTimeoutMs,
        minVersion: 'TLSv1.2',
      })
    : net.createServer();
  const transportServer = new TransportServer(server, o);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return transportServer;
}
