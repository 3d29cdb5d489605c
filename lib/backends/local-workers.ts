import { debug } from '../debug.js';
import { ProcessBackend } from './process.js';
import { ThreadBackend } from './thread.js';
import type { LocalBackendOptions, WorkerEvents } from './local.js';
import type { Backend } from './types.js';


/** Longest pause between attempts to replace a worker that keeps failing to start. */
const MAX_RESPAWN_DELAY_MS = 10_000;

export interface LocalWorkersOptions extends LocalBackendOptions {
  mode: 'thread' | 'process';
}

export interface LocalWorkerEvents extends WorkerEvents {
  /** A replacement worker failed to start; another try follows, later. */
  respawnFailed?(error: Error): void;
}

type LocalBackend = ProcessBackend | ThreadBackend;

/**
 * This machine's workers: `size` worker threads or processes, each a backend of its own,
 * each replaced when it exits (with backoff while replacements keep failing). Every
 * backend it starts is handed to `adopt`: the pool's scheduler, or an agent's router.
 */
export class LocalWorkers {
  readonly #options: LocalWorkersOptions;
  readonly #adopt: (backend: Backend) => void;
  readonly #events: LocalWorkerEvents;
  readonly #backends = new Set<Backend>();
  readonly #respawns = new Set<NodeJS.Timeout>();
  /** Workers still starting: stopping waits for them (they stop themselves). */
  readonly #starting = new Set<Promise<void>>();
  #respawnFailures = 0;
  #stopping = false;

  private constructor(options: LocalWorkersOptions, adopt: (backend: Backend) => void, events: LocalWorkerEvents) {
    this.#options = options;
    this.#adopt = adopt;
    this.#events = events;
  }

  /** Resolves once every worker has loaded the task module; on any failure, stops the rest and rejects. */
  static async start(
    options: LocalWorkersOptions,
    adopt: (backend: Backend) => void,
    events: LocalWorkerEvents = {},
  ): Promise<LocalWorkers> {
    const workers = new LocalWorkers(options, adopt, events);
    const started = await Promise.allSettled(Array.from({ length: options.size }, () => workers.#startWorker()));
    const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await workers.destroy();
      throw failure.reason;
    }
    return workers;
  }

  #add(backend: Backend): void {
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
      if (!this.#stopping) this.#respawn();
    });
  }

  #respawn(): void {
    const delay = this.#respawnFailures === 0 ? 0 : Math.min(MAX_RESPAWN_DELAY_MS, 100 * 2 ** this.#respawnFailures);
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
    }, delay);
    this.#respawns.add(timer);
  }

  /** Stops replacing workers, then stops each with `stop`. */
  async #stop(stop: (backend: Backend) => Promise<void>): Promise<void> {
    this.#stopping = true;
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
