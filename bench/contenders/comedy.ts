/**
 * Comedy (the `comedy` package), the Node actor framework with threaded, forked and remote
 * actors. Each of its actors in these modes owns a worker thread or a process (that is its
 * model: one actor per thread or process), so `count` actors are `count` threads or
 * processes. Remote actors need Comedy's listening node on the target host: it is started
 * here for the run on 127.0.0.1, as its README starts it (`comedy-node [port] [host]`), and
 * it forks one process per remote actor, which the caller then reaches over TCP.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import type { BenchMode } from '../../dist/bench/options.js';
import { childEnv, sleep, withDeadline } from '../lib/harness.js';
import type { ActorSet } from './actors.js';

const require = createRequire(import.meta.url);

/** The little of Comedy's API used here (its own typings pull in old @types). */
interface ComedyRef {
  sendAndReceive(topic: string, ...message: unknown[]): PromiseLike<unknown>;
  /** The actor behind the proxy; a threaded one holds its Worker. */
  actor?: { worker?: Worker };
}
interface ComedySystem {
  rootActor(): PromiseLike<{ createChild(definition: unknown, options: Record<string, unknown>): PromiseLike<ComedyRef> }>;
  destroy(): PromiseLike<unknown>;
}

const COMEDY_MODE: Record<Exclude<BenchMode, 'inline'>, string> = { thread: 'threaded', process: 'forked', remote: 'remote' };
const SETUP_TIMEOUT_MS = 60_000;
const LISTENER_EXIT_TIMEOUT_MS = 10_000;

/** Comedy's version, from its package.json, for the results. */
export function comedyVersion(): string {
  try {
    return (require('comedy/package.json') as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Comedy's listening node on 127.0.0.1; resolves once it says it listens. */
async function startListener(): Promise<{ port: number; child: ChildProcessByStdio<null, Readable, Readable> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [require.resolve('comedy/listener-node.js'), String(port), '127.0.0.1'], {
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listening = new Promise<void>((resolve, reject) => {
    const onData = (text: string) => {
      output = (output + text).slice(-4_000);
      if (/Listening on/.test(output)) resolve();
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`comedy-node exited (${String(signal ?? code)}): ${output.trim() || 'no output'}`)));
  });
  try {
    await withDeadline(listening, 15_000, 'comedy-node listening');
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { port, child };
}

async function stopListener(child: ChildProcessByStdio<null, Readable, Readable>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  if ((await Promise.race([exited.then(() => 'exited'), sleep(LISTENER_EXIT_TIMEOUT_MS, true).then(() => 'late')])) === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * `count` Comedy actors of one mode in an actor system of their own, created from a class
 * definition (Comedy ships its source to the thread or process). The system runs with
 * `test: true`, which only silences Comedy's logging and its reading and watching of an
 * actors.json file; the messaging is the same.
 */
export function comedyActors(mode: Exclude<BenchMode, 'inline'>, count: number): ActorSet {
  let system: ComedySystem | undefined;
  let listener: Awaited<ReturnType<typeof startListener>> | undefined;
  let refs: ComedyRef[] = [];
  const where = mode === 'remote' ? ' on a comedy-node listener on 127.0.0.1 (one process each, reached over TCP)' : ` (one ${mode} each)`;
  return {
    name: 'comedy',
    detail: `comedy ${comedyVersion()}: ${count} actors, createChild(Squarer, { mode: '${COMEDY_MODE[mode]}' })${where}, sendAndReceive('square', i)`,
    async setup() {
      const actors = require('comedy') as (options: Record<string, unknown>) => ComedySystem;
      const Squarer = require('../fixtures/comedy-squarer.cjs') as unknown;
      const options: Record<string, unknown> = { mode: COMEDY_MODE[mode] };
      if (mode === 'remote') {
        listener = await startListener();
        Object.assign(options, { host: '127.0.0.1', port: listener.port });
      }
      const sys = actors({ test: true });
      system = sys;
      await withDeadline(
        (async () => {
          const root = await sys.rootActor();
          for (let k = 0; k < count; k++) refs.push(await root.createChild(Squarer, options));
          await Promise.all(refs.map((ref, k) => ref.sendAndReceive('square', k)));
        })(),
        SETUP_TIMEOUT_MS,
        `comedy ${COMEDY_MODE[mode]} setup`,
      );
    },
    call: (i, spread) => refs[spread ? i % refs.length : 0].sendAndReceive('square', i),
    placement: () => refs.map(() => (mode === 'remote' ? 'own process behind comedy-node' : `own ${mode}`)),
    async teardown() {
      const sys = system;
      // Comedy 2.1.7's destroy() ends its forked and remote actors' processes but leaves a
      // threaded actor's thread running (its worker never exits): ended here after destroy().
      const threads = refs.map((ref) => ref.actor?.worker).filter((w): w is Worker => w !== undefined);
      system = undefined;
      refs = [];
      if (sys) await withDeadline(sys.destroy(), 15_000, 'comedy destroy()').catch((error: Error) => console.error(`comedy: ${error.message}`));
      await Promise.all(threads.map((w) => w.terminate()));
      if (listener) await stopListener(listener.child);
      listener = undefined;
    },
  };
}
