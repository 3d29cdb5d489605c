/**
 * The multi-host suite (`npm run test:hosts`, started by scripts/test-hosts.mjs, which
 * also removes whatever a crashed run left). Five hosts in network namespaces: a scheduler
 * (s), three agents (a1–a3) running the real CLI, and a hostile host (h). Each scenario
 * prints its figures and a PASS or FAIL line; the last line is "N passed, N failed".
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { postAuthFrames } from './forge.js';
import { Network, markedPids, workerPids } from './net.js';
import { Proc, type Event } from './proc.js';

const TASKS = fileURLToPath(new URL('./tasks.js', import.meta.url));
const PORT = 7070;
const HEARTBEAT_TIMEOUT_MS = 3000;
const KEY = randomBytes(24).toString('hex');
const AGENTS = ['a1', 'a2', 'a3'];
const MiB = 1024 * 1024;

const runId = process.env.TROUPE_HOSTS_RUN_ID ?? randomBytes(3).toString('hex');
const net = new Network(runId);
let cleaned = false;
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  net.destroy();
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    console.log(`\n${signal}: removing the hosts`);
    cleanup();
    process.exit(130);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const S = () => net.host('s').address;

function startScheduler(size = 0, mode = 'process'): Proc {
  const child = net.node('s', ['--expose-gc', '--import', 'tsx', 'test/hosts/scheduler.ts', S(), String(PORT), String(size), mode], {
    TROUPE_HOSTS_KEY: KEY,
  });
  return new Proc(child);
}

function startAgent(name: string, size = 2): Proc {
  const args = ['dist/cli.js', 'agent', '--connect', `${S()}:${PORT}`, '--tasks', TASKS, '--mode', 'process', '--size', String(size)];
  return new Proc(net.node(name, args, { TROUPE_AUTHKEY: KEY, TROUPE_HOST: name }));
}

interface Done extends Event {
  ok: number;
  wrong: number;
  twice: number;
  unsettled: number;
  rejected: Record<string, number>;
  hosts: Record<string, number>;
  ms: number;
}

let runs = 0;
function run(s: Proc, name: string, count: number, extra: unknown[], ms: number): Promise<Done> {
  const id = `r${++runs}`;
  const from = s.events.length;
  s.send({ cmd: 'run', id, name, count, extra, ms });
  return s.wait((e) => e.ev === 'done' && e.id === id, ms + 10_000, `run ${id} (${count} × ${name})`, from) as Promise<Done>;
}

function describe(d: Done): string {
  const rejected = Object.values(d.rejected).reduce((a, b) => a + b, 0);
  return `${d.ok} right, ${d.wrong} wrong, ${d.twice} settled twice, ${d.unsettled} unsettled, ${rejected} rejected ${JSON.stringify(d.rejected)}, by host ${JSON.stringify(d.hosts)}, ${(d.ms / 1000).toFixed(1)} s`;
}

function allRight(d: Done, count: number): string[] {
  const problems: string[] = [];
  if (d.ok !== count) problems.push(`${count - d.ok} of ${count} tasks without their right result`);
  if (d.twice > 0) problems.push(`${d.twice} settled twice`);
  return problems;
}

async function joinsOf(s: Proc, agents: Proc[], ms: number, from = 0): Promise<Event[]> {
  return Promise.all(agents.map((a) => s.wait((e) => e.ev === 'join' && e.pid === a.pid, ms, `agent ${a.pid} to join`, from)));
}

interface Memory {
  rss: number;
  /** Live JS objects, after a full gc. */
  heapUsed: number;
  /** V8's young generation: it grows into it under load and keeps it for a while after a gc. */
  young: number;
  /** Live memory outside the JS heap (Buffers and other external memory), after a full gc. */
  external: number;
}

async function memory(s: Proc): Promise<Memory> {
  const from = s.events.length;
  s.send({ cmd: 'rss' });
  const e = await s.wait((e) => e.ev === 'rss', 10_000, 'rss', from);
  return { rss: Number(e.rss), heapUsed: Number(e.heap), young: Number(e.young), external: Number(e.external) };
}

