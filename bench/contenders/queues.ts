// The origin's workload through Troupe's named queues: the pool owns a task queue and a
// result queue; consumer processes connect as clients (`connect()`), as on other machines.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createPool, type LocalQueue, type Pool } from '../../dist/index.js';
import { MAX_PREFETCH } from '../../dist/queues/protocol.js';
import { childEnv, fixture, sleep, type Contender } from '../lib/harness.js';

const JOIN_TIMEOUT_MS = 20_000;

/**
 * `inFlight` items are in the consumers' hands at once, as many as tasks in flight in the
 * remote-task contender: each consumer runs inFlight ÷ consumers loops, each awaiting its
 * put. A loop's current item counts against the prefetch window until acknowledged, so the
 * window is twice the loops (at most the pool's limit) and the next items wait buffered.
 */
export function troupeQueues(consumers: number, inFlight: number): Contender {
  const loops = Math.ceil(inFlight / consumers);
  const prefetch = Math.min(MAX_PREFETCH, 2 * loops);
  let pool: Pool | undefined;
  let tasks: LocalQueue<number>;
  let results: LocalQueue<number>;
  const children: ChildProcess[] = [];
  const exited: Promise<void>[] = [];

  /** Puts 0..n-1 and takes n results; checks their sum. */
  async function run(n: number): Promise<void> {
    const putting = (async () => {
      for (let i = 0; i < n; i++) await tasks.put(i);
    })();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += await results.get({ timeout: 60_000 });
    await putting;
    const expected = ((n - 1) * n * (2 * n - 1)) / 6;
    if (sum !== expected) throw new Error(`queues: sum of squares ${sum}, expected ${expected}`);
  }

  return {
    name: 'troupe queues',
    detail:
      `pool.queue('tasks') and pool.queue('results') (capacity 10,000) on 127.0.0.1; ${consumers} consumer processes, ` +
      `each connect() with prefetch ${prefetch} and ${loops} loops \`for await (n of tasks) await results.put(n * n)\``,
    async setup() {
      const authkey = randomBytes(24).toString('hex');
      const p = await createPool({ tasks: fixture('troupe-tasks.js'), size: 0, listen: { host: '127.0.0.1', port: 0, authkey } });
      pool = p;
      tasks = p.queue<number>('tasks', { capacity: 10_000 });
      results = p.queue<number>('results', { capacity: 10_000 });
      let joined = 0;
      const all = new Promise<void>((resolve) => p.on('clientJoin', () => ++joined === consumers && resolve()));
      const address = `127.0.0.1:${p.address()!.port}`;
      for (let i = 0; i < consumers; i++) {
        const child = spawn(process.execPath, [fileURLToPath(fixture('queue-consumer.mjs')), String(loops), String(prefetch)], {
          env: { ...childEnv(), TROUPE_ADDRESS: address, TROUPE_AUTHKEY: authkey },
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        children.push(child);
        exited.push(new Promise((resolve) => child.once('exit', () => resolve())));
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        all,
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('consumers did not join')), JOIN_TIMEOUT_MS))),
      ]).finally(() => clearTimeout(timer));
      await run(consumers * 100);
    },
    runThroughput: (n) => run(n),
    async teardown() {
      // Closing the pool closes the queues: the consumers' loops end, and they exit.
      await pool?.close();
      const timedOut = await Promise.race([Promise.all(exited).then(() => false), sleep(10_000, true).then(() => true)]);
      if (timedOut) {
        console.error('queue consumers: still running 10 s after the pool closed; killing them');
        for (const child of children) child.kill('SIGKILL');
        await Promise.all(exited);
      }
    },
  };
}
