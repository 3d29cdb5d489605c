// Baselines with no framework at all over TCP loopback, for Troupe's remote mode: a child
// process with a plain `net` server (fixtures/tcp-echo-child.js) does an agent's work inline:
// length-prefixed frames, each a v8.serialize'd flat batch `[id, 'square', [n], …]`, answered
// with one frame `[id, 0, n * n, …]`. No handshake, heartbeats, task table, retries, promises
// per task or worker behind the agent: the floor a remote scheduler + agent stand on.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { childEnv, fixture, sleep, type Contender } from '../lib/harness.js';

/** Tasks per frame: Troupe's default batchSize. */
export const RAW_TCP_BATCH = 64;

function frame(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/** The child and one connection to it; `onBatch` gets each decoded reply, `onChunkEnd` runs once per read. */
class TcpEchoChild {
  onBatch: (results: unknown[]) => void = () => {};
  onChunkEnd: () => void = () => {};
  #child: ChildProcessByStdio<Writable, Readable, null> | undefined;
  #socket: Socket | undefined;
  #pending: Buffer | null = null;
  #failed: ((error: Error) => void) | undefined;

  /** With `hop`, the child has each batch squared by a forked worker process of its own. */
  constructor(readonly hop = false) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, [fileURLToPath(fixture('tcp-echo-child.js')), ...(this.hop ? ['--hop'] : [])], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: childEnv(),
    });
    this.#child = child;
    const exited = once(child, 'exit').then(([code, signal]) => {
      throw new Error(`tcp-echo-child exited (${String(signal ?? code)})`);
    });
    exited.catch(() => {});
    const lines = createInterface({ input: child.stdout });
    const first = lines[Symbol.asyncIterator]().next();
    const line = await Promise.race([first, exited, sleep(10_000, true).then(() => ({ done: true, value: 'timeout' }))]);
    lines.close();
    const port = /^PORT (\d+)$/.exec(line.done ? '' : line.value)?.[1];
    if (!port) throw new Error(`tcp-echo-child did not say its port (${String(line.value)})`);
    const socket = connect({ host: '127.0.0.1', port: Number(port), noDelay: true });
    this.#socket = socket;
    await Promise.race([once(socket, 'connect'), exited]);
    socket.on('data', this.#onData);
    socket.on('error', (error) => this.#failed?.(error));
    socket.on('close', () => this.#failed?.(new Error('raw TCP connection closed')));
  }

  /** Rejections of the run in progress: a lost connection must not leave it hanging. */
  set failed(f: ((error: Error) => void) | undefined) {
    this.#failed = f;
  }

  write(bytes: Buffer): void {
    this.#socket!.write(bytes);
  }

  readonly #onData = (chunk: Buffer): void => {
    let buf = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = null;
    let offset = 0;
    while (buf.length - offset >= 4) {
      const length = buf.readUInt32BE(offset);
      if (buf.length - offset - 4 < length) break;
      this.onBatch(deserialize(buf.subarray(offset + 4, offset + 4 + length)) as unknown[]);
      offset += 4 + length;
    }
    if (offset < buf.length) this.#pending = buf.subarray(offset);
    this.onChunkEnd();
  };

  async stop(): Promise<void> {
    this.#failed = undefined;
    this.#socket?.destroy();
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.stdin.end(); // the child exits when its stdin closes
    const killed = sleep(5_000, true).then(() => child.kill('SIGKILL'));
    await Promise.race([exited, killed]);
  }
}

function encodeBatch(first: number, size: number): Buffer {
  const batch = new Array<unknown>(size * 3);
  for (let k = 0; k < size; k++) {
    const n = first + k;
    batch[3 * k] = n; // id: the task number doubles as its id
    batch[3 * k + 1] = 'square';
    batch[3 * k + 2] = [n];
  }
  return frame(serialize(batch));
}

/**
 * "raw TCP batched": frames of `batch` tasks, whole frames only, at most `inFlight` tasks
 * outstanding (1,000 → 15 frames, 960 tasks); replies to one read are answered with one write.
 */
export function rawTcpBatched(batch = RAW_TCP_BATCH): Contender {
  const child = new TcpEchoChild();
  return {
    name: 'raw TCP batched',
    detail: `1 child, plain net server on 127.0.0.1, ${batch} tasks per frame (v8.serialize), whole frames up to the in-flight limit, squared in the child`,
    setup: () => child.start(),
    runThroughput(n, inFlight) {
      return new Promise<void>((resolve, reject) => {
        const perFrame = Math.max(1, Math.min(batch, inFlight));
        let next = 0;
        let outstanding = 0;
        let done = 0;
        let over = false;
        const finish = (error?: Error) => {
          if (over) return;
          over = true;
          child.onBatch = () => {};
          child.onChunkEnd = () => {};
          child.failed = undefined;
          if (error) reject(error);
          else resolve();
        };
        const fill = () => {
          const frames: Buffer[] = [];
          while (next < n) {
            const size = Math.min(perFrame, n - next);
            if (outstanding + size > inFlight) break;
            frames.push(encodeBatch(next, size));
            next += size;
            outstanding += size;
          }
          if (frames.length === 1) child.write(frames[0]);
          else if (frames.length > 1) child.write(Buffer.concat(frames));
        };
        child.failed = finish;
        child.onBatch = (r) => {
          for (let j = 0; j < r.length; j += 3) {
            const id = r[j] as number;
            if (r[j + 1] !== 0 || r[j + 2] !== id * id) return finish(new Error(`raw TCP: task ${id} came back as ${String(r[j + 2])}`));
          }
          outstanding -= r.length / 3;
          done += r.length / 3;
          if (done === n) finish();
        };
        child.onChunkEnd = () => {
          if (!over) fill();
        };
        if (n === 0) finish();
        else fill();
      });
    },
    teardown: () => child.stop(),
  };
}

/**
 * "raw TCP round trip": one one-task frame out, its answer back, one at a time. With `hop`,
 * the TCP child hands the task to a forked worker process and back (JSON IPC), as an
 * agent does: the floor under remote mode's round trip with the agent's hop.
 */
export function rawTcpRoundTrip(hop = false): Contender {
  const child = new TcpEchoChild(hop);
  return {
    name: hop ? 'raw TCP + IPC hop round trip' : 'raw TCP round trip',
    detail: `1 child, plain net server on 127.0.0.1, one one-task frame (v8.serialize) at a time${hop ? ", squared by the child's own forked child" : ''}`,
    setup: () => child.start(),
    roundTrip(i) {
      return new Promise((resolve, reject) => {
        child.failed = reject;
        child.onBatch = (r) => {
          child.onBatch = () => {};
          child.failed = undefined;
          if (r[0] !== i || r[1] !== 0) reject(new Error(`raw TCP round trip ${i}: got ${String(r)}`));
          else resolve(r[2]);
        };
        child.write(encodeBatch(i, 1));
      });
    },
    teardown: () => child.stop(),
  };
}