async function lag(s: Proc): Promise<number> {
  const from = s.events.length;
  s.send({ cmd: 'lag' });
  return Number((await s.wait((e) => e.ev === 'lag', 5000, 'the scheduler to answer (frozen?)', from)).maxLag);
}

let hostileAuthed = '';

// The scenarios share hosts: each leaves a scheduler and agents that the next may use.
let scheduler: Proc | undefined;
let agents: Proc[] = [];

async function fresh(size = 0, mode = 'process', agentCount = AGENTS.length): Promise<void> {
  for (const p of [scheduler, ...agents]) p?.kill();
  await Promise.all([scheduler, ...agents].map((p) => p?.exit));
  scheduler = startScheduler(size, mode);
  await scheduler.wait((e) => e.ev === 'listening', 30_000, 'the scheduler to listen');
  agents = AGENTS.slice(0, agentCount).map((name) => startAgent(name));
  await joinsOf(scheduler, agents, 30_000);
}

// ---------------------------------------------------------------------------------------

async function workerChaos(): Promise<string[]> {
  await fresh();
  const s = scheduler!;
  let kills = 0;
  let stop = false;
  const killer = (async () => {
    while (!stop) {
      await sleep(150 + Math.random() * 100);
      const agent = agents[Math.floor(Math.random() * agents.length)];
      const workers = workerPids(agent.pid);
      if (workers.length === 0) continue;
      try {
        process.kill(workers[Math.floor(Math.random() * workers.length)], 'SIGKILL');
        kills++;
      } catch {}
    }
  })();
  const count = 100_000;
  const d = await run(s, 'echo', count, [], 300_000).finally(() => (stop = true));
  await killer;
  console.log(`  ${count} tasks over ${agents.length} agents, ${kills} agent workers SIGKILLed (one every ~200 ms): ${describe(d)}`);
  const lost = d.unsettled + Object.values(d.rejected).reduce((a, b) => a + b, 0);
  console.log(`  lost: ${lost}, settled twice: ${d.twice}, wrong: ${d.wrong}`);
  return allRight(d, count);
}

async function partition(): Promise<string[]> {
  if (!scheduler || scheduler.exited || agents.some((a) => a.exited)) await fresh();
  const s = scheduler!;
  const victim = agents[0];
  const problems: string[] = [];
  const count = 20_000;
  const from = s.events.length;
  const work = run(s, 'nap', count, [5], 120_000);
  await sleep(1000);
  const downAt = Date.now();
  net.unplug('a1');
  const leave = await s.wait((e) => e.ev === 'leave' && e.pid === victim.pid, 20_000, 'a1 to be declared lost', from);
  const lossMs = leave.t - downAt;
  console.log(`  a1 unplugged mid-run: loss seen after ${lossMs} ms (${leave.message})`);
  if (lossMs > HEARTBEAT_TIMEOUT_MS + 200) problems.push(`loss seen after ${lossMs} ms, over ${HEARTBEAT_TIMEOUT_MS + 200}`);
  const d = await work;
  console.log(`  the run: ${describe(d)}`);
  problems.push(...allRight(d, count));
  await sleep(1000);
  const upAt = Date.now();
  const rejoinFrom = s.events.length;
  net.plug('a1');
  const join = await s.wait((e) => e.ev === 'join' && e.pid === victim.pid, 30_000, 'a1 to rejoin', rejoinFrom).catch(() => undefined);
  const rejoinMs = join ? join.t - upAt : Infinity;
  console.log(`  a1 plugged back in: rejoined after ${join ? `${rejoinMs} ms` : 'more than 30 s'}`);
  if (rejoinMs > 3000) problems.push(`rejoin took ${rejoinMs} ms, over 3000`);
  if (join) {
    const again = await run(s, 'nap', 600, [20], 60_000);
    console.log(`  after the rejoin: ${describe(again)}`);
    problems.push(...allRight(again, 600));
    if (!again.hosts.a1) problems.push('a1 got no work after rejoining');
  }
  return problems;
}

