import { EventEmitter } from 'eventemitter3';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { parseAddress, reconnectBackoff } from '../address.js';
import { debug } from '../debug.js';
import {
  AgentRefusedError, AuthenticationError, deserializeError, InvalidArgumentError, InvalidOptionError, ProtocolError, QueueClosedError,
} from '../errors.js';
import { delay, describe, integer } from '../options.js';
import { checkRunOptions } from '../run-options.js';
import { taskProxy, type TaskProxy } from '../task-proxy.js';
import { atTurnEnd, setDelay } from '../timers.js';
import { AGENT_BYE, AGENT_PROTOCOL_VERSION } from '../backends/remote-protocol.js';
import type { RunOptions } from '../scheduler/types.js';
import { connect as connectTransport, type Connection } from '../transport/connection.js';
import { resolveTransportOptions, type TransportOptions } from '../transport/options.js';
import { checkQueueName, NO_WAIT_LIMIT } from '../queues/options.js';
import { checkCallOptions } from '../actors/options.js';
import { checkMessage } from '../actors/ref.js';
import type { CallOptions } from '../actors/types.js';
import { CLIENT_ACK, CLIENT_ACTOR, CLIENT_CREDIT, CLIENT_DELIVER, CLIENT_END, CLIENT_REPLY, MAX_PREFETCH, MAX_QUEUE_NAME, parseDeliver, parseEnd, parseReply } from '../queues/protocol.js';
import { HubQueue, type QueueLink } from '../queues/remote-queue.js';
import { introduce } from './introduce.js';
import { Requests } from './requests.js';

export type { HubQueue };

/** An actor of the pool, reached from a client. */
export interface HubActorRef {
  readonly name: string;
  call<R = unknown>(method: string, args?: readonly unknown[], options?: CallOptions): Promise<R>;
  tell(method: string, args?: readonly unknown[]): void;
}

export interface HubOptions {
  /** The pool to connect to: "host:port" or { host, port }, as an agent's `connect`. */
  address: string | { host: string; port: number };
  /** The pool's authkey (at least 16 bytes). */
  authkey: string | Buffer;
  /** TLS: { ca, cert?, key?, servername? } as for an agent. */
  tls?: TransportOptions['tls'];
  /** Items a `for await` loop over a queue keeps handed to this client and unacknowledged (1 to 1024). @default 64 */
  prefetch?: number;
  /** First pause before reconnecting, in ms; doubles on each failure, with jitter. @default 100 */
  reconnectDelay?: number;
  /** Longest pause between reconnect attempts, in ms. @default 2000 */
  maxReconnectDelay?: number;
  handshakeTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  maxFrameBytes?: number;
}

export interface HubEvents {
  /** Connected and accepted by the pool (again, after a reconnect). */
  connect: [address: { host: string; port: number }];
  /** The connection was lost: calls sent on it rejected with ERR_TROUPE_PEER_LOST; the hub reconnects. */
  disconnect: [error?: Error];
  /** An attempt to reach the pool failed; another follows. */
  connectFailed: [error: Error, retryIn: number];
  /** A final failure (the pool refused the key or the hub): the hub has closed. */
  error: [error: Error];
}

const KEYS = new Set([
  'address', 'authkey', 'tls', 'prefetch', 'reconnectDelay', 'maxReconnectDelay', 'handshakeTimeoutMs', 'heartbeatIntervalMs',
  'heartbeatTimeoutMs', 'maxFrameBytes',
]);
const DEFAULT_PREFETCH = 64;

/**
 * A plain process's connection to a pool (`connect()`): the pool's named queues and its
 * tasks, over the same port, handshake and codec as agents. It runs no tasks and lends no
 * workers. It reconnects with backoff after any loss but a refusal.
 */
export class Hub extends EventEmitter<HubEvents> {
  readonly id = randomUUID();
  readonly #transport: TransportOptions & { host: string; port: number };
  readonly #delays: [number, number];
  readonly #prefetch: number;
  readonly #requests = new Requests();
  readonly #queues = new Map<string, HubQueue>();
  #connection: Connection | undefined;
  /** A connection waiting for the pool's welcome: close() ends it. */
  #introducing: Connection | undefined;
  #epoch = 0;
  /** The largest window this pool accepts per queue, as its welcome said. */
  #maxWindow = MAX_PREFETCH;
  #failures = 0;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #acks: { epoch: number; ack: number[]; nack: number[] } = { epoch: 0, ack: [], nack: [] };
  #acksScheduled = false;
  #closing: Promise<void> | undefined;

  private constructor(transport: TransportOptions & { host: string; port: number }, delays: [number, number], prefetch: number) {
    super();
    this.#transport = transport;
    this.#delays = delays;
    this.#prefetch = prefetch;
  }

