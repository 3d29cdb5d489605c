import { debug } from '../debug.js';
import { ProcessBackend } from './process.js';
import { ThreadBackend } from './thread.js';
import type { LocalBackendOptions, WorkerEvents } from './local.js';
import type { Backend } from './types.js';


/** Longest pause between attempts to replace a worker that keeps failing to start. */
const MAX_RESPAWN_DELAY_MS = 10_000;
/** Idle workers beyond minSize are looked for this often (within idleTimeout / 4). */
const MAX_IDLE_CHECK_MS = 1_000;

export interface LocalWorkersOptions extends LocalBackendOptions {
  mode: 'thread' | 'process';
  /** Workers started at once. */
  size: number;
  minSize: number;
  maxSize: number;
  idleTimeout: number;
}

export interface LocalWorkerEvents extends WorkerEvents {
  /** A replacement worker failed to start; another try follows, later. */
  respawnFailed?(error: Error): void;
}

/** What the owner of the workers' tasks says about them: may this one stop for being idle? */
export interface Sizing {
  /** True when `backend` has held no task for `idleMs` and may be stopped now (the scheduler asks `mayRetire`). */
  retirable(backend: Backend, idleMs: number): boolean;
}

type LocalBackend = ProcessBackend | ThreadBackend;

/**
 * This machine's workers: `size` worker threads or processes at first, each a backend of
 * its own, each replaced when it exits (with backoff while replacements keep failing).
 * Between minSize and maxSize they follow the load: grow() starts more while tasks wait,
 * and one beyond minSize that stays idle for idleTimeout is stopped (teardown runs) and not
 * replaced. Every backend it starts is handed to `adopt`: the pool's scheduler, or an
 * agent's router (agents keep a fixed size).
 */
export class LocalWorkers {
  readonly #options: LocalWorkersOptions;
  readonly #adopt: (backend: Backend) => void;
  readonly #events: LocalWorkerEvents;
  readonly #sizing: Sizing | undefined;
  readonly #backends = new Set<LocalBackend>();
  /** Stopped for being idle: leaving, not to be replaced. */
  readonly #shrinking = new Set<LocalBackend>();
  readonly #respawns = new Set<NodeJS.Timeout>();
  /** Workers still starting: stopping waits for them (they stop themselves). */
  readonly #starting = new Set<Promise<void>>();
  #respawnFailures = 0;
  #growPausedUntil = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #stopping = false;

  private constructor(options: LocalWorkersOptions, adopt: (backend: Backend) => void, events: LocalWorkerEvents, sizing?: Sizing) {
    this.#options = options;
    this.#adopt = adopt;
    this.#events = events;
    this.#sizing = sizing;
  }

  /** Resolves once every worker has loaded the task module; on any failure, stops the rest and rejects. */
  static async start(
    options: LocalWorkersOptions,
    adopt: (backend: Backend) => void,
    events: LocalWorkerEvents = {},
    sizing?: Sizing,
  ): Promise<LocalWorkers> {
    const workers = new LocalWorkers(options, adopt, events, sizing);
    const started = await Promise.allSettled(Array.from({ length: options.size }, () => workers.#startWorker()));
    const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await workers.destroy();
      throw failure.reason;
    }
    workers.#watchIdle();
    return workers;
  }

  /** Workers up or starting, less those leaving for being idle. */
  get #count(): number {
    return this.#backends.size - this.#shrinking.size + this.#starting.size;
  }

  /** `waiting` tasks have no room: starts workers for them, up to maxSize. */
  grow(waiting: number): void {
    if (this.#stopping || performance.now() < this.#growPausedUntil) return;
    const more = Math.min(waiting, this.#options.maxSize - this.#count);
    for (let i = 0; i < more; i++) {
      this.#startWorker().then(
        () => {
          this.#respawnFailures = 0;
          this.#watchIdle();
        },
        (error: Error) => {
          // A module that fails to start is not retried at every pump: growth pauses, with backoff.
          this.#growPausedUntil = performance.now() + this.#backoff();
          this.#respawnFailures++;
          debug('starting a worker for waiting tasks failed: %s', error.message);
          this.#events.respawnFailed?.(error);
        },
      );
    }
  }

  #add(backend: LocalBackend): void {
    this.#backends.add(backend);
    this.#adopt(backend);
  }

  #startWorker(): Promise<void> {
    const starting = this.#spawn();
    this.#starting.add(starting);
    const forget = () => this.#starting.delete(starting);
    starting.then(forget, forget);
    return starting;
  }

  async #spawn(): Promise<void> {
    const start = this.#options.mode === 'thread' ? ThreadBackend.start : ProcessBackend.start;
    const backend: LocalBackend = await start(this.#options, this.#events);
    if (this.#stopping) {
      await backend.destroy();
      return;
    }
    this.#add(backend);
    void backend.exited.then(() => {
      this.#backends.delete(backend);
      if (this.#shrinking.delete(backend)) return;
      if (!this.#stopping) this.#respawn();
    });
  }

  #backoff(): number {
    return this.#respawnFailures === 0 ? 0 : Math.min(MAX_RESPAWN_DELAY_MS, 100 * 2 ** this.#respawnFailures);
  }

  #respawn(): void {
    const timer = setTimeout(() => {
      this.#respawns.delete(timer);
      this.#startWorker().then(
        () => (this.#respawnFailures = 0),
        (error: Error) => {
          this.#respawnFailures++;
          debug('replacing a worker failed: %s', error.message);
          this.#events.respawnFailed?.(error);
          if (!this.#stopping) this.#respawn();
        },
      );
    }, this.#backoff());
    this.#respawns.add(timer);
  }

  /** While there are workers beyond minSize, looks for idle ones every so often. */
  #watchIdle(): void {
    const { idleTimeout, minSize } = this.#options;
    if (this.#idleTimer !== undefined || this.#stopping || this.#sizing === undefined || idleTimeout === Infinity) return;
    if (this.#count <= minSize) return;
    const period = Math.min(MAX_IDLE_CHECK_MS, Math.max(10, idleTimeout / 4));
    // Never what keeps the process alive: an idle pool lets it exit.
    this.#idleTimer = setTimeout(this.#stopIdle, period).unref();
  }

  #stopIdle = (): void => {
    this.#idleTimer = undefined;
    const newestFirst = [...this.#backends].reverse();
    for (const backend of newestFirst) {
      if (this.#count <= this.#options.minSize) break;
      if (this.#shrinking.has(backend) || !this.#sizing!.retirable(backend, this.#options.idleTimeout)) continue;
      this.#shrinking.add(backend);
      backend.retire();
    }
    this.#watchIdle();
  };

  /** Stops replacing workers, then stops each with `stop`. */
  async #stop(stop: (backend: Backend) => Promise<void>): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#idleTimer);
    for (const timer of this.#respawns) clearTimeout(timer);
    this.#respawns.clear();
    await Promise.all([...this.#backends].map(stop));
    await Promise.allSettled([...this.#starting]);
  }

  close(): Promise<void> {
    return this.#stop((backend) => backend.close());
  }

  destroy(): Promise<void> {
    return this.#stop((backend) => backend.destroy());
  }
}
