import { EventEmitter } from 'eventemitter3';
import { MAX_DELAY_MS } from './timers.js';
import { InvalidArgumentError } from './errors.js';
import { describe, milliseconds, resolvePoolOptions, type PoolOptions, type ResolvedPoolOptions } from './options.js';
import { Scheduler, type RunOptions, type SchedulerStats } from './scheduler/scheduler.js';
import { LocalWorkers } from './backends/local-workers.js';
import { AgentListener } from './backends/remote-listener.js';
import { checkMapOptions, type MapError, type MapOptions } from './map-options.js';
import { MapIterator } from './map.js';
import type { AgentInfo, RemoteBackend } from './backends/remote.js';
import { AGENT_PROTOCOL_VERSION, AGENT_REFUSED, AGENT_WELCOME, type ClientHello } from './backends/remote-protocol.js';
import type { WorkerInfo } from './backends/types.js';
import { ActorSystem } from './actors/system.js';
import { ActorRef, typed, type ActorClasses } from './actors/ref.js';
import { resolveSpawnOptions } from './actors/options.js';
import type { ActorEvents, SpawnOptions } from './actors/types.js';
import type { Connection } from './transport/connection.js';
import { QueueStore } from './queues/store.js';
import { WorkerQueueCalls } from './queues/worker-calls.js';
import type { LocalQueue } from './queues/local-queue.js';
import { MAX_PREFETCH } from './queues/protocol.js';
import { ClientSession, type ClientInfo } from './queues/session.js';
import type { QueueOptions } from './queues/types.js';
import { taskProxy, type TaskProxy } from './task-proxy.js';
import { checkRunOptions } from './run-options.js';

export interface PoolEvents extends ActorEvents {
  /** The queue had filled up (or refused a task) and is empty again. */
  drain: [];
  /** Nothing queued, nothing running. */
  idle: [];
  /** A task's worker died; the task runs again. */
  retry: [info: { name: string; attempt: number; error: Error }];
  workerStart: [worker: WorkerInfo];
  /** A worker exited other than through close()/destroy(): it died, or was stopped because a task it ran was cancelled or timed out. A replacement starts. */
  workerExit: [worker: WorkerInfo, error?: Error];
  /** A remote agent connected, authenticated and introduced itself. */
  agentJoin: [agent: AgentInfo];
  /** An agent's connection closed; its in-flight tasks run again elsewhere. */
  agentLeave: [agent: AgentInfo, error?: Error];
  /** A client (`connect()`) connected, authenticated and introduced itself. */
  clientJoin: [client: ClientInfo];
  /** A client's connection closed: the items it held go back to the front of their queues. No error when it said goodbye. */
  clientLeave: [client: ClientInfo, error?: Error];
  /** A peer at `address` failed the authkey handshake (or sent garbage before it) and was closed. */
  authFailure: [address: string, error: Error];
  /** Something went wrong outside any task, e.g. a replacement worker failed to start. */
  error: [error: Error];
  /** `stats()`, every `statsInterval` ms when that option is given. */
  stats: [stats: SchedulerStats];
}

export class Pool extends EventEmitter<PoolEvents> {
  readonly #options: ResolvedPoolOptions;
  readonly #scheduler: Scheduler;
  #local: LocalWorkers | undefined;
  #stopping = false;
  #shutdown: Promise<void> | undefined;
  #listener: AgentListener | undefined;
  readonly #actors: ActorSystem;
  #statsTimer: NodeJS.Timeout | undefined;
  readonly #queues: QueueStore;
  readonly #clients = new Set<ClientSession>();