  /** Connects (retrying while the pool is unreachable); resolves once the pool has accepted the hub. */
  static async connect(options: HubOptions): Promise<Hub> {
    if (options === null || typeof options !== 'object') {
      throw new InvalidOptionError(`connect() takes an options object; got ${describe(options)}`);
    }
    for (const key of Object.keys(options)) if (!KEYS.has(key)) throw new InvalidOptionError(`unknown option "${key}"`);
    const transport = {
      ...parseAddress(options.address, 'address'),
      authkey: options.authkey,
      tls: options.tls,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs,
      maxFrameBytes: options.maxFrameBytes,
    };
    resolveTransportOptions(transport, 'client');
    const first = delay('reconnectDelay', options.reconnectDelay, 100);
    const max = delay('maxReconnectDelay', options.maxReconnectDelay, 2_000, true);
    if (max < first) throw new InvalidOptionError('option "maxReconnectDelay" must be >= "reconnectDelay"');
    const prefetch = integer('prefetch', options.prefetch, 1, DEFAULT_PREFETCH);
    if (prefetch > MAX_PREFETCH) throw new InvalidOptionError(`option "prefetch" must be at most ${MAX_PREFETCH}; got ${prefetch}`);
    const hub = new Hub(transport, [first, max], prefetch);
    try {
      await hub.#connectUntilAccepted();
    } catch (error) {
      await hub.close();
      throw error;
    }
    return hub;
  }

  get connected(): boolean {
    return this.#connection !== undefined;
  }

  /** The pool's queue `name`. Calls on a name the pool never made reject with ERR_TROUPE_UNKNOWN_QUEUE. */
  queue<T = unknown>(name: string): HubQueue<T> {
    checkQueueName(name, MAX_QUEUE_NAME);
    let queue = this.#queues.get(name);
    if (!queue) this.#queues.set(name, (queue = new HubQueue(name, this.#link, this.#prefetch)));
    return queue as HubQueue<T>;
  }

  /** Runs the pool's task `name` with `args`, as `pool.run()` would, with its errors, cancel and timeout. */
  run<R = unknown>(name: string, args: readonly unknown[] = [], options?: RunOptions): Promise<R> {
    if (typeof name !== 'string') return Promise.reject(new InvalidArgumentError(`run(): name must be a string; got ${describe(name)}`));
    if (!Array.isArray(args)) return Promise.reject(new InvalidArgumentError(`run(): args must be an array; got ${describe(args)}`));
    let checked: RunOptions = {};
    try {
      if (options !== undefined) checked = checkRunOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    const timeout = checked.timeout === undefined || checked.timeout === Infinity ? undefined : checked.timeout;
    return this.#requests.call<R>(
      { kind: 'run', name, args: [...args], timeout },
      checked.signal ? { signal: checked.signal, timeout: Infinity, manual: false } : NO_WAIT_LIMIT,
      `run("${name}")`,
    );
  }

