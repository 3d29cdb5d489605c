import type { TransferListItem } from 'node:worker_threads';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { debug } from '../debug.js';
import { ProtocolError, ResourceLimitError, WorkerStartError } from '../errors.js';
import { parseActorCall, uncloneable } from '../worker/calls.js';
import { isControl, MSG_CALL, MSG_DROP, MSG_MANY, MSG_REPLY, parseThreadReady, THREAD_STOP, THREAD_STOPPED, type ToWorker } from '../worker/protocol.js';
import type { ThreadData } from '../worker/thread-entry.js';
import { packBatch, unpackResults } from '../worker/thread-channel.js';
import { CLOSE_GRACE_MS, entryUrl, threadExecArgv, withDeadline, type LocalBackendOptions, type WorkerEvents } from './local.js';
import { Recycling } from './recycling.js';
import { entryCount } from '../worker/batch.js';
import type { Backend, BackendHost, Batch, CallReply, WorkerInfo } from './types.js';
import { atTurnEnd } from '../timers.js';

/** How long a dead thread's error may take to reach us after its port closed. */
const ERROR_GRACE_MS = 1_000;

/**
 * One worker thread, started and supervised by piscina (a pool of one thread, with the
 * pool's resource settings), which then hands the thread a MessagePort of its own: batches
 * and results travel on it. So each thread is a backend with an identity, as each worker
 * process is; its async tasks overlap; and nothing is paid per batch beyond a postMessage.
 * A thread that dies, or is stopped to cancel a task, is replaced by a new backend.
 */
export class ThreadBackend implements Backend {
  readonly kind = 'thread';
  readonly parallelism = 1;
  readonly id: string;
  readonly names: ReadonlySet<string>;
  readonly capacity: number;
  readonly threadId: number;
  readonly exited: Promise<void>;
  readonly #piscina: Piscina;
  readonly #port: MessagePort;
  #host: BackendHost | undefined;
  #state: 'running' | 'stopping' | 'exited' = 'running';
  #killedByUs = false;
  #lastError: Error | undefined;
  #stopped: (() => void) | undefined;
  /** atomics: 'sync': counted up and notified after each message, to wake the blocked thread. */
  readonly #wake: Int32Array | undefined;
  readonly recycling: Recycling;
  #retired = false;
  /** Actor batches and drops gathered, to go as one message. */
  #outbox: unknown[] = [];
  /** A message of actor traffic is on its way and not answered yet. */
  #actorMessageUnanswered = false;

