/**
 * Actors (issue 7): per mode, `ref.call` throughput with many calls in flight, spread over
 * several actors and into one, and one-in-flight p50/p99 of a call; beside Comedy's actors
 * of the same mode, a Troupe `run()` task on the same pool, and the raw medium, all in the
 * same run. Modes run one after the other (each sets up, runs its rounds, tears down);
 * within a mode every measure runs once per round in rotating order after a warm-up round,
 * and ratios are taken within a round.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { comedyActors } from '../contenders/comedy.js';
import { troupeActors, type ActorSet } from '../contenders/actors.js';
import { rawIpcBatched, rawIpcPerTask } from '../contenders/raw-ipc.js';
import { rawTcpBatched, rawTcpRoundTrip } from '../contenders/raw-tcp.js';
import { rawThreadRoundTrip, rawThreadsBatched } from '../contenders/raw-threads.js';
import { roundTrips, windowed, withContenders, withDeadline, type Contender } from '../lib/harness.js';
import type { ActorsProfile } from '../lib/profile.js';
import { recordSuite, type SuiteContext } from '../lib/results.js';
import { ACTOR_TARGETS } from '../lib/targets.js';
import { actorsSection } from '../report/report.js';
import type { BenchMode } from '../../dist/bench/options.js';
import { median, percentile, ratios, rotation, spread, type Spread } from '../../dist/bench/stats.js';

/** A measure that fails (or hangs) past this is dropped with its contender, not the run's end (peers only). */
const MEASURE_TIMEOUT_MS = 120_000;

type Who = 'troupe' | 'comedy' | 'raw';

interface Throughput {
  kind: 'throughput';
  name: string;
  who: Who;
  calls: number;
  /** Runs `n` calls with `inFlight` outstanding; its own elapsed ms if it times itself. */
  run(n: number, inFlight: number): Promise<number | void>;
}

interface Latency {
  kind: 'latency';
  name: string;
  who: Who;
  roundTrip(i: number): PromiseLike<unknown>;
}

type Measure = Throughput | Latency;

/** The modes Comedy has counterparts of. */
const SUITE_MODES = ['thread', 'process', 'remote'] as const satisfies readonly BenchMode[];
type SuiteMode = (typeof SUITE_MODES)[number];

/** Per mode: the raw medium, batched for throughput and one message at a time for latency (as in the tiny suite). */
const RAW: Record<SuiteMode, (workers: number) => [Contender, Contender]> = {
  thread: (w) => [rawThreadsBatched(w), rawThreadRoundTrip()],
  process: (w) => [rawIpcBatched(w), rawIpcPerTask(w)],
  remote: () => [rawTcpBatched(), rawTcpRoundTrip()],
};

export const measureNames = (actors: number) => ({
  many: (who: string) => `${who} actors ×${actors}`,
  one: (who: string) => `${who} actor ×1`,
  task: 'troupe task run()',
  actorLatency: (who: string) => `${who} actor`,
});

/** `batched` is the raw medium's throughput, `oneByOne` its latency; either is undefined if it did not start. */
function measuresOf(
  p: ActorsProfile, troupe: ReturnType<typeof troupeActors>, comedy: ActorSet | undefined, batched: Contender | undefined, oneByOne: Contender | undefined,
): Measure[] {
  const names = measureNames(p.actors);
  const list: Measure[] = [];
  const actorSet = (set: ActorSet, who: Who, calls: number) => {
    list.push(
      { kind: 'throughput', name: names.many(set.name), who, calls, run: (n, inFlight) => windowed(n, inFlight, (i) => set.call(i, true)) },
      { kind: 'throughput', name: names.one(set.name), who, calls, run: (n, inFlight) => windowed(n, inFlight, (i) => set.call(i, false)) },
      { kind: 'latency', name: names.actorLatency(set.name), who, roundTrip: (i) => set.call(i, false) },
    );
  };
  actorSet(troupe, 'troupe', p.calls);
  list.push(
    { kind: 'throughput', name: names.task, who: 'troupe', calls: p.calls, run: (n, inFlight) => windowed(n, inFlight, (i) => troupe.task(i)) },
    { kind: 'latency', name: names.task, who: 'troupe', roundTrip: (i) => troupe.task(i) },
  );
  if (comedy) actorSet(comedy, 'comedy', p.peerCalls);
  if (batched?.runThroughput) list.push({ kind: 'throughput', name: batched.name, who: 'raw', calls: p.calls, run: batched.runThroughput.bind(batched) });
  if (oneByOne?.roundTrip) list.push({ kind: 'latency', name: oneByOne.name, who: 'raw', roundTrip: oneByOne.roundTrip.bind(oneByOne) });
  return list;
}

