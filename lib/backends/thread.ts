import type { TransferListItem } from 'node:worker_threads';
import { debug } from '../debug.js';
import { deserialize } from 'node:v8';
import { Piscina } from 'piscina';
import { WorkerStartError } from '../errors.js';
import { batchIds, type Backend, type BackendHost, type Batch, type WorkerInfo } from './types.js';
import { encode, isPlainBatch } from '../worker/values.js';
import { entryUrl, threadExecArgv, withDeadline, type LocalBackendOptions, type WorkerEvents } from './local.js';


interface BatchReply {
  r: unknown[] | Uint8Array;
  busy: number;
}

interface PiscinaWorker {
  id: number;
}

/**
 * All worker threads of a pool, run by piscina. To the scheduler it is one backend whose
 * parallelism is the number of threads: piscina hands each batch to an idle thread and
 * replaces a thread that dies.
 */
export class ThreadBackend implements Backend {
  readonly kind = 'thread';
  readonly id: string;
  readonly names: ReadonlySet<string>;
  readonly parallelism: number;
  readonly capacity: number;
  readonly #piscina: Piscina;
  /** Batches that may be cancelled, by the controller that aborts them. */
  readonly #cancellable = new Map<AbortController, Batch>();
  #host: BackendHost | undefined;
  #stopping = false;

  private constructor(piscina: Piscina, names: string[], options: LocalBackendOptions) {
    this.#piscina = piscina;
    this.names = new Set(names);
    this.parallelism = options.size;
    this.capacity = options.size * options.maxInFlight;
    this.id = `threads-${process.pid}`;
  }

  static async start(options: LocalBackendOptions, events: WorkerEvents = {}): Promise<ThreadBackend> {
    const piscina = new Piscina({
      filename: entryUrl('thread-entry').href,
      minThreads: options.size,
      maxThreads: options.size,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      // piscina's default: an idle thread blocks in Atomics.wait for its next batch, the
      // fastest hand-off; work a task starts without awaiting it pauses while the thread idles.
      atomics: 'sync',
      execArgv: threadExecArgv(options.execArgv),
      env: options.env as Record<string, string>,
      workerData: { tasks: options.tasks.href },
    });
    // Errors not tied to a task (a thread failing while idle) must not crash the pool.
    piscina.on('error', (error: Error) => debug('thread pool error: %s', error.message));
    let backend: ThreadBackend | undefined;
    const describe = (worker: PiscinaWorker, state: WorkerInfo['state']): WorkerInfo =>
      ({ id: `thread-${worker.id}`, kind: 'thread', pid: process.pid, threadId: worker.id, state, inFlight: 0 });
    piscina.on('workerCreate', (worker: PiscinaWorker) => events.workerStart?.(describe(worker, 'idle')));
    piscina.on('workerDestroy', (worker: PiscinaWorker) => {
      if (backend?.ready !== false) events.workerExit?.(describe(worker, 'stopping'));
    });
    try {
      const probes = Array.from({ length: options.size }, () => piscina.run(null) as Promise<string[]>);
      const [names] = await withDeadline(Promise.all(probes), options.startTimeout, 'worker threads');
      backend = new ThreadBackend(piscina, names, options);
      return backend;
    } catch (error) {
      await piscina.destroy().catch(() => {});
      throw error instanceof WorkerStartError
        ? error
        : new WorkerStartError(`worker threads could not load ${options.tasks.href}: ${(error as Error).message}`, error);
    }
  }

  get ready(): boolean {
    return !this.#stopping;
  }

  attach(host: BackendHost): void {
    this.#host = host;
  }

  dispatch(batch: Batch, transfer: TransferListItem[] | undefined, cancellable: boolean): void {
    // An abortable piscina task costs a few µs more, so only batches that may be cancelled get a signal.
    const controller = cancellable ? new AbortController() : undefined;
    if (controller) this.#cancellable.set(controller, batch);
    // Plain values as they are, others as v8 bytes (worker/values.ts); a value that does not
    // clone throws here, and the scheduler then sends the batch's tasks one by one.
    const message = transfer || isPlainBatch(batch) ? batch : encode(batch);
    (this.#piscina.run(message, { signal: controller?.signal, transferList: transfer }) as Promise<BatchReply>).then(
      (reply) => {
        if (controller) this.#cancellable.delete(controller);
        this.#host?.results(this, Array.isArray(reply.r) ? reply.r : (deserialize(reply.r) as unknown[]), reply.busy);
      },
      (error: Error) => {
        if (controller) this.#cancellable.delete(controller);
        if (this.#stopping) return;
        // Aborting a batch stops the thread running it; its other tasks are innocent.
        const reason = controller?.signal.aborted ? 'stopped' : error.name === 'DataCloneError' ? 'isolate' : 'died';
        this.#host?.lost(this, batchIds(batch), reason, error);
      },
    );
  }

  cancel(ids: readonly number[]): void {
    const wanted = new Set(ids);
    for (const [controller, batch] of this.#cancellable) {
      if (batchIds(batch).some((id) => wanted.has(id))) controller.abort();
    }
  }

  setBusy(): void {
    // piscina refs a thread while it runs a task and unrefs it when idle.
  }

  info(inFlight: number): WorkerInfo[] {
    const threads = this.#piscina.threads;
    const share = Math.ceil(inFlight / Math.max(1, threads.length));
    const state = this.#stopping ? 'stopping' : inFlight > 0 ? 'busy' : 'idle';
    // piscina does not say which thread runs which batch: in-flight work is shown spread evenly.
    return threads.map((worker) => ({
      id: `thread-${worker.threadId}`,
      kind: 'thread',
      pid: process.pid,
      threadId: worker.threadId,
      state,
      inFlight: share,
    }));
  }

  async close(): Promise<void> {
    this.#stopping = true;
    await this.#piscina.close();
  }

  async destroy(): Promise<void> {
    this.#stopping = true;
    await this.#piscina.destroy();
  }
}