async function schedulerRestart(): Promise<string[]> {
  if (!scheduler || scheduler.exited || agents.some((a) => a.exited)) await fresh();
  const problems: string[] = [];
  scheduler!.kill();
  await scheduler!.exit;
  await sleep(10_000);
  scheduler = startScheduler();
  const s = scheduler;
  const listening = await s.wait((e) => e.ev === 'listening', 30_000, 'the new scheduler to listen');
  const joins = await Promise.all(
    agents.map((a) => s.wait((e) => e.ev === 'join' && e.pid === a.pid, 30_000, `agent ${a.pid} to rejoin`).catch(() => undefined)),
  );
  const delays = joins.map((j) => (j ? j.t - listening.t : Infinity));
  console.log(`  scheduler SIGKILLed, back after 10 s: agents rejoined ${delays.map((d) => (Number.isFinite(d) ? `${d} ms` : '> 30 s')).join(', ')} after it listened again`);
  const slow = delays.filter((d) => d > 3000);
  if (slow.length > 0) problems.push(`${slow.length} agents took over 3 s to rejoin (${delays.join(', ')} ms)`);
  if (joins.every(Boolean)) {
    const d = await run(s, 'echo', 3000, [], 60_000);
    console.log(`  then: ${describe(d)}`);
    problems.push(...allRight(d, 3000));
  }
  return problems;
}

