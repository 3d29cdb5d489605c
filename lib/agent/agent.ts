import { EventEmitter } from 'eventemitter3';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { debug } from '../debug.js';
import {
  AgentRefusedError, AuthenticationError, HandshakeTimeoutError, InvalidOptionError, PeerLostError, ProtocolError,
} from '../errors.js';
import { delay, describe, resolvePoolOptions, type PoolOptions } from '../options.js';
import { setDelay } from '../timers.js';
import { parseAddress, reconnectBackoff } from '../address.js';
import { InlineBackend } from '../backends/inline.js';
import { LocalWorkers } from '../backends/local-workers.js';
import {
  AGENT_BYE, AGENT_CANCEL, AGENT_DROP, AGENT_HELLO, AGENT_REPLY, AGENT_PROTOCOL_VERSION, AGENT_REFUSED, AGENT_RUN, AGENT_WELCOME, parseRefusal, parseWelcome,
  isAgentMode, versionMismatch, type AgentHello, type AgentMode,
} from '../backends/remote-protocol.js';
import { connect, type Connection } from '../transport/connection.js';
import { resolveTransportOptions, type TransportOptions } from '../transport/options.js';
import { Router } from './router.js';


/** The pool options that matter on an agent: retries, queueing and timeouts belong to the scheduler. */
type LocalOptions = Pick<
  PoolOptions, 'tasks' | 'size' | 'maxInFlight' | 'execArgv' | 'env' | 'startTimeout' | 'workerData' | 'maxTasksPerWorker' | 'maxMemoryPerWorker' |
  'resourceLimits' | 'atomics'
>;

export interface AgentOptions extends LocalOptions {
  /**
   * Where tasks run: worker processes or threads, as in a pool, or 'inline', on the agent's
   * own event loop (one worker; no hop between the connection and the task, for tasks that
   * await I/O or end well within the heartbeat timeout). @default 'process'
   */
  mode?: AgentMode;
  /** The scheduler to lend workers to: 'host:port' or { host, port }. */
  connect: string | { host: string; port: number };
  /** The scheduler's authkey (at least 16 bytes). */
  authkey: string | Buffer;
  /** TLS: { cert, key, ca } as for the pool's `listen.tls`. */
  tls?: TransportOptions['tls'];
  /** First pause before reconnecting, in ms; doubles on each failure, with jitter. @default 100 */
  reconnectDelay?: number;
  /**
   * Longest pause between reconnect attempts, in ms (Infinity: no cap but setTimeout's, about
   * 24.8 days). Kept low so that an agent rejoins soon after a long outage. @default 2000
   */
  maxReconnectDelay?: number;
  /** Transport settings, as for `listen`. */
  handshakeTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  maxFrameBytes?: number;
}

/** A failed attempt to reach the scheduler, and when the next one comes. */
export interface ConnectFailure {
  host: string;
  port: number;
  error: Error;
  /** 1 for the first failure in a row. */
  attempt: number;
  /** ms until the next attempt. */
  retryIn: number;
}

export interface AgentEvents {
  /** An attempt to reach the scheduler failed (refused, unresolvable, timed out…); another follows. */
  connectFailed: [failure: ConnectFailure];
  /** Connected and introduced to the scheduler. */
  connect: [address: { host: string; port: number }];
  /** The connection to the scheduler was lost; the agent reconnects. */
  disconnect: [error?: Error];
  /** A final failure (the scheduler refused the authkey): the agent has stopped. */
  error: [error: Error];
}

const AGENT_KEYS = new Set([
  'connect', 'authkey', 'tls', 'reconnectDelay', 'maxReconnectDelay', 'handshakeTimeoutMs', 'heartbeatIntervalMs',
  'heartbeatTimeoutMs', 'maxFrameBytes',
]);
const LOCAL_KEYS = new Set([
  'tasks', 'mode', 'size', 'maxInFlight', 'execArgv', 'env', 'startTimeout', 'workerData', 'maxTasksPerWorker',
  'maxMemoryPerWorker', 'resourceLimits', 'atomics',
]);

/** Options about starting and limiting worker threads or processes, which an inline agent has none of. */
const WORKER_ONLY_KEYS = ['execArgv', 'env', 'maxTasksPerWorker', 'maxMemoryPerWorker', 'resourceLimits', 'atomics'] as const;

function checkInline(options: AgentOptions): void {
  for (const key of WORKER_ONLY_KEYS) {
    if (options[key] !== undefined) throw new InvalidOptionError(`option "${key}" does not apply to mode "inline": tasks run in the agent's own process`);
  }
  if (options.size !== undefined && options.size !== 1) {
    throw new InvalidOptionError(`option "size" must be 1 with mode "inline" (got ${describe(options.size)}); start one agent per core for more`);
  }
}

