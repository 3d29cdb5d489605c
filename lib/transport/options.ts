/**
 * Options of `connect()` and `listen()`, their defaults, and validation in one place.
 * Every error names the option it is about.
 */
import { InvalidOptionError } from '../errors.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, resolveAuthKey } from './auth.js';
import { DEFAULT_MAX_FRAME_BYTES, MAX_FRAME_BYTES_LIMIT } from './framing.js';
import { DEFAULT_MAX_PARTIAL_FRAME_BYTES } from './frame-budget.js';
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_HEARTBEAT_TIMEOUT_MS } from './heartbeat.js';

type Pem = string | Buffer;

export const DEFAULT_ACK_TIMEOUT_MS = 10_000;

export interface TransportTlsOptions {
  /** PEM certificate chain: required on the server; on a client, for mutual TLS. */
  cert?: Pem;
  /** PEM private key of `cert`. */
  key?: Pem;
  /**
   * PEM CA certificate(s). On a client: whom to trust as server (else the system's CAs).
   * On a server: turns on mutual TLS, so a client without a certificate from it is refused.
   */
  ca?: Pem | Pem[];
  /** Client only: the name to verify the server's certificate against. @default host */
  servername?: string;
}

export interface TransportOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** On `listen`, 0 picks a free port. @default 0 for listen, required for connect */
  port?: number;
  /** Shared secret, at least 16 bytes (UTF-8 bytes for a string). Never sent on the wire. */
  authkey: string | Buffer;
  /** TLS around the connection; the authkey handshake still runs inside it. */
  tls?: TransportTlsOptions;
  /** The whole handshake (and on a client, connecting) must finish within this. @default 5000 */
  handshakeTimeoutMs?: number;
  /** How often to ping a quiet peer. @default 1000 */
  heartbeatIntervalMs?: number;
  /** A peer silent this long is declared dead; must exceed the interval. @default 3000, or 3 × heartbeatIntervalMs if larger */
  heartbeatTimeoutMs?: number;
  /** Largest frame (type + version + body bytes) sent or accepted. @default 64 MiB */
  maxFrameBytes?: number;
  /**
   * Server only: bytes of frames still arriving, all connections together. Past it, the
   * connection holding the most is closed. @default 128 MiB, or maxFrameBytes if larger
   */
  maxPartialFrameBytes?: number;
  /**
   * Server only: how long an agent may take to acknowledge a batch it was sent (it does on
   * receipt, not when the work is done). Past it the agent is dropped and its work runs
   * elsewhere, no retry charged: a peer that takes work and sits on it cannot stall a pool.
   * @default 10000
   */
  ackTimeoutMs?: number;
}

export interface ConnectOptions extends TransportOptions {
  port: number;
}

export type ListenOptions = TransportOptions;

export interface ResolvedTransportOptions {
  host: string;
  port: number;
  authkey: Buffer;
  tls: TransportTlsOptions | undefined;
  handshakeTimeoutMs: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  maxFrameBytes: number;
  maxPartialFrameBytes: number;
  ackTimeoutMs: number;
}

function integer(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(`${name} must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
  return value;
}

function pem(name: string, value: unknown, required: boolean): void {
  if (value === undefined) {
    if (required) throw new InvalidOptionError(`${name} is required`);
    return;
  }
  const ok = (v: unknown) => typeof v === 'string' || Buffer.isBuffer(v);
  if (!(ok(value) || (Array.isArray(value) && value.length > 0 && value.every(ok)))) {
    throw new InvalidOptionError(`${name} must be a PEM string or Buffer`);
  }
}

function resolveTls(value: unknown, side: 'client' | 'server'): TransportTlsOptions | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') throw new InvalidOptionError('tls must be an object');
  const tls = value as TransportTlsOptions;
  pem('tls.cert', tls.cert, side === 'server');
  pem('tls.key', tls.key, side === 'server' || tls.cert !== undefined);
  if (side === 'client' && tls.key !== undefined && tls.cert === undefined) {
    throw new InvalidOptionError('tls.cert is required when tls.key is given');
  }
  if (Array.isArray(tls.cert) || Array.isArray(tls.key)) {
    throw new InvalidOptionError('tls.cert and tls.key must each be one PEM string or Buffer');
  }
  pem('tls.ca', tls.ca, false);
  if (tls.servername !== undefined && (typeof tls.servername !== 'string' || tls.servername === '')) {
    throw new InvalidOptionError('tls.servername must be a non-empty string');
  }
  return { ...tls };
}

export function resolveTransportOptions(options: unknown, side: 'client' | 'server'): ResolvedTransportOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(`${side === 'client' ? 'connect' : 'listen'} options must be an object`);
  }
  const o = options as Partial<TransportOptions>;
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host === '')) {
    throw new InvalidOptionError(`host must be a non-empty string (got ${String(o.host)})`);
  }
  if (side === 'client' && o.port === undefined) throw new InvalidOptionError('port is required');
  const port = integer('port', o.port, 0, side === 'client' ? 1 : 0, 65535);
  const authkey = resolveAuthKey(o.authkey);
  const handshakeTimeoutMs = integer('handshakeTimeoutMs', o.handshakeTimeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS, 1, 2 ** 31 - 1);
  const heartbeatIntervalMs = integer('heartbeatIntervalMs', o.heartbeatIntervalMs, DEFAULT_HEARTBEAT_INTERVAL_MS, 1, 2 ** 31 - 1);
  const heartbeatTimeoutMs = integer(
    'heartbeatTimeoutMs',
    o.heartbeatTimeoutMs,
    Math.max(DEFAULT_HEARTBEAT_TIMEOUT_MS, heartbeatIntervalMs * 3),
    1,
    2 ** 31 - 1,
  );
  if (heartbeatTimeoutMs <= heartbeatIntervalMs) {
    throw new InvalidOptionError(
      `heartbeatTimeoutMs (${heartbeatTimeoutMs}) must be greater than heartbeatIntervalMs (${heartbeatIntervalMs})`,
    );
  }
  const maxFrameBytes = integer('maxFrameBytes', o.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 64, MAX_FRAME_BYTES_LIMIT);
  const maxPartialFrameBytes = integer(
    'maxPartialFrameBytes',
    o.maxPartialFrameBytes,
    Math.max(DEFAULT_MAX_PARTIAL_FRAME_BYTES, maxFrameBytes),
    maxFrameBytes,
    Number.MAX_SAFE_INTEGER,
  );
  const ackTimeoutMs = integer('ackTimeoutMs', o.ackTimeoutMs, DEFAULT_ACK_TIMEOUT_MS, 1, 2 ** 31 - 1);
  return {
    host: o.host ?? '127.0.0.1',
    port,
    authkey,
    tls: resolveTls(o.tls, side),
    handshakeTimeoutMs,
    heartbeatIntervalMs,
    heartbeatTimeoutMs,
    maxFrameBytes,
    maxPartialFrameBytes,
    ackTimeoutMs,
  };
}