  private constructor(options: ResolvedPoolOptions) {
    super();
    this.#options = options;
    this.#scheduler = new Scheduler({
      retries: options.retries,
      maxQueue: options.maxQueue,
      timeout: options.timeout,
      batchSize: options.batchSize,
      waitForBackends: options.listen !== undefined,
      onDemand: options.maxSize > options.minSize ? (waiting) => this.#local?.grow(waiting) : undefined,
    });
    this.#queues = new QueueStore(options.maxQueues);
    this.#scheduler.carryQueueCalls(new WorkerQueueCalls(this.#queues));
    this.#scheduler.on('drain', () => this.emit('drain'));
    this.#scheduler.on('idle', () => this.emit('idle'));
    this.#scheduler.on('retry', (info) => this.emit('retry', info));
    this.#actors = new ActorSystem(this.#scheduler);
    this.#actors.on('actorStart', (info) => this.emit('actorStart', info));
    this.#actors.on('actorRestart', (info, error) => this.emit('actorRestart', info, error));
    this.#actors.on('actorStop', (info, error) => this.emit('actorStop', info, error));
    this.#actors.on('actorError', (info, failure) => this.emit('actorError', info, failure));
  }

  /** Starts the workers; resolves when every one of them has loaded the task module. */
  static async create(options: PoolOptions): Promise<Pool> {
    const pool = new Pool(resolvePoolOptions(options));
    pool.#local = await LocalWorkers.start(pool.#options, (backend) => pool.#scheduler.attach(backend), {
      workerStart: (info) => pool.emit('workerStart', info),
      workerExit: (info, error) => pool.emit('workerExit', info, error),
      respawnFailed: (error) => pool.emit('error', error),
    }, { retirable: (backend, idleMs) => pool.#scheduler.retirable(backend, idleMs) });
    if (pool.#options.listen) {
      try {
        pool.#listener = await AgentListener.start(pool.#options.listen, {
          agent: (agent) => pool.#addAgent(agent),
          client: (connection, hello) => pool.#addClient(connection, hello),
          refused: (address, error) => pool.emit('authFailure', address, error),
        });
      } catch (error) {
        await pool.destroy();
        throw error;
      }
    }
    pool.#startStats();
    return pool;
  }

  #startStats(): void {
    const every = this.#options.statsInterval;
    if (every === Infinity) return;
    // Never what keeps the process alive: dashboards watch a pool that runs anyway.
    this.#statsTimer = setInterval(() => this.emit('stats', this.stats()), Math.min(every, MAX_DELAY_MS)).unref();
  }

  #addAgent(backend: RemoteBackend): void {
    if (this.#stopping) {
      void backend.destroy();
      return;
    }
    this.#scheduler.attach(backend);
    this.emit('agentJoin', backend.agent);
    void backend.closed.then((error) => this.emit('agentLeave', backend.agent, error));
  }

  #addClient(connection: Connection, hello: ClientHello): void {
    if (this.#stopping) {
      connection.send(AGENT_REFUSED, { reason: 'the pool is closing' });
      void connection.close();
      return;
    }
    connection.send(AGENT_WELCOME, { version: AGENT_PROTOCOL_VERSION, maxPrefetch: MAX_PREFETCH });
    // The client spoke our version (its hello was checked): what follows may be JSON.
    connection.useJsonBodies();
    const session = new ClientSession(connection, hello, {
      find: (name) => this.#queues.find(name),
      run: (name, args, options) => this.#scheduler.submit(name, args, options),
      actor: (call, answer, signal) => this.#actors.request(call, answer, signal),
    });
    this.#clients.add(session);
    this.emit('clientJoin', session.info);
    void session.closed.then((error) => {
      this.#clients.delete(session);
      this.emit('clientLeave', session.info, error);
    });
  }

  /**
   * The queue `name` of this pool, made on first use (later calls return the same queue).
   * Clients reach it by name; a name never made here is an error for them, not a new queue.
   */
  queue<T = unknown>(name: string, options?: QueueOptions): LocalQueue<T> {
    return this.#queues.queue<T>(name, options);
  }

  /** Where agents and clients connect, when the pool was created with `listen`. */
  address(): { host: string; port: number } | undefined {
    return this.#listener?.address();
  }

  /** Runs the exported function `name` of the task module with `args` on some worker. */
  run<R = unknown>(name: string, args: readonly unknown[] = [], options?: RunOptions): Promise<R> {
    if (typeof name !== 'string') {
      return Promise.reject(new InvalidArgumentError(`run(): name must be a string; got ${describe(name)}`));
    }
    if (!Array.isArray(args)) {
      return Promise.reject(new InvalidArgumentError(`run(): args must be an array; got ${describe(args)}`));
    }
    if (options !== undefined) {
      try {
        options = checkRunOptions(options);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#scheduler.submit<R>(name, args as unknown[], options);
  }

  /** A typed view of the task module: `pool.tasks<typeof import('./tasks.js')>().square(7)`. */
  tasks<T>(): TaskProxy<T> {
    return taskProxy<T>((name, args, options) => this.run(name, args, options), undefined);
  }

  /**
   * Runs `name` on each item of `items` (one argument each) and yields the results: in
   * input order, or as they settle with `ordered: false`. The input is read lazily, at most
   * `concurrency` items ahead of the loop; leaving the loop drops the items not yet started.
   */
  map<R = unknown>(name: string, items: Iterable<unknown> | AsyncIterable<unknown>, options?: MapOptions & { errors?: 'throw' }): AsyncGenerator<R, void, undefined>;
  map<R = unknown>(name: string, items: Iterable<unknown> | AsyncIterable<unknown>, options: MapOptions & { errors: 'yield' }): AsyncGenerator<R | MapError, void, undefined>;
  map<R = unknown>(name: string, items: Iterable<unknown> | AsyncIterable<unknown>, options?: MapOptions): AsyncGenerator<R | MapError, void, undefined> {
    if (typeof name !== 'string') throw new InvalidArgumentError(`map(): name must be a string; got ${describe(name)}`);
    return new MapIterator<R>(this.#scheduler, name, items, checkMapOptions(options));
  }

  /**
   * Starts an actor: an instance of the exported class `className`, constructed with `args`
   * in one worker, where its methods run one message at a time. Resolves once constructed.
   */
  async spawn(className: string, args: readonly unknown[] = [], options?: SpawnOptions): Promise<ActorRef> {
    if (typeof className !== 'string') throw new InvalidArgumentError(`spawn(): className must be a string; got ${describe(className)}`);
    if (!Array.isArray(args)) throw new InvalidArgumentError(`spawn(): args must be an array; got ${describe(args)}`);
    const record = await this.#actors.spawn(className, args, resolveSpawnOptions(options));
    return new ActorRef(this.#actors, record);
  }

  /** The actor named `name`, looked up when each message is sent (so across restarts, and for actors spawned later). */
  actor(name: string): ActorRef {
    if (typeof name !== 'string') throw new InvalidArgumentError(`actor(): name must be a string; got ${describe(name)}`);
    return new ActorRef(this.#actors, name);
  }

  /** A typed view of the task module's classes: `pool.actors<typeof import('./tasks.js')>().Counter.spawn([5])`. */
  actors<T>(): ActorClasses<T> {
    return new Proxy({} as ActorClasses<T>, {
      get: (_, className) => {
        if (typeof className !== 'string' || className === 'then') return undefined;
        return {
          spawn: async (args: readonly unknown[] = [], options?: SpawnOptions) => typed(await this.spawn(className, args, options)),
          named: (name: string) => typed(this.actor(name)),
        };
      },
    });
  }

  /** While true, run() refuses with ERR_TROUPE_QUEUE_FULL (maxQueue is reached): wait for 'drain'. */
  get needsDrain(): boolean {
    return this.#scheduler.needsDrain;
  }

  stats(): SchedulerStats {
    return this.#scheduler.stats();
  }

  /** Resolves when nothing is queued or running. */
  onIdle(): Promise<void> {
    return this.#scheduler.onIdle();
  }

  /**
   * Closes the queues (consumers' loops end once each is drained) and refuses new tasks,
   * spawns and messages; waits for the submitted tasks (clients' included) to settle; stops
   * every actor once its mailbox has drained; disconnects the clients; then stops every worker.
   */
  close(): Promise<void> {
    this.#actors.refuse();
    this.#shutdown ??= (async () => {
      this.#queues.closeAll();
      await this.#scheduler.close();
      const clients = [...this.#clients];
      await Promise.all(clients.map((client) => client.settled()));
      await this.#actors.close();
      this.#stopping = true;
      await Promise.all(clients.map((client) => client.close()));
      await this.#stopBackends('close');
    })();
    return this.#shutdown;
  }

  /** Stops every worker now; pending tasks and actor messages reject with ERR_TROUPE_DESTROYED. */
  destroy(): Promise<void> {
    this.#queues.closeAll();
    this.#scheduler.destroy();
    this.#actors.destroy();
    for (const client of this.#clients) client.destroy();
    const previous = this.#shutdown;
    this.#shutdown = this.#stopBackends('destroy').then(() => previous);
    return this.#shutdown;
  }

  async #stopBackends(stop: 'close' | 'destroy'): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#statsTimer);
    const agents = this.#scheduler.backends.filter((backend) => backend.kind === 'agent');
    await Promise.all([this.#listener?.close(), this.#local?.[stop](), ...agents.map((agent) => agent[stop]())]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export function createPool(options: PoolOptions): Promise<Pool> {
  return Pool.create(options);
}