  /**
   * The pool's actor named `name`: `call()` and `tell()` as on a pool's ActorRef, with the
   * same errors, `signal` and `timeout`. A tell is sent at once, or dropped while the hub is
   * not connected; a failure of one is the pool's 'actorError', not the client's.
   */
  actor(name: string): HubActorRef {
    if (typeof name !== 'string') throw new InvalidArgumentError(`actor(): name must be a string; got ${describe(name)}`);
    return {
      name,
      call: <R>(method: string, args: readonly unknown[] = [], options?: CallOptions) => {
        try {
          checkMessage('call()', method, args);
          const { signal, timeout } = checkCallOptions(options);
          return this.#requests.call<R>(
            { kind: 'actor', actor: name, method, args: [...args], timeout: timeout === Infinity ? undefined : timeout },
            signal ? { signal, timeout: Infinity, manual: false } : NO_WAIT_LIMIT,
            `call("${method}") on actor "${name}"`,
          );
        } catch (error) {
          return Promise.reject(error);
        }
      },
      tell: (method: string, args: readonly unknown[] = []) => {
        checkMessage('tell()', method, args);
        this.#sendQuietly(CLIENT_ACTOR, { id: 0, actor: name, method, args: [...args], tell: true, chain: [] });
      },
    };
  }

  /** A typed view of the pool's task module, as `pool.tasks<T>()`. */
  tasks<T>(): TaskProxy<T> {
    return taskProxy<T>((name, args, options) => this.run(name, args, options), undefined);
  }

  readonly #link: QueueLink = ((hub: Hub): QueueLink => ({
    get epoch() {
      return hub.#epoch;
    },
    get connected() {
      return hub.#connection !== undefined;
    },
    get maxWindow() {
      return hub.#maxWindow;
    },
    put: (q, item, wait) => this.#requests.call<void>({ kind: 'put', q, item }, wait, `put() on queue "${q}"`),
    size: (q) => this.#requests.call<number>({ kind: 'size', q }, NO_WAIT_LIMIT, 'size()'),
    window: (q, window) => this.#sendQuietly(CLIENT_CREDIT, { q, window }),
    ack: (epoch, ids, requeue) => this.#ack(epoch, ids, requeue),
    forget: (q) => this.#queues.delete(q),
  }))(this);

  #ack(epoch: number, ids: number | readonly number[], requeue: boolean): void {
    if (epoch !== this.#epoch || !this.#connection) return;
    if (this.#acks.epoch !== epoch) this.#acks = { epoch, ack: [], nack: [] };
    const list = requeue ? this.#acks.nack : this.#acks.ack;
    if (typeof ids === 'number') list.push(ids);
    else for (const id of ids) list.push(id);
    if (this.#acksScheduled) return;
    this.#acksScheduled = true;
    atTurnEnd(() => {
      this.#acksScheduled = false;
      const { epoch: at, ack, nack } = this.#acks;
      this.#acks = { epoch: at, ack: [], nack: [] };
      if (at !== this.#epoch) return;
      for (const [ids, requeue] of [[ack, false], [nack, true]] as const) {
        for (let i = 0; i < ids.length; i += 4_096) this.#sendQuietly(CLIENT_ACK, { ids: ids.slice(i, i + 4_096), requeue });
      }
    });
  }

  /**
   * Window and acknowledgement messages: when the connection is already closing they are
   * moot (the pool takes back what this client held when it goes), so not sending is fine.
   */
  #sendQuietly(type: number, value: unknown): void {
    try {
      this.#connection?.send(type, value);
    } catch (error) {
      debug('client: not sent: %s', (error as Error).message);
    }
  }

  async #connectUntilAccepted(): Promise<void> {
    for (;;) {
      if (this.#stopped) return;
      try {
        const connection = await connectTransport(this.#transport);
        if (this.#stopped) return connection.destroy();
        this.#introducing = connection;
        let welcome;
        try {
          welcome = await introduce(connection, { version: AGENT_PROTOCOL_VERSION, role: 'client', clientId: this.id, hostname: hostname(), pid: process.pid }, this.#transport.handshakeTimeoutMs ?? 5_000);
        } finally {
          this.#introducing = undefined;
        }
        // close() may have run while the welcome was on its way.
        if (this.#stopped) return connection.destroy();
        this.#failures = 0;
        this.#maxWindow = Math.min(welcome.maxPrefetch, MAX_PREFETCH);
        this.#attach(connection);
        return;
      } catch (error) {
        if (error instanceof AuthenticationError || error instanceof AgentRefusedError) throw error;
        if (this.#stopped) return;
        const retryIn = reconnectBackoff(this.#failures++, ...this.#delays);
        debug('client: connecting to %s:%d failed: %s', this.#transport.host, this.#transport.port, (error as Error).message);
        this.emit('connectFailed', error as Error, retryIn);
        await this.#pause(retryIn);
      }
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#timer = setDelay(resolve, ms);
    });
  }

  #attach(connection: Connection): void {
    this.#connection = connection;
    this.#epoch++;
    connection.on('message', (type, value) => {
      try {
        this.#onMessage(type, value);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        debug('client: %s', error.message);
        connection.destroy(error);
      }
    });
    connection.once('close', (error) => {
      this.#connection = undefined;
      this.#epoch++;
      this.#requests.detach(error);
      if (this.#stopped) return;
      this.emit('disconnect', error);
      void this.#reconnect();
    });
    this.#requests.attach(connection);
    for (const queue of this.#queues.values()) queue.reconnected();
    this.emit('connect', { host: this.#transport.host, port: this.#transport.port });
  }

  #onMessage(type: number, value: unknown): void {
    if (type === CLIENT_REPLY) return this.#requests.answered(parseReply(value));
    if (type === CLIENT_DELIVER) {
      const m = parseDeliver(value);
      const queue = this.#queues.get(m.q);
      // Items for a handle closed meanwhile go straight back.
      if (queue) queue.delivered(m.base, m.items);
      else this.#ack(this.#epoch, m.items.map((_, i) => m.base + i), true);
      return;
    }
    if (type === CLIENT_END) {
      const m = parseEnd(value);
      this.#queues.get(m.q)?.ended(deserializeError(m.error));
      return;
    }
    // The pool is closing, its queues closed: loops waiting on them end.
    if (type === AGENT_BYE) {
      for (const queue of this.#queues.values()) queue.ended(new QueueClosedError(queue.name));
      return;
    }
    throw new ProtocolError(`unexpected message type ${type} from the pool`);
  }

  async #reconnect(): Promise<void> {
    await this.#pause(reconnectBackoff(this.#failures++, ...this.#delays));
    try {
      await this.#connectUntilAccepted();
    } catch (error) {
      this.emit('error', error as Error);
      await this.close();
    }
  }

  /**
   * Waits for the calls already sent to be answered (those not sent reject with
   * ERR_TROUPE_CLIENT_CLOSED), gives back prefetched items, says goodbye and disconnects.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopped = true;
      clearTimeout(this.#timer);
      this.#wake?.();
      this.#introducing?.destroy();
      for (const queue of [...this.#queues.values()]) queue.close();
      await this.#requests.close();
      const connection = this.#connection;
      if (!connection) return;
      try {
        connection.send(AGENT_BYE, {});
      } catch {
        // Already closing: the pool sees it go either way.
      }
      await connection.close();
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Connects to a pool that listens (`createPool({ listen })`) as a client: its queues and its tasks. */
export function connect(options: HubOptions): Promise<Hub> {
  return Hub.connect(options);
}
