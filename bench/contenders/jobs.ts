// Everything the cpu and payload suites run a job on, behind one shape: Troupe in each mode
// (the pools `troupe bench` uses), the peer thread pools, and raw media with no framework.
import { fork, spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { Piscina } from 'piscina';
import { Tinypool } from 'tinypool';
import workerpool from 'workerpool';
import { startCell, type Cell } from '../../dist/bench/cells.js';
import type { BenchMode } from '../../dist/bench/options.js';
import { frameReader } from '../fixtures/frame-reader.js';
import { bareLaunch, childEnv, fixture, sleep } from '../lib/harness.js';

export interface JobRunner {
  name: string;
  detail: string;
  setup(): Promise<void>;
  /** Runs job `job` with one argument; `transfer` moves ArrayBuffers where the medium can. */
  call(job: string, arg: unknown, transfer?: ArrayBuffer[]): Promise<unknown>;
  teardown(): Promise<void>;
}

export const JOBS = fixture('jobs.js');

const HOW: Record<BenchMode, (size: number) => string> = {
  thread: (size) => `createPool({ mode: 'thread', size: ${size} })`,
  process: (size) => `createPool({ mode: 'process', size: ${size} })`,
  remote: (size) => `1 agent process (\`troupe agent --mode process --size ${size}\`) on 127.0.0.1`,
  inline: (size) => `${size} inline agent${size > 1 ? 's' : ''} (\`troupe agent --mode inline\`) on 127.0.0.1: no hop to a worker process`,
};

/** Troupe in `mode`; 'inline' is named "troupe remote inline" beside the other remote contender. */
export function troupe(mode: BenchMode, size: number, options: { transfer?: boolean } = {}): JobRunner {
  let cell: Cell | undefined;
  return {
    name: `troupe ${mode === 'inline' ? 'remote inline' : mode}${options.transfer ? ' transfer' : ''}`,
    detail: `${HOW[mode](size)}${options.transfer ? ', run(…, { transfer }) and echoMove' : ''}`,
    async setup() {
      cell = await startCell(mode, size, JOBS, bareLaunch());
    },
    call: (job, arg, transfer) => cell!.pool.run(job, [arg], transfer && options.transfer ? { transfer } : undefined),
    teardown: async () => cell?.stop(),
  };
}

interface PiscinaLike {
  run(task: unknown, options: { name: string; transferList?: ArrayBuffer[] }): Promise<unknown>;
  destroy(): Promise<unknown>;
}

function threadPool(name: string, detail: string, make: () => PiscinaLike, moves = false): JobRunner {
  let pool: PiscinaLike | undefined;
  return {
    name,
    detail,
    async setup() {
      pool = make();
      await Promise.all(Array.from({ length: 4 }, () => pool!.run(1, { name: 'spin' })));
    },
    call: (job, arg, transfer) => pool!.run(arg, { name: job, ...(moves && transfer ? { transferList: transfer } : {}) }),
    teardown: async () => void (await pool?.destroy()),
  };
}

export function piscina(size: number, options: { move?: boolean } = {}): JobRunner {
  return threadPool(
    options.move ? 'piscina move' : 'piscina',
    `${size} thread${size > 1 ? 's' : ''}${options.move ? ', transferList in and move() back' : ''}`,
    () => new Piscina({ filename: fixture('piscina-jobs.js').href, minThreads: size, maxThreads: size, idleTimeout: Infinity, execArgv: [] }),
    options.move,
  );
}

export function tinypool(size: number): JobRunner {
  return threadPool('tinypool', `${size} thread${size > 1 ? 's' : ''}`, () =>
    new Tinypool({ filename: fixture('jobs.js').href, minThreads: size, maxThreads: size, idleTimeout: 2 ** 31 - 1, execArgv: [] }) as PiscinaLike,
  );
}

export function workerpoolThreads(size: number): JobRunner {
  let pool: workerpool.Pool | undefined;
  return {
    name: 'workerpool',
    detail: `${size} workers, workerType 'thread'`,
    async setup() {
      pool = workerpool.pool(fileURLToPath(fixture('workerpool-jobs.js')), {
        minWorkers: size,
        maxWorkers: size,
        workerType: 'thread',
        workerThreadOpts: { execArgv: [] },
      });
      await Promise.all(Array.from({ length: 4 }, () => pool!.exec('spin', [1])));
    },
    call: (job, arg) => pool!.exec(job, [arg]),
    teardown: async () => void (await pool?.terminate()),
  };
}

/** `size` forked children, one message per job, replies matched in order per child. */
export function rawFork(size: number, serialization: 'json' | 'advanced'): JobRunner {
  const children: { child: ChildProcess; waiters: ((value: unknown) => void)[] }[] = [];
  let next = 0;
  return {
    name: `raw fork ${serialization}`,
    detail: `${size} × child_process.fork, process.send per job, serialization '${serialization}'`,
    async setup() {
      for (let k = 0; k < size; k++) {
        const child = fork(fileURLToPath(fixture('raw-job-child.js')), [], { serialization, execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        const entry = { child, waiters: [] as ((value: unknown) => void)[] };
        child.on('message', (message) => entry.waiters.shift()?.(message));
        children.push(entry);
      }
      await Promise.all(children.map((_, k) => this.call('echo', k)));
    },
    call(job, arg) {
      const entry = children[next++ % children.length];
      return new Promise((resolve, reject) => {
        entry.waiters.push(resolve);
        entry.child.send((job === 'spin' ? { spin: arg } : arg) as never, (error) => error && reject(error));
      });
    },
    async teardown() {
      await Promise.all(
        children.map(async ({ child }) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = once(child, 'exit');
          if (child.connected) child.disconnect();
          await Promise.race([exited, sleep(5_000, true).then(() => child.kill('SIGKILL'))]);
        }),
      );
    },
  };
}

/** One child with a plain `net` server on 127.0.0.1: a v8-serialized value per frame, echoed. */
/** With `hop`, the TCP child hands each value to a forked worker process and back (an agent's hop, with no agent). */
export function rawTcp(hop = false): JobRunner {
  let child: ChildProcessByStdio<Writable, Readable, null> | undefined;
  let socket: Socket | undefined;
  const waiters: ((value: unknown) => void)[] = [];
  const onData = frameReader((body) => waiters.shift()?.(deserialize(body)));
  return {
    name: hop ? 'raw TCP + IPC hop' : 'raw TCP',
    detail: `1 child, plain net server on 127.0.0.1, length-prefixed v8.serialize frames, echoed${hop ? " by its own forked child ('advanced' IPC)" : ''}`,
    async setup() {
      const args = [fileURLToPath(fixture('raw-tcp-echo-child.js')), ...(hop ? ['--hop'] : [])];
      child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'], env: childEnv() });
      const lines = createInterface({ input: child.stdout });
      const [line] = (await Promise.race([once(lines, 'line'), sleep(10_000, true).then(() => ['timeout'])])) as string[];
      lines.close();
      const port = /^PORT (\d+)$/.exec(line)?.[1];
      if (!port) throw new Error(`raw-tcp-echo-child said ${line}`);
      socket = connect({ host: '127.0.0.1', port: Number(port), noDelay: true });
      await once(socket, 'connect');
      socket.on('data', onData);
    },
    call(_job, arg) {
      return new Promise((resolve) => {
        waiters.push(resolve);
        const body = serialize(arg);
        const header = Buffer.allocUnsafe(4);
        header.writeUInt32BE(body.length, 0);
        socket!.write(header);
        socket!.write(body);
      });
    },
    async teardown() {
      socket?.destroy();
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin.end();
      await Promise.race([exited, sleep(5_000, true).then(() => child!.kill('SIGKILL'))]);
    },
  };
}

/** Sets up each runner in turn, runs `body`, and tears every started one down, also on error. */
export async function withRunners<T>(runners: JobRunner[], body: (ready: JobRunner[], skipped: { name: string; reason: string }[]) => Promise<T>): Promise<T> {
  const ready: JobRunner[] = [];
  const skipped: { name: string; reason: string }[] = [];
  try {
    for (const r of runners) {
      try {
        await r.setup();
        ready.push(r);
      } catch (error) {
        skipped.push({ name: r.name, reason: (error as Error).message });
        console.error(`skipping ${r.name}: ${(error as Error).message}`);
        await r.teardown().catch(() => {});
      }
    }
    return await body(ready, skipped);
  } finally {
    for (const r of ready.reverse()) await r.teardown().catch((error: Error) => console.error(`teardown of ${r.name}: ${error.message}`));
  }
}
