// The Python original (multiprocessing.managers task/result queues), kept running across
// rounds like the pools: the script serves "run N" lines and times each run itself.
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SkipError, sleep, type Contender } from '../lib/harness.js';

const SCRIPT = fileURLToPath(new URL('../python/managers_bench.py', import.meta.url));

export function pythonManagers(tasks: number, workers = 2): Contender {
  let child: ChildProcessByStdio<Writable, Readable, null> | undefined;
  let lines: Interface | undefined;
  let iterator: AsyncIterator<string> | undefined;
  let exited: Promise<never> | undefined;
  let version = '';
  const nextLine = async (): Promise<string> => {
    const next = await Promise.race([iterator!.next(), exited!]);
    if (next.done) throw new Error('managers_bench.py closed its output');
    return next.value;
  };
  const contender: Contender = {
    name: 'python managers',
    detail: `multiprocessing.managers.BaseManager queues on 127.0.0.1, ${workers} worker processes, N = ${tasks.toLocaleString('en-US')}`,
    tasks,
    async setup() {
      const probe = spawnSync('python3', ['--version'], { encoding: 'utf8' });
      if (probe.error || probe.status !== 0) throw new SkipError('python3 not found');
      version = probe.stdout.trim() || probe.stderr.trim();
      contender.detail += ` (${version})`;
      const c = spawn('python3', [SCRIPT, '--serve', '--workers', String(workers)], {
        stdio: ['pipe', 'pipe', 'inherit'],
        detached: true, // its own process group, so a stuck manager or worker can be killed with it
      });
      child = c;
      lines = createInterface({ input: c.stdout });
      iterator = lines[Symbol.asyncIterator]();
      exited = once(c, 'exit').then(([code]) => {
        throw new Error(`managers_bench.py exited with code ${String(code)}`);
      });
      exited.catch(() => {});
      const ready = await nextLine();
      if (!ready.startsWith('READY')) throw new Error(`managers_bench.py said ${ready}`);
    },
    async runThroughput(n) {
      child!.stdin.write(`run ${n}\n`);
      const reply = JSON.parse(await nextLine()) as { n: number; seconds: number };
      if (reply.n !== n) throw new Error(`managers_bench.py ran ${reply.n} tasks, not ${n}`);
      return reply.seconds * 1000;
    },
    async teardown() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const done = once(c, 'exit');
      c.stdin.end('quit\n');
      const timedOut = await Promise.race([done.then(() => false), sleep(10_000, true).then(() => true)]);
      if (timedOut) {
        process.kill(-c.pid!, 'SIGKILL');
        await done;
      }
      lines?.close();
    },
  };
  return contender;
}
