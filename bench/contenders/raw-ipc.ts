// Baselines with no pool at all: child_process.fork + process.send, to see what the IPC
// channel alone costs. Both use Node's default JSON serialization: for one small number it
// is the faster of the two (a round trip on one CPU took about 25 µs, against 29 µs with
// 'advanced'), and the batched baseline is JSON process.send of int arrays, as issue 6 names it.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { fixture, sleep, windowed, type Contender } from '../lib/harness.js';

/** One forked child; it answers messages in order, so replies match a FIFO of waiters. */
class EchoChild {
  readonly #child: ChildProcess;
  #waiters: ((value: unknown) => void)[] = [];
  #head = 0;

  constructor() {
    this.#child = fork(fileURLToPath(fixture('ipc-echo-child.js')), [], {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (message) => {
      const resolve = this.#waiters[this.#head];
      this.#waiters[this.#head++] = undefined!;
      if (this.#head > 4096 && this.#head * 2 > this.#waiters.length) {
        this.#waiters = this.#waiters.slice(this.#head);
        this.#head = 0;
      }
      resolve?.(message);
    });
  }

  send<T>(message: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      this.#waiters.push(resolve as (value: unknown) => void);
      this.#child.send(message as never, (error) => error && reject(error));
    });
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    if (child.connected) child.disconnect();
    const killed = sleep(5_000, true).then(() => child.kill('SIGKILL'));
    await Promise.race([exited, killed]);
  }
}

async function startChildren(count: number): Promise<EchoChild[]> {
  const children = Array.from({ length: count }, () => new EchoChild());
  await Promise.all(children.map((c) => c.send(2))); // answers once it has loaded
  return children;
}

/** One message per task, children taken in turn. */
export function rawIpcPerTask(children = 2): Contender {
  let kids: EchoChild[] = [];
  return {
    name: 'raw IPC 1/msg',
    detail: `${children} × child_process.fork, JSON process.send per task`,
    async setup() {
      kids = await startChildren(children);
    },
    runThroughput: (n, inFlight) => windowed(n, inFlight, (i) => kids[i % kids.length].send(i)),
    roundTrip: (i) => kids[0].send(i),
    async teardown() {
      await Promise.all(kids.map((k) => k.stop()));
    },
  };
}

/** `batch` numbers per message; each child has one message in flight at a time. */
export function rawIpcBatched(children = 2, batch = 1_000): Contender {
  let kids: EchoChild[] = [];
  return {
    name: `raw IPC ${batch}/msg`,
    detail: `${children} × fork, JSON process.send of arrays of ${batch.toLocaleString('en-US')} ints, 1 message in flight per child`,
    async setup() {
      kids = await startChildren(children);
    },
    async runThroughput(n) {
      let next = 0;
      const drive = async (kid: EchoChild) => {
        while (next < n) {
          const start = next;
          const size = Math.min(batch, n - start);
          next += size;
          const numbers = new Array<number>(size);
          for (let k = 0; k < size; k++) numbers[k] = start + k;
          const squares = await kid.send<number[]>(numbers);
          for (let k = 0; k < size; k++) {
            if (squares[k] !== (start + k) * (start + k)) throw new Error(`raw IPC batch: wrong square of ${start + k}`);
          }
        }
      };
      await Promise.all(kids.map(drive));
    },
    async teardown() {
      await Promise.all(kids.map((k) => k.stop()));
    },
  };
}
