import cluster, { type Worker } from 'node:cluster';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { debug } from '../debug.js';
import { setDelay } from '../timers.js';
import { DataCloneError, deserializeError, ProtocolError, ResourceLimitError, WorkerStartError } from '../errors.js';
import { FramePipe } from '../transport/pipe.js';
import { entryCount, parseResults, type Results } from '../worker/batch.js';
import { parseActorCall, uncloneable } from '../worker/calls.js';
import { compactBatch, parseAnyResults } from '../worker/compact-forms.js';
import {
  MSG_CALL, MSG_DROP, MSG_INIT, MSG_READY, MSG_REPLY, MSG_RESULTS, MSG_RUN, MSG_START_FAILED, PIPE_FD, REAPED_ENV, TASKS_ENV, parseFromWorker,
  type ToWorker,
} from '../worker/protocol.js';
import { CLOSE_GRACE_MS, entryUrl, type LocalBackendOptions, type WorkerEvents } from './local.js';
import { reaper } from './reaper.js';
import { Recycling } from './recycling.js';
import { batchIds, type Backend, type BackendHost, type Batch, type CallReply, type WorkerInfo } from './types.js';

/** How long a dead worker's pipe may take to yield what the worker wrote before it ended. */
const PIPE_DRAIN_MS = 1_000;

/**
 * One worker process forked with node:cluster. It starts over Node's IPC (init, ready, and
 * the disconnect that stops it); batches, results, actor calls and replies then go on a pipe
 * of its own (transport/pipe.ts): JSON text for small plain values, v8 bytes for others, so
 * values keep the semantics they have on threads and agents, and bytes travel as bytes.
 */
export class ProcessBackend implements Backend {
  readonly kind = 'process';
  readonly parallelism = 1;
  readonly id: string;
  readonly names: ReadonlySet<string>;
  readonly capacity: number;
  readonly pid: number;
  readonly exited: Promise<void>;
  readonly #worker: Worker;
  readonly #pipe: FramePipe;
  #host: BackendHost | undefined;
  #state: 'running' | 'stopping' | 'exited' = 'running';
  #killedByUs = false;
  /**
   * A write to the worker failed: it is gone, though its pipe may still look writable until
   * the event loop sees it close. Work re-queued meanwhile must not come back here: that
   * write fails on the next tick too, and the loop never gets to the close.
   */
  #writeFailed = false;
  #sent = 0;
  #written = 0;
  #congestedUntil = 0;
  readonly recycling: Recycling;
  #retired = false;