/** Calls per second, or p50/p99 in µs, of one run of a measure. */
async function runOnce(m: Measure, p: ActorsProfile, round: number): Promise<number | { p50: number; p99: number }> {
  if (m.kind === 'throughput') {
    const n = round < 0 ? Math.max(1, Math.round(m.calls / 2)) : m.calls;
    const start = performance.now();
    const own = await m.run(n, p.inFlight);
    return (n * 1000) / (typeof own === 'number' ? own : performance.now() - start);
  }
  const samples = await roundTrips(m, round < 0 ? p.latencyWarmup : p.latency, 1_000 + Math.max(0, round) * p.latency);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

interface TargetRow {
  comparison: string;
  ratios: number[];
  ratio: Spread;
  target: string;
  met: boolean | null;
  /** Why there is no ratio (Comedy skipped in this mode). */
  skipped?: string;
}

const loads = () => loadavg().map((x) => Number(x.toFixed(2)));

async function runMode(mode: SuiteMode, p: ActorsProfile) {
  const loadavgBefore = loads();
  console.error(`  actors ${mode}: load average ${loadavgBefore.join(' ')}; setting up`);
  const troupe = troupeActors(mode, p.workers, p.actors);
  const comedy = comedyActors(mode, p.actors);
  const raw = RAW[mode](p.workers);
  return withContenders([troupe, comedy, ...raw], async ({ ready, skipped }) => {
    if (!ready.includes(troupe)) throw new Error(`troupe ${mode}: ${skipped.find((s) => s.name === 'troupe')?.reason}`);
    const placement = troupe.placement();
    const live = <T extends Contender>(c: T) => (ready.includes(c) ? c : undefined);
    const defined = measuresOf(p, troupe, live(comedy), live(raw[0]), live(raw[1]));
    let measures = defined;
    const calls = new Map<string, number[]>();
    const p50s = new Map<string, number[]>();
    const p99s = new Map<string, number[]>();
    const callsPerRun = new Map(measures.flatMap((m) => (m.kind === 'throughput' ? [[m.name, m.calls] as const] : [])));
    const push = (map: Map<string, number[]>, key: string, value: number) => (map.get(key) ?? map.set(key, []).get(key)!).push(value);
    const order: string[][] = [];
    for (let round = -1; round < p.rounds; round++) {
      const list = rotation(measures, round + 1);
      for (const m of list) {
        if (!measures.includes(m)) continue; // its contender failed earlier in this round
        let value: Awaited<ReturnType<typeof runOnce>>;
        try {
          value = await withDeadline(runOnce(m, p, round), MEASURE_TIMEOUT_MS, m.name);
        } catch (error) {
          if (m.who === 'troupe') throw error;
          const reason = `failed in ${round < 0 ? 'the warm-up' : `round ${round + 1}`}: ${(error as Error).message}`;
          console.error(`  dropping ${m.who} (${mode}): ${reason}`);
          skipped.push({ name: m.who, reason });
          measures = measures.filter((x) => x.who !== m.who);
          continue;
        }
        if (round < 0) continue;
        if (typeof value === 'number') push(calls, m.name, value);
        else {
          push(p50s, m.name, value.p50);
          push(p99s, m.name, value.p99);
        }
      }
      if (round >= 0) order.push(list.filter((m) => measures.includes(m)).map((m) => `${m.kind === 'latency' ? 'p50 ' : ''}${m.name}`));
      console.error(`  actors ${mode} ${round < 0 ? 'warm-up' : `round ${round + 1}/${p.rounds}`} done; load average ${loads().join(' ')}`);
    }

    const names = measureNames(p.actors);
    const comedyOut = skipped.find((s) => s.name === 'comedy')?.reason;
    const target = (comparison: string, mine: number[], theirs: number[], atLeast: number | undefined, atMost: number | undefined, skip?: string): TargetRow => {
      const per = skip ? [] : ratios(mine, theirs);
      const m = median(per);
      return {
        comparison,
        ratios: per,
        ratio: spread(per),
        target: atLeast !== undefined ? `≥ ${atLeast}×` : `≤ ${atMost}×`,
        met: per.length === 0 ? null : atLeast !== undefined ? m >= atLeast : m <= atMost!,
        ...(skip ? { skipped: `comedy skipped: ${skip}` } : {}),
      };
    };
    const get = (map: Map<string, number[]>, key: string) => map.get(key) ?? [];
    const [rawBatched, rawRoundTrip] = raw.map((c) => c.name);
    return {
      mode,
      loadavgBefore,
      loadavgAfter: loads(),
      contenders: [
        { name: 'troupe', detail: troupe.detail, placement },
        { name: 'comedy', detail: comedy.detail },
        ...raw.map((c) => ({ name: c.name, detail: c.detail })),
      ],
      skipped,
      order,
      // In the order the measures are defined, whatever order the rounds ran them in.
      throughput: defined
        .filter((m) => m.kind === 'throughput' && calls.has(m.name))
        .map(({ name }) => ({ name, calls: callsPerRun.get(name), callsPerSecond: get(calls, name), rate: spread(get(calls, name)) })),
      latency: defined
        .filter((m) => m.kind === 'latency' && p50s.has(m.name))
        .map(({ name }) => ({ name, p50UsPerRound: get(p50s, name), p99UsPerRound: get(p99s, name), p50Us: spread(get(p50s, name)), p99Us: spread(get(p99s, name)) })),
      targets: [
        target(`${names.many('troupe')} ÷ ${names.many('comedy')}, calls/s`, get(calls, names.many('troupe')), get(calls, names.many('comedy')), ACTOR_TARGETS.callsVsComedyAtLeast, undefined, comedyOut),
        target(`${names.one('troupe')} ÷ ${names.one('comedy')}, calls/s`, get(calls, names.one('troupe')), get(calls, names.one('comedy')), ACTOR_TARGETS.callsVsComedyAtLeast, undefined, comedyOut),
        target(`p50 ${names.actorLatency('troupe')} ÷ p50 ${names.task}`, get(p50s, names.actorLatency('troupe')), get(p50s, names.task), undefined, ACTOR_TARGETS.p50VsTaskAtMost),
      ],
      baselines: [
        [`${names.many('troupe')} ÷ ${rawBatched}, calls/s`, get(calls, names.many('troupe')), get(calls, rawBatched)],
        [`${names.task} ÷ ${rawBatched}, calls/s`, get(calls, names.task), get(calls, rawBatched)],
        [`p50 ${names.actorLatency('troupe')} ÷ p50 ${rawRoundTrip}`, get(p50s, names.actorLatency('troupe')), get(p50s, rawRoundTrip)],
      ].map(([comparison, a, b]) => {
        const per = ratios(a as number[], b as number[]);
        return { comparison: comparison as string, ratios: per, ratio: spread(per) };
      }),
    };
  });
}

export async function actorsSuite(ctx: SuiteContext) {
  const p = ctx.profile.actors;
  const figures = await recordSuite(ctx, 'actors', async () => {
    const modes = [];
    for (const mode of SUITE_MODES) modes.push(await runMode(mode, p));
    return { options: p, targets: ACTOR_TARGETS, modes };
  });
  // The tables as REPORT.md shows them, from the JSON just written (with the machine's line).
  console.log(`\n${actorsSection(JSON.parse(readFileSync(join(ctx.dir, 'actors.json'), 'utf8'))).join('\n')}\n`);
  return figures;
}