  private constructor(
    piscina: Piscina, port: MessagePort, ready: { names: string[]; threadId: number }, options: LocalBackendOptions,
    events: WorkerEvents, wake: Int32Array | undefined,
  ) {
    this.#piscina = piscina;
    this.#wake = wake;
    this.#port = port;
    this.threadId = ready.threadId;
    this.id = `thread-${ready.threadId}`;
    this.names = new Set(ready.names);
    this.capacity = options.maxInFlight;
    this.recycling = new Recycling(options);
    piscina.on('error', (error: Error) => (this.#lastError = error));
    let released = false;
    piscina.once('workerDestroy', () => (released = true));
    const destroyed = () =>
      released
        ? Promise.resolve()
        : withDeadline(new Promise<void>((resolve) => piscina.once('workerDestroy', () => resolve())), ERROR_GRACE_MS, 'thread exit').catch(() => {});
    port.on('message', (message: unknown) => {
      if (isControl(message, THREAD_STOPPED)) return this.#stopped?.();
      try {
        if ((message as { t?: unknown } | null)?.t === MSG_CALL) {
          this.#host?.call(this, parseActorCall((message as { c: unknown }).c));
        } else {
          const results = unpackResults(message);
          this.#answered();
          this.recycling.reported(results);
          this.#host?.results(this, results);
        }
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        debug('thread %d sent a malformed message: %s', this.threadId, error.message);
        this.#terminate();
      }
    });
    // Idle threads must not keep the process alive: setBusy() refs the port while tasks run.
    port.unref();
    this.exited = new Promise((resolve) => {
      // The port closes when the thread ends, however it ends.
      port.once('close', async () => {
        const wasStopping = this.#state === 'stopping';
        this.#state = 'exited';
        // A thread that died may have said why (its Worker's 'error', e.g. out of memory):
        // piscina hears it after the port closes, and says so before it lets the thread go.
        if (!wasStopping && !this.#killedByUs) await destroyed();
        const error = exitError(this.#lastError, this.threadId);
        if (!wasStopping) events.workerExit?.(this.info(0)[0], error);
        this.#host?.exited(this, this.#killedByUs || wasStopping ? 'stopped' : 'died', error);
        void piscina.destroy().then(() => resolve(), () => resolve());
      });
    });
  }

  static async start(options: LocalBackendOptions, events: WorkerEvents = {}): Promise<ThreadBackend> {
    let piscina: Piscina | undefined;
    const { port1, port2 } = new MessageChannel();
    const wake = options.atomics === 'sync' ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
    try {
      piscina = new Piscina({
        filename: entryUrl('thread-entry').href,
        minThreads: 1,
        maxThreads: 1,
        idleTimeout: Infinity,
        // The thread serves its own port from its event loop: it must never block in Atomics.wait.
        atomics: 'disabled',
        execArgv: threadExecArgv(options.execArgv),
        env: options.env as Record<string, string>,
        resourceLimits: options.resourceLimits,
        workerData: {
          tasks: options.tasks.href,
          workerData: options.workerData,
          reportHeap: new Recycling(options).watchesHeap,
        } satisfies ThreadData,
      });
      // Until the backend exists, a thread failing to start is reported by run() below.
      piscina.on('error', (error: Error) => debug('worker thread: %s', error.message));
      const ready = new Promise<{ names: string[]; threadId: number }>((resolve, reject) => {
        port1.once('message', (message: unknown) => {
          const parsed = parseThreadReady(message);
          if (parsed) resolve(parsed);
          else reject(new Error('the thread did not introduce itself'));
        });
      });
      const served = piscina.run({ port: port2, wake }, { transferList: [port2] }) as Promise<void>;
      const [introduction] = await withDeadline(Promise.all([ready, served]), options.startTimeout, 'worker thread');
      const backend = new ThreadBackend(piscina, port1, introduction, options, events, wake);
      events.workerStart?.(backend.info(0)[0]);
      return backend;
    } catch (error) {
      port1.close();
      await piscina?.destroy().catch(() => {});
      throw error instanceof WorkerStartError
        ? error
        : new WorkerStartError(`worker thread could not start with ${options.tasks.href}: ${(error as Error).message}`, error);
    }
  }

  get ready(): boolean {
    return this.#state === 'running' && !this.#killedByUs && !this.recycling.due;
  }

  retire(): void {
    if (this.#retired) return;
    this.#retired = true;
    void this.close();
  }

  attach(host: BackendHost): void {
    this.#host = host;
  }

  dispatch(batch: Batch, transfer: TransferListItem[] | undefined): void {
    // A value that does not clone throws here, and the scheduler then sends the batch's tasks one by one.
    const posted = packBatch(batch, transfer);
    if (batch.actor !== undefined && transfer === undefined) return this.#later(posted.message);
    this.#port.postMessage(posted.message, posted.transfer);
    this.#notify();
    // Actor messages do not count: a worker hosting actors is never recycled anyway.
    if (batch.actor === undefined) this.recycling.dispatched(entryCount(batch));
  }

  #notify(): void {
    if (this.#wake === undefined) return;
    Atomics.add(this.#wake, 0, 1);
    Atomics.notify(this.#wake, 0);
  }

  drop(ids: readonly number[]): void {
    if (this.#state === 'running') this.#later({ t: MSG_DROP, ids } satisfies ToWorker);
  }

  /**
   * Actor traffic goes as one message at a time, gathering what comes meanwhile: a thread
   * handles each port message in a turn of its own and answers each, so batches for several
   * actors sent apart would come back apart and shrink to one call each. The thread answers
   * each such message at once (with an empty results message if need be), whatever its
   * actors then await. Drops go the same way, so none overtakes the message it drops.
   */
  #later(message: unknown): void {
    this.#outbox.push(message);
    if (this.#outbox.length === 1 && !this.#actorMessageUnanswered) atTurnEnd(this.#sendLater);
  }

  readonly #sendLater = (): void => {
    const list = this.#outbox;
    if (this.#state !== 'running' || list.length === 0 || this.#actorMessageUnanswered) return;
    this.#outbox = [];
    this.#actorMessageUnanswered = true;
    this.#port.postMessage({ t: MSG_MANY, list });
    this.#notify();
  };

  /** The thread answered: the next gathered actor traffic may go. */
  #answered(): void {
    if (!this.#actorMessageUnanswered) return;
    this.#actorMessageUnanswered = false;
    if (this.#outbox.length > 0) atTurnEnd(this.#sendLater);
  }

  reply(reply: CallReply): void {
    if (this.#state !== 'running') return;
    try {
      this.#port.postMessage({ t: MSG_REPLY, r: reply } satisfies ToWorker);
    } catch (error) {
      this.#port.postMessage({ t: MSG_REPLY, r: uncloneable(reply, error) } satisfies ToWorker);
    }
    this.#notify();
  }

  /** A thread cannot leave a running task: it is stopped and replaced; its other tasks run again. */
  cancel(): void {
    if (this.#state !== 'running') return;
    this.#killedByUs = true;
    // Until its end is handled (its tasks re-queued), it keeps this process alive, as a worker process does.
    this.#port.ref();
    this.#terminate();
  }

  #terminate(): void {
    void this.#piscina.destroy().catch(() => {});
  }

  setBusy(busy: boolean): void {
    if (this.#state !== 'running' || this.#killedByUs) return;
    if (busy) this.#port.ref();
    else this.#port.unref();
  }

  info(inFlight: number): WorkerInfo[] {
    const state = this.#state !== 'running' || this.#killedByUs ? 'stopping' : inFlight > 0 ? 'busy' : 'idle';
    return [{ id: this.id, kind: 'thread', pid: process.pid, threadId: this.threadId, state, inFlight }];
  }

  async close(): Promise<void> {
    if (this.#state === 'exited') return;
    this.#state = 'stopping';
    this.#port.ref();
    await this.#teardown();
    await this.#piscina.close();
    this.#port.close();
    await this.exited;
  }

  /** Asks the thread to run teardown(); waits for it, for the thread's end, or CLOSE_GRACE_MS. */
  async #teardown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const stopped = new Promise<void>((resolve) => {
      this.#stopped = resolve;
      timer = setTimeout(resolve, CLOSE_GRACE_MS);
    });
    try {
      this.#port.postMessage({ t: THREAD_STOP });
      this.#notify();
    } catch {
      // The port is closing: the thread is going anyway.
    }
    await Promise.race([stopped, this.exited]);
    clearTimeout(timer);
  }

  async destroy(): Promise<void> {
    if (this.#state === 'exited') return;
    this.#state = 'stopping';
    this.#port.ref();
    await this.#piscina.destroy();
    this.#port.close();
    await this.exited;
  }
}

/** Why a thread ended: its last error, as ERR_TROUPE_RESOURCE_LIMIT when it ran out of its resourceLimits. */
function exitError(last: Error | undefined, threadId: number): Error {
  if ((last as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new ResourceLimitError(`worker thread ${threadId} hit its resourceLimits: ${last!.message}`, last);
  }
  return last ?? new Error(`worker thread ${threadId} exited`);
}