export { parseAddress, reconnectBackoff };

/**
 * A process that lends its local workers to a remote scheduler. It runs its own pool, so
 * tasks run in worker threads or processes and never on the event loop that answers
 * heartbeats. It reconnects with backoff after any loss, except an authentication refusal.
 */
export class Agent extends EventEmitter<AgentEvents> {
  readonly id = randomUUID();
  readonly #router = new Router();
  #workers: LocalWorkers | InlineBackend | undefined;
  #hello: AgentHello | undefined;
  readonly #transport: TransportOptions & { port: number };
  readonly #reconnectDelay: number;
  readonly #maxReconnectDelay: number;
  #connection: Connection | undefined;
  /** A connection waiting for the scheduler's welcome: close() ends it. */
  #introducing: Connection | undefined;
  #stopped = false;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  private constructor(transport: TransportOptions & { port: number }, delays: [number, number]) {
    super();
    this.#transport = transport;
    [this.#reconnectDelay, this.#maxReconnectDelay] = delays;
  }

  /** Starts the local workers, then connects; resolves once the scheduler has accepted the agent. */
  static async start(options: AgentOptions): Promise<Agent> {
    const agent = await Agent.create(options);
    await agent.join();
    return agent;
  }

  /**
   * Starts the local workers without connecting yet, so that listeners (e.g. for
   * `connectFailed`) are in place before the first attempt; then call `join()`.
   */
  static async create(options: AgentOptions): Promise<Agent> {
    if (options === null || typeof options !== 'object') {
      throw new InvalidOptionError(`startAgent() takes an options object; got ${describe(options)}`);
    }
    const address = parseAddress(options.connect);
    const transport = {
      ...address,
      authkey: options.authkey,
      tls: options.tls,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs,
      maxFrameBytes: options.maxFrameBytes,
    };
    resolveTransportOptions(transport, 'client');
    const firstDelay = delay('reconnectDelay', options.reconnectDelay, 100);
    const maxDelay = delay('maxReconnectDelay', options.maxReconnectDelay, 2_000, true);
    if (maxDelay < firstDelay) throw new InvalidOptionError('option "maxReconnectDelay" must be >= "reconnectDelay"');
    for (const key of Object.keys(options)) {
      if (!AGENT_KEYS.has(key) && !LOCAL_KEYS.has(key)) throw new InvalidOptionError(`unknown option "${key}"`);
    }
    if (options.mode !== undefined && !isAgentMode(options.mode)) {
      throw new InvalidOptionError(`option "mode" must be "process", "thread" or "inline"; got ${describe(options.mode)}`);
    }
    const inline = options.mode === 'inline';
    if (inline) checkInline(options);
    const local = resolvePoolOptions(Object.fromEntries(Object.entries(options).filter(([key]) => LOCAL_KEYS.has(key) && !(inline && key === 'mode'))));
    if (local.size === 0) throw new InvalidOptionError('option "size" must be at least 1 for an agent');
    const agent = new Agent(transport, [firstDelay, maxDelay]);
    if (inline) {
      const backend = await InlineBackend.start(local);
      agent.#workers = backend;
      agent.#router.adopt(backend);
    } else {
      agent.#workers = await LocalWorkers.start(local, (backend) => agent.#router.adopt(backend));
    }
    // Said once, from the workers as started: when it reconnects while a worker is being
    // replaced, the agent still offers what it will have, not what is up at that moment.
    const [first] = agent.#router.backends;
    agent.#hello = {
      version: AGENT_PROTOCOL_VERSION,
      agentId: agent.id,
      hostname: hostname(),
      pid: process.pid,
      names: [...(first.names ?? [])],
      parallelism: agent.#router.parallelism,
      capacity: agent.#router.capacity,
      mode: inline ? 'inline' : local.mode,
    };
    return agent;
  }

  /**
   * Connects (retrying with backoff while the scheduler is unreachable) and resolves once the
   * scheduler has accepted the agent, or once `close()` stopped it; on a refusal, closes the
   * agent and rejects.
   */
  async join(): Promise<void> {
    try {
      await this.#connectUntilAccepted();
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  get connected(): boolean {
    return this.#connection !== undefined;
  }

  /** Retries unreachable schedulers with backoff; an authentication refusal is final. */
  async #connectUntilAccepted(): Promise<void> {
    for (;;) {
      if (this.#stopped) return;
      try {
        const connection = await connect(this.#transport);
        // close() may have run while connecting.
        if (this.#stopped) return connection.destroy();
        this.#introducing = connection;
        try {
          await this.#introduce(connection);
        } finally {
          this.#introducing = undefined;
        }
        this.#failures = 0;
        return;
      } catch (error) {
        if (error instanceof AuthenticationError || error instanceof AgentRefusedError) throw error;
        if (this.#stopped) return;
        const retryIn = this.#backoff();
        const { host = '127.0.0.1', port } = this.#transport;
        debug('agent: connecting to %s:%d failed: %s', host, port, (error as Error).message);
        this.emit('connectFailed', { host, port, error: error as Error, attempt: this.#failures, retryIn });
        await this.#pause(retryIn);
      }
    }
  }

  #backoff(): number {
    return reconnectBackoff(this.#failures++, this.#reconnectDelay, this.#maxReconnectDelay);
  }

  /** Waits `ms`, or less when close() ends the wait. */
  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#timer = setDelay(resolve, ms);
    });
  }

  /** Says hello and waits for the scheduler's answer; on a welcome, starts serving at once. */
  #introduce(connection: Connection): Promise<void> {
    const ms = this.#transport.handshakeTimeoutMs ?? 5_000;
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: Error) => {
        clearTimeout(timer);
        connection.off('message', onMessage);
        connection.off('close', onClose);
        if (error === undefined) return resolve();
        connection.destroy();
        reject(error);
      };
      const onMessage = (type: number, value: unknown) => {
        if (type === AGENT_REFUSED) return finish(new AgentRefusedError(parseRefusal(value)));
        if (type !== AGENT_WELCOME) return finish(new ProtocolError(`expected a welcome, got message type ${type}`));
        let welcome;
        try {
          welcome = parseWelcome(value);
        } catch (error) {
          return finish(error as Error);
        }
        if (welcome.version !== AGENT_PROTOCOL_VERSION) {
          return finish(new AgentRefusedError(versionMismatch(welcome.version, AGENT_PROTOCOL_VERSION, 'scheduler')));
        }
        if (this.#stopped) return finish(new PeerLostError('the agent was closed while it waited for its welcome'));
        finish();
        this.#introducing = undefined;
        connection.useJsonBodies();
        // In the same turn: the scheduler's first batches may be in the very same chunk.
        this.#attach(connection, welcome.ackWithinMs);
      };
      const onClose = (error?: Error) => finish(error ?? new PeerLostError('the scheduler closed the connection'));
      const timer = setTimeout(() => finish(new HandshakeTimeoutError(ms)), ms);
      connection.on('message', onMessage);
      connection.once('close', onClose);
      connection.send(AGENT_HELLO, this.#hello!);
    });
  }

  #attach(connection: Connection, ackWithinMs: number): void {
    const router = this.#router;
    router.connect(connection, this.#hello!.capacity, ackWithinMs);
    connection.on('message', (type, value) => {
      try {
        if (type === AGENT_RUN) router.run(value);
        else if (type === AGENT_CANCEL) router.cancel(value);
        else if (type === AGENT_DROP) router.drop(value);
        else if (type === AGENT_REPLY) router.reply(value);
        else throw new ProtocolError(`unexpected message type ${type} from the scheduler`);
      } catch (error) {
        debug('agent: %s', (error as Error).message);
        connection.destroy(error as Error);
      }
    });
    connection.once('close', (error) => {
      router.disconnect();
      this.#connection = undefined;
      if (this.#stopped) return;
      this.emit('disconnect', error);
      void this.#reconnect();
    });
    this.#connection = connection;
    this.emit('connect', { host: this.#transport.host ?? '127.0.0.1', port: this.#transport.port });
  }

  async #reconnect(): Promise<void> {
    await this.#pause(this.#backoff());
    try {
      await this.#connectUntilAccepted();
    } catch (error) {
      this.emit('error', error as Error);
      await this.close();
    }
  }

  /** Disconnects, stops reconnecting and stops the local workers. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopped = true;
      clearTimeout(this.#timer);
      this.#wake?.();
      this.#introducing?.destroy();
      // Said first, so that the scheduler sees a clean leave rather than a lost peer.
      try {
        this.#connection?.send(AGENT_BYE, {});
      } catch {
        // Already closing: the scheduler will see it go either way.
      }
      await this.#connection?.close();
      // Closed, not destroyed: each worker runs the module's teardown() (bounded) on its way out.
      await this.#workers?.close();
    })();
    return this.#closing;
  }
}

export function startAgent(options: AgentOptions): Promise<Agent> {
  return Agent.start(options);
}