  private constructor(worker: Worker, socket: Socket, names: string[], options: LocalBackendOptions, events: WorkerEvents) {
    this.#worker = worker;
    this.pid = worker.process.pid!;
    this.id = `process-${this.pid}`;
    this.names = new Set(names);
    this.capacity = options.maxInFlight;
    this.recycling = new Recycling(options);
    // Only our own worker entry talks here: a malformed message means it is broken.
    const broken = (error: Error) => {
      debug('worker process %d sent a malformed message: %s', this.pid, error.message);
      this.#worker.process.kill('SIGKILL');
    };
    this.#pipe = new FramePipe(socket, {
      message: (value) => {
        try {
          if (typeof value === 'string' || Array.isArray(value)) return this.#results(parseAnyResults(value));
          const message = parseFromWorker(value);
          if (message?.t === MSG_RESULTS) this.#results(parseResults(message.r));
          else if (message?.t === MSG_CALL) this.#host?.call(this, parseActorCall(message.c));
        } catch (error) {
          if (!(error instanceof ProtocolError)) throw error;
          broken(error);
        }
      },
      fault: broken,
      // Our worker never closes its end: a pipe that closes under a live worker leaves it
      // unreachable with tasks in flight, so it goes, and its tasks with it (the exit re-queues them).
      closed: () => {
        if (this.#state !== 'running') return;
        debug('worker process %d closed its pipe', this.pid);
        this.#worker.process.kill('SIGKILL');
      },
    });
    // Idle workers must not keep the primary alive; setBusy() refs the process and its
    // pipe while tasks run, so that a worker dying mid-task is still seen.
    worker.process.unref();
    worker.process.channel?.unref();
    this.#pipe.unref();
    worker.on('error', (error: Error) => debug('worker process %d: %s', this.pid, error.message));
    this.exited = new Promise((resolve) => {
      worker.once('exit', async (code: number | null, signal: string | null) => {
        const wasStopping = this.#state === 'stopping';
        this.#state = 'exited';
        // Results the worker wrote before it ended still count: they are read before its tasks go elsewhere.
        await this.#pipe.drained(PIPE_DRAIN_MS);
        const how = `exited with ${signal ?? `code ${code}`}`;
        // V8 aborts a process that runs out of heap: with a heap limit set, that is the limit.
        const error =
          signal === 'SIGABRT' && options.resourceLimits?.maxOldGenerationSizeMb !== undefined
            ? new ResourceLimitError(`worker process ${this.pid} hit its heap limit (maxOldGenerationSizeMb: ${options.resourceLimits.maxOldGenerationSizeMb}) and ${how}`)
            : new Error(`worker process ${this.pid} ${how}`);
        if (!wasStopping) events.workerExit?.(this.info(0)[0], error);
        this.#host?.exited(this, this.#killedByUs || wasStopping ? 'stopped' : 'died', error);
        resolve();
      });
    });
  }

  static start(options: LocalBackendOptions, events: WorkerEvents = {}): Promise<ProcessBackend> {
    // cluster's settings are process-wide: set ours for this fork only, then put back the
    // user's (or Node's defaults), so a cluster.fork() of their own is not a Troupe worker.
    // setupPrimary() merges into the settings it has: a key the user never set goes back to undefined.
    const previous = {
      exec: process.argv[1], execArgv: process.execArgv, args: process.argv.slice(2), serialization: undefined, stdio: undefined,
      ...cluster.settings,
    };
    cluster.setupPrimary({
      exec: fileURLToPath(entryUrl('process-entry')),
      execArgv: processExecArgv(options),
      // The IPC channel carries the init, whose workerData keeps v8's semantics like any value.
      serialization: 'advanced',
      args: [],
      // After stdin, stdout, stderr and IPC: the pipe for batches and results (PIPE_FD).
      stdio: ['inherit', 'inherit', 'inherit', 'ipc', 'pipe'],
    });
    let worker: Worker;
    try {
      worker = cluster.fork({ ...options.env, [TASKS_ENV]: options.tasks.href, ...(reaper.ensure() && { [REAPED_ENV]: '1' }) });
    } finally {
      cluster.setupPrimary(previous);
    }
    const pid = worker.process.pid;
    if (pid !== undefined) {
      reaper.watch(pid);
      worker.process.once('exit', () => reaper.forget(pid));
    }
    return new Promise((resolve, reject) => {
      const done = (error?: Error, names?: string[]) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        if (error) {
          worker.process.kill('SIGKILL');
          reject(error);
          return;
        }
        const socket = worker.process.stdio[PIPE_FD];
        if (!(socket instanceof Socket)) {
          worker.process.kill('SIGKILL');
          reject(new WorkerStartError('worker process has no pipe for batches'));
          return;
        }
        const backend = new ProcessBackend(worker, socket, names!, options, events);
        events.workerStart?.(backend.info(0)[0]);
        resolve(backend);
      };
      const onMessage = (value: unknown) => {
        const message = parseFromWorker(value);
        if (message?.t === MSG_INIT) worker.send({ t: MSG_INIT, workerData: options.workerData, reportHeap: new Recycling(options).watchesHeap } satisfies ToWorker);
        else if (message?.t === MSG_READY) done(undefined, message.names);
        else if (message?.t === MSG_START_FAILED) {
          const cause = deserializeError(message.error);
          done(new WorkerStartError(`worker process could not load ${options.tasks.href}: ${cause.message}`, cause));
        }
      };
      const onExit = (code: number | null, signal: string | null) =>
        done(new WorkerStartError(`worker process exited with ${signal ?? `code ${code}`} before it was ready`));
      const timer = setDelay(
        () => done(new WorkerStartError(`worker process did not start within ${options.startTimeout} ms`)),
        options.startTimeout,
      );
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      worker.on('error', (error: Error) => debug('worker process: %s', error.message));
    });
  }

  get ready(): boolean {
    return (
      this.#state === 'running' && !this.#killedByUs && !this.#writeFailed && this.#pipe.writable &&
      this.#written >= this.#congestedUntil && !this.recycling.due
    );
  }

  retire(): void {
    if (this.#retired) return;
    this.#retired = true;
    void this.close();
  }

  attach(host: BackendHost): void {
    this.#host = host;
  }

  #results(results: Results): void {
    this.recycling.reported(results);
    this.#host?.results(this, results);
  }

  dispatch(batch: Batch): void {
    // A value that cannot be serialized throws here, before anything is counted as sent.
    // send() returning false means the pipe is backed up: take no more until it is written.
    const message: ToWorker = compactBatch(batch) ?? { t: MSG_RUN, b: batch };
    let accepted: boolean;
    try {
      accepted = this.#pipe.send(message, (error) => this.#onWritten(batch, error ?? null));
    } catch (error) {
      throw new DataCloneError((error as Error).message, { cause: error });
    }
    // Actor messages do not count: a worker hosting actors is never recycled anyway.
    if (batch.actor === undefined) this.recycling.dispatched(entryCount(batch));
    const sequence = ++this.#sent;
    if (!accepted) this.#congestedUntil = sequence;
  }

  #onWritten(batch: Batch, error: Error | null): void {
    const wasCongested = !this.ready;
    this.#written++;
    // Never written (the worker is gone or going): it never ran, so it costs no attempt.
    if (error) {
      this.#writeFailed = true;
      this.#host?.lost(this, batchIds(batch), 'stopped', error);
    } else if (wasCongested && this.ready) this.#host?.writable(this);
  }

  drop(ids: readonly number[]): void {
    this.#control({ t: MSG_DROP, ids });
  }

  reply(reply: CallReply): void {
    try {
      this.#control({ t: MSG_REPLY, r: reply });
    } catch (error) {
      this.#control({ t: MSG_REPLY, r: uncloneable(reply, error) });
    }
  }

  /** Sends a control message; one that cannot go because the worker is gone is moot. */
  #control(message: ToWorker): void {
    if (this.#state === 'running' && this.#pipe.writable) this.#pipe.send(message);
  }

  /** A process cannot leave a running task: it is killed and replaced; its other tasks run again. */
  cancel(): void {
    if (this.#state !== 'running') return;
    this.#killedByUs = true;
    // Its exit re-queues the tasks it held and starts its replacement: until then it keeps
    // this process alive, whatever setBusy() hears (the cancelled task has left the count).
    this.#worker.process.ref();
    this.#pipe.ref();
    this.#worker.process.kill('SIGKILL');
  }

  setBusy(busy: boolean): void {
    if (this.#state !== 'running' || this.#killedByUs) return;
    if (busy) {
      this.#worker.process.ref();
      this.#pipe.ref();
    } else {
      this.#worker.process.unref();
      this.#pipe.unref();
    }
  }

  info(inFlight: number): WorkerInfo[] {
    const state = this.#state !== 'running' || this.#killedByUs ? 'stopping' : inFlight > 0 ? 'busy' : 'idle';
    return [{ id: this.id, kind: 'process', pid: this.pid, state, inFlight }];
  }

  async close(): Promise<void> {
    // An exit still being handled (its pipe read to the end) is waited for, not skipped.
    if (this.#state === 'exited') return this.exited;
    this.#state = 'stopping';
    this.#worker.process.ref();
    // The worker runs teardown() and exits when its channel closes.
    if (this.#worker.isConnected()) this.#worker.disconnect();
    const timer = setTimeout(() => this.#worker.process.kill('SIGKILL'), CLOSE_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  async destroy(): Promise<void> {
    if (this.#state === 'exited') return this.exited;
    this.#state = 'stopping';
    this.#worker.process.ref();
    this.#worker.process.kill('SIGKILL');
    await this.exited;
  }
}

/** The workers' flags: the pool's, and the heap limit of `resourceLimits` (the last such flag wins). */
function processExecArgv(options: LocalBackendOptions): string[] {
  const heap = options.resourceLimits?.maxOldGenerationSizeMb;
  return heap === undefined ? options.execArgv : [...options.execArgv, `--max-old-space-size=${heap}`];
}