async function hostileHost(): Promise<string[]> {
  if (!scheduler || scheduler.exited || agents.some((a) => a.exited)) await fresh();
  const s = scheduler!;
  const problems: string[] = [];
  await run(s, 'echo', 5000, [], 60_000);
  const before = await memory(s);
  const h = new Proc(net.node('h', ['--import', 'tsx', 'test/hosts/hostile.ts', S(), String(PORT), hostileAuthed], { TROUPE_HOSTS_KEY: KEY }));
  const count = 30_000;
  const during = run(s, 'nap', count, [2], 240_000);
  const attacks: [string, Record<string, unknown>, number][] = [
    ['pre-auth garbage (2,000 connections)', { cmd: 'garbage', count: 2000 }, 60_000],
    ['slowloris (300 sockets dribbling a HELLO)', { cmd: 'slowloris', count: 300, ms: 8000 }, 10_000],
    ['PING flood, never reading (5 s)', { cmd: 'pingflood', ms: 5000 }, 10_000],
    ['4 partial frames of 60 MiB, held open', { cmd: 'partial', count: 4, mib: 60 }, 60_000],
    ...postAuthFrames().map((f, index): [string, Record<string, unknown>, number] => [`forged: ${f.what}`, { cmd: 'forged', index }, 30_000]),
  ];
  let measured = false;
  const measure = async (when: string) => {
    h.send({ cmd: 'close' });
    await sleep(HEARTBEAT_TIMEOUT_MS + 1000); // connections the attacks left are cut by now
    // V8 grows its young generation under a flood of allocations (up to 2 × 16 MiB) and keeps
    // it for a while after a gc: not memory an attack left held, so its growth is not counted.
    const end = await memory(s);
    const mib = (bytes: number) => `${bytes >= 0 ? '+' : ''}${(bytes / MiB).toFixed(1)} MiB`;
    const rss = end.rss - before.rss;
    const grown = {
      rss,
      heapUsed: end.heapUsed - before.heapUsed,
      external: end.external - before.external,
      held: rss - Math.max(0, end.young - before.young),
    };
    console.log(
      `  scheduler memory after GC ${when}: RSS ${(before.rss / MiB).toFixed(1)} → ${(end.rss / MiB).toFixed(1)} MiB (${mib(grown.rss)}), ` +
        `${mib(grown.held)} without the young generation; live JS ${mib(grown.heapUsed)}, live external ${mib(grown.external)}`,
    );
    // What an attack left held is live: JS objects and external memory (buffers). RSS also
    // counts what the allocator keeps after frees (the 60 MiB partial frames; +11.6 MiB once,
    // with live JS +0.7 MiB), so it is held only to a loose bound that catches a native leak.
    if (grown.heapUsed > 10 * MiB) problems.push(`live JS objects grew by ${mib(grown.heapUsed)} (${when})`);
    if (grown.external > 10 * MiB) problems.push(`live external memory grew by ${mib(grown.external)} (${when})`);
    if (grown.held > 32 * MiB) problems.push(`RSS less the young generation grew by ${mib(grown.held)} (${when})`);
    measured = true;
  };
  for (const [what, command, ms] of attacks) {
    // the sparse-array frames come last: measure memory before them too, in case they freeze it
    if (what.includes('sparse') && !measured && problems.length === 0) await measure('after the other attacks');
    const from = h.events.length;
    const started = Date.now();
    h.send(command);
    try {
      const delivered = await h.wait((e) => e.ev === 'delivered' && e.cmd === command.cmd, ms, what, from);
      if (command.cmd === 'pingflood') {
        const flooded = await h.wait((e) => e.ev === 'flooded', ms, 'the flood to end', from);
        if (flooded.error) throw new Error(`the flood could not start: ${flooded.error}`);
        console.log(`    ${flooded.sent} PINGs sent`);
      }
      if (command.cmd === 'slowloris') await sleep(Number(command.ms));
      const maxLag = await lag(s);
      const forged = h.events.slice(from).find((e) => e.ev === 'forged');
      console.log(`  ${what}: delivered in ${Date.now() - started} ms${delivered.error ? ` (${delivered.error})` : ''}; scheduler loop lag at most ${maxLag} ms`);
      if (forged) for (const o of forged.outcomes as string[]) console.log(`    ${o}`);
    } catch (error) {
      problems.push(`${what}: ${(error as Error).message}`);
      console.log(`  ${what}: ${(error as Error).message}`);
      if (s.exited) break;
    }
  }
  h.send({ cmd: 'close' });
  if (!s.exited && problems.length === 0) {
    const d = await during;
    console.log(`  legit work during the attacks: ${describe(d)}`);
    problems.push(...allRight(d, count));
    const after = await run(s, 'echo', 2000, [], 60_000);
    problems.push(...allRight(after, 2000));
    await measure('after all attacks');
  }
  if (s.exited) problems.push('the scheduler died');
  h.kill();
  return problems;
}

async function orphans(): Promise<string[]> {
  await fresh(2, 'process', 1);
  const s = scheduler!;
  void run(s, 'spin', 8, [120_000], 130_000).catch(() => {});
  await sleep(2000);
  const before = markedPids(runId);
  scheduler!.kill();
  agents[0].kill();
  const killedAt = Date.now();
  await Promise.all([scheduler!.exit, agents[0].exit]);
  await sleep(Math.max(0, 2000 - (Date.now() - killedAt)));
  const left = markedPids(runId).filter((pid) => pid !== agents[1]?.pid && pid !== agents[2]?.pid);
  console.log(`  primary (2 workers) and agent a1 (2 workers) SIGKILLed while spinning: ${before.length} processes before, ${left.length} left 2 s later${left.length ? ` (pids ${left.join(', ')})` : ''}`);
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  scheduler = undefined;
  agents = [];
  return left.length > 0 ? [`${left.length} worker processes outlived their primary/agent by 2 s`] : [];
}

function startConsumer(name: string, holdAt?: number): Proc {
  const args = ['--import', 'tsx', 'test/hosts/consumer.ts', S(), String(PORT), ...(holdAt === undefined ? [] : [String(holdAt)])];
  return new Proc(net.node(name, args, { TROUPE_HOSTS_KEY: KEY, TROUPE_HOST: name }));
}

