/**
 * The scheduler host's program: a pool listening on its namespace's address, driven by
 * JSON commands on stdin, answering with one JSON event per line on stdout (times are
 * Date.now(), comparable across the hosts of one machine).
 *
 *   { cmd: 'run', id, name, count, extra: [...], ms }   run tasks name(i, ...extra), check each
 *   { cmd: 'queues', id, count }                         the origin's master: put 0..count-1 into
 *                                                        "tasks", get count results, check each
 *   { cmd: 'rss' }                                       heap, external memory and RSS after GC
 *   { cmd: 'exit' }
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { createInterface } from 'node:readline';
import { createPool } from '../../lib/index.js';

const [host, port, size, mode] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 0), process.argv[5] ?? 'process'];
const authkey = process.env.TROUPE_HOSTS_KEY!;
const tasks = new URL('./tasks.js', import.meta.url).pathname;

function emit(ev: string, data: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ ev, t: Date.now(), ...data })}\n`);
}

const pool = await createPool({
  tasks,
  mode: mode as 'process' | 'thread',
  size,
  retries: 2,
  listen: { host, port, authkey },
});
pool.on('agentJoin', (a) => emit('join', { pid: a.pid }));
pool.on('agentLeave', (a, error) =>
  emit('leave', { pid: a.pid, code: (error as { code?: string } | undefined)?.code, message: error?.message }),
);
emit('listening');

interface Run {
  id: string;
  name: string;
  count: number;
  extra?: unknown[];
  ms: number;
}

async function run(r: Run): Promise<void> {
  const started = Date.now();
  const settled = new Uint8Array(r.count);
  let ok = 0;
  let wrong = 0;
  let twice = 0;
  const rejected: Record<string, number> = {};
  const hosts: Record<string, number> = {};
  const all = Array.from({ length: r.count }, (_, i) =>
    pool.run<{ i: number; host: string }>(r.name, [i, ...(r.extra ?? [])]).then(
      (v) => {
        if (settled[i]++) twice++;
        if (v && v.i === i) ok++;
        else wrong++;
        hosts[v?.host] = (hosts[v?.host] ?? 0) + 1;
      },
      (e: Error & { code?: string }) => {
        if (settled[i]++) twice++;
        rejected[e.code ?? e.name] = (rejected[e.code ?? e.name] ?? 0) + 1;
      },
    ),
  );
  const deadline = new Promise((resolve) => setTimeout(resolve, r.ms).unref());
  await Promise.race([Promise.all(all), deadline]);
  const unsettled = settled.reduce((n, s) => n + (s === 0 ? 1 : 0), 0);
  emit('done', { id: r.id, ok, wrong, twice, unsettled, rejected, hosts, ms: Date.now() - started });
}

/**
 * The origin's master over named queues: puts the ints (waiting while "tasks" is full),
 * takes as many results (each within 10 s), and counts each int's results: every one must
 * come back exactly once, right. Then closes the queues, so the consumers' loops end.
 */
async function queues(r: { id: string; count: number }): Promise<void> {
  const started = Date.now();
  const tasks = pool.queue<number>('tasks', { capacity: 100 });
  const results = pool.queue<{ n: number; square: number; host: string }>('results');
  const seen = new Uint8Array(r.count);
  let ok = 0;
  let wrong = 0;
  let twice = 0;
  let missing = 0;
  const hosts: Record<string, number> = {};
  const putting = (async () => {
    for (let n = 0; n < r.count; n++) await tasks.put(n);
  })();
  for (let i = 0; i < r.count; i++) {
    let result;
    try {
      result = await results.get({ timeout: 10_000 });
    } catch {
      missing = r.count - i;
      break;
    }
    if (seen[result.n]++) twice++;
    if (result.square === result.n * result.n) ok++;
    else wrong++;
    hosts[result.host] = (hosts[result.host] ?? 0) + 1;
  }
  await putting.catch(() => {});
  tasks.close();
  results.close();
  emit('queued', { id: r.id, ok, wrong, twice, missing, hosts, ms: Date.now() - started });
}

function rss(): void {
  for (let i = 0; i < 3; i++) (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
  emit('rss', { rss: m.rss, heap: m.heapUsed, young, external: m.external });
}

// A tick every 100 ms: how late it is tells whether the scheduler's loop is frozen.
let lastTick = Date.now();
let maxLag = 0;
setInterval(() => {
  const now = Date.now();
  maxLag = Math.max(maxLag, now - lastTick - 100);
  lastTick = now;
}, 100).unref();

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const c = JSON.parse(line) as { cmd: string } & Run;
  if (c.cmd === 'run') void run(c);
  else if (c.cmd === 'queues') void queues(c);
  else if (c.cmd === 'rss') rss();
  else if (c.cmd === 'lag') {
    emit('lag', { maxLag });
    maxLag = 0;
  } else if (c.cmd === 'exit') break;
}
await pool.destroy();
process.exit(0);
