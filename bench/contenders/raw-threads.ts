// Baselines with no pool at all: a plain `new Worker` and postMessage (structured clone),
// to see what the thread channel alone costs; the thread-mode counterpart of raw-ipc.ts.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { fixture, type Contender } from '../lib/harness.js';

/** One worker thread; it answers messages in order, so replies match a FIFO of waiters. */
class EchoThread {
  readonly #worker = new Worker(fixture('thread-echo-worker.js'), { execArgv: [] });
  #waiters: { resolve: (value: unknown) => void; reject: (error: Error) => void }[] = [];
  #head = 0;

  constructor() {
    this.#worker.on('message', (message) => {
      const waiter = this.#waiters[this.#head];
      this.#waiters[this.#head++] = undefined!;
      if (this.#head > 4096 && this.#head * 2 > this.#waiters.length) {
        this.#waiters = this.#waiters.slice(this.#head);
        this.#head = 0;
      }
      waiter?.resolve(message);
    });
    // A dead worker must fail whatever waits on it, not leave the run hanging.
    const failAll = (error: Error) => {
      for (let k = this.#head; k < this.#waiters.length; k++) this.#waiters[k]?.reject(error);
      this.#waiters = [];
      this.#head = 0;
    };
    this.#worker.on('error', failAll);
    this.#worker.on('exit', (code) => failAll(new Error(`raw worker thread exited (${code})`)));
  }

  send<T>(message: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve: resolve as (value: unknown) => void, reject });
      this.#worker.postMessage(message);
    });
  }

  async stop(): Promise<void> {
    if (this.#worker.threadId === -1) return;
    const exited = once(this.#worker, 'exit');
    await this.#worker.terminate();
    await exited.catch(() => {});
  }
}

async function startThreads(count: number): Promise<EchoThread[]> {
  const threads = Array.from({ length: count }, () => new EchoThread());
  await Promise.all(threads.map((t) => t.send(2))); // answers once it has loaded
  return threads;
}

/** "raw postMessage round trip": one number out to one worker, its square back, one at a time. */
export function rawThreadRoundTrip(): Contender {
  let threads: EchoThread[] = [];
  return {
    name: 'raw postMessage round trip',
    detail: '1 × new Worker, postMessage of one number at a time',
    async setup() {
      threads = await startThreads(1);
    },
    roundTrip: (i) => threads[0].send(i),
    async teardown() {
      await Promise.all(threads.map((t) => t.stop()));
    },
  };
}

/** `batch` numbers per postMessage; each worker has one message in flight at a time. */
export function rawThreadsBatched(workers = 2, batch = 1_000): Contender {
  let threads: EchoThread[] = [];
  return {
    name: `raw threads ${batch}/msg`,
    detail: `${workers} × new Worker, arrays of ${batch.toLocaleString('en-US')} ints per postMessage, answered with arrays of squares, 1 message in flight per worker`,
    async setup() {
      threads = await startThreads(workers);
    },
    async runThroughput(n) {
      let next = 0;
      const drive = async (thread: EchoThread) => {
        while (next < n) {
          const start = next;
          const size = Math.min(batch, n - start);
          next += size;
          const numbers = new Array<number>(size);
          for (let k = 0; k < size; k++) numbers[k] = start + k;
          const squares = await thread.send<number[]>(numbers);
          for (let k = 0; k < size; k++) {
            if (squares[k] !== (start + k) * (start + k)) throw new Error(`raw threads batch: wrong square of ${start + k}`);
          }
        }
      };
      await Promise.all(threads.map(drive));
    },
    async teardown() {
      await Promise.all(threads.map((t) => t.stop()));
    },
  };
}