async function queuesAcrossHosts(): Promise<string[]> {
  for (const p of [scheduler, ...agents]) p?.kill();
  await Promise.all([scheduler, ...agents].map((p) => p?.exit));
  agents = [];
  scheduler = startScheduler(0);
  const s = scheduler;
  await s.wait((e) => e.ev === 'listening', 30_000, 'the scheduler to listen');
  const count = 20_000;
  const holdAt = 7;
  const from = s.events.length;
  s.send({ cmd: 'queues', id: 'q1', count });
  // The consumer on a2 takes the first items, stops holding one, and is SIGKILLed; a1 joins later and takes over.
  const holder = startConsumer('a2', holdAt);
  let other: Proc | undefined;
  try {
    await holder.wait((e) => e.ev === 'holding', 30_000, `the consumer on a2 to hold item ${holdAt}`).catch((error: Error) => {
      throw new Error(`${error.message}\nevents: ${JSON.stringify(holder.events)}\nexit: ${holder.child.exitCode} ${holder.child.signalCode}`);
    });
    holder.kill();
    other = startConsumer('a1');
    const done = (await s.wait((e) => e.ev === 'queued' && e.id === 'q1', 120_000, 'every result', from)) as Event & {
      ok: number; wrong: number; twice: number; missing: number; hosts: Record<string, number>; ms: number;
    };
    const drained = await other.wait((e) => e.ev === 'drained', 30_000, 'the consumer on a1 to end its loop once the queue closed');
    console.log(`  ${count} ints through "tasks", consumers on a1 and a2, a2 SIGKILLed holding ${holdAt}: ${done.ok} right, ${done.wrong} wrong, ${done.twice} twice, ${done.missing} missing, by host ${JSON.stringify(done.hosts)}, ${(done.ms / 1000).toFixed(1)} s; a1's loop ended after ${drained.count} items`);
    const problems: string[] = [];
    if (done.ok !== count) problems.push(`${count - done.ok} of ${count} results missing or wrong`);
    if (done.twice > 0) problems.push(`${done.twice} results came twice`);
    return problems;
  } finally {
    holder.kill();
    other?.kill();
  }
}

// ---------------------------------------------------------------------------------------

const scenarios: [string, () => Promise<string[]>, number][] = [
  ['1 worker chaos', workerChaos, 330_000],
  ['2 partition', partition, 200_000],
  ['3 scheduler restart', schedulerRestart, 120_000],
  ['4 hostile host', hostileHost, 400_000],
  ['5 orphans', orphans, 90_000],
  ['6 queues across hosts', queuesAcrossHosts, 180_000],
];

const only = process.argv.slice(2);
let passed = 0;
let failed = 0;
try {
  net.create(['s', ...AGENTS, 'h']);
  hostileAuthed = net.addAddress('h', 100);
  console.log(`hosts of run ${runId}: ${[...net.hosts.values()].map((h) => `${h.name} ${h.address}`).join(', ')}`);
  for (const [name, scenario, ms] of scenarios) {
    if (only.length > 0 && !only.some((o) => name.includes(o))) continue;
    console.log(`\n# ${name}`);
    const started = Date.now();
    let problems: string[];
    try {
      let timer: NodeJS.Timeout | undefined;
      problems = await Promise.race([
        scenario(),
        new Promise<string[]>((resolve) => (timer = setTimeout(() => resolve([`did not finish within ${ms / 1000} s`]), ms))),
      ]).finally(() => clearTimeout(timer));
    } catch (error) {
      problems = [(error as Error).message];
    }
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (problems.length === 0) {
      passed++;
      console.log(`PASS ${name} (${secs} s)`);
    } else {
      failed++;
      console.log(`FAIL ${name} (${secs} s)\n  - ${problems.join('\n  - ')}`);
      if (scheduler) console.log(`  scheduler stderr (tail): ${scheduler.stderr.slice(-1500)}`);
    }
  }
} catch (error) {
  failed++;
  console.log(`the hosts could not be set up: ${(error as Error).message}`);
} finally {
  for (const p of [scheduler, ...agents]) p?.kill();
  cleanup();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
