/**
 * bench/results/REPORT.md and bench/results/charts/*.svg, regenerated from the suites'
 * JSON files alone (`node --import tsx bench/run.ts --report-only` redraws without running).
 * A suite with no JSON yet is listed as not run.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomically } from '../lib/results.js';
import { actorsThroughput, cpuSpeedUp, payloadThroughput, scaleOut, sizeLabel, startup, tinyLatency, tinyThroughput } from './charts.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- the JSON is read as written by the suites */
type Json = any;

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const x = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : 'n/a');
const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const range = (s: { min: number; max: number } | undefined, fmt: (n: number) => string) => (s ? `${fmt(s.min)} – ${fmt(s.max)}` : 'n/a');
const met = (m: boolean | null | undefined) => (m === null || m === undefined ? 'n/a' : m ? 'met' : 'missed');

function table(headers: string[], rows: string[][]): string {
  return [`| ${headers.join(' | ')} |`, `|${headers.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function read(dir: string, suite: string): Json | undefined {
  const file = join(dir, `${suite}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

function machineLine(json: Json): string {
  const m = json.machine ?? {};
  const load = (l: number[] | undefined) => (l ? l.map((v) => Number(v).toFixed(2)).join(' ') : 'n/a');
  return `_${m.cpus} cpus (${m.cpuModel}), node ${m.node}, commit ${m.commit}, ${m.date}; load average before ${load(m.loadavgAtStart)}, after ${load(m.loadavgAtEnd)}${json.profile ? `; profile ${json.profile}` : ''}._`;
}

const chart = (name: string, alt: string) => `![${alt}](charts/${name}.svg)`;

function tinySection(json: Json): string[] {
  const thr = json.throughput?.contenders ?? [];
  const lat = json.latency?.contenders ?? [];
  return [
    '## 1. Tiny tasks',
    '',
    chart('tiny-throughput', 'tiny-task throughput per contender'),
    '',
    table(
      ['contender', 'tasks/s (median)', 'min – max', '× piscina (median of rounds)'],
      thr.map((c: Json) => [c.name, int(c.median), range({ min: Math.min(...c.tasksPerSecond), max: Math.max(...c.tasksPerSecond) }, int), x(c.medianRatio)]),
    ),
    '',
    chart('tiny-latency', 'tiny-task latency per contender'),
    '',
    table(['contender', 'p50 µs', 'p99 µs'], lat.map((c: Json) => [c.name, f(c.medianP50, 1), f(c.medianP99, 1)])),
    '',
    machineLine(json),
  ];
}

function cpuSection(json: Json): string[] {
  const sizes: number[] = json.options?.sizes ?? [];
  return [
    '## 2. CPU-bound',
    '',
    chart('cpu-speedup', 'speed-up curve per contender'),
    '',
    `A job of ${f(json.job?.calibratedMs, 1)} ms (\`spin(${json.job?.iterations})\`), ${json.options?.tasksPerWorker} per worker per round, ${json.options?.inFlightPerWorker} in flight per worker; ${json.options?.rounds} rounds after a warm-up.`,
    '',
    table(
      ['contender', ...sizes.map((s) => `size ${s} tasks/s`), ...sizes.slice(1).map((s) => `speed-up at ${s}`)],
      (json.contenders ?? []).map((c: Json) => [
        c.name,
        ...c.sizes.map((s: Json) => int(s.rate.median)),
        ...c.sizes.slice(1).map((s: Json) => `${x(s.speedUp.median)} (${range(s.speedUp, x)})`),
      ]),
    ),
    '',
    `Troupe process ÷ Troupe thread, tasks/s in the same round: ${(json.processVsThread ?? []).map((p: Json) => `size ${p.size} ${x(p.median)} (${range(p.spread, x)})`).join('; ')}.`,
    '',
    machineLine(json),
  ];
}

function payloadsSection(json: Json): string[] {
  const rows: Json[] = json.rows ?? [];
  const sizes: number[] = json.options?.sizes ?? [];
  const kinds = [...new Set(rows.map((r) => r.kind))];
  return [
    '## 3. Payloads',
    '',
    ...kinds.flatMap((kind) => [chart(`payloads-${kind.toLowerCase()}`, `${kind} payload throughput`), '']),
    'p50 of one echo in flight, ms (MiB/s = payload ÷ p50):',
    '',
    ...kinds.flatMap((kind) => [
      `**${kind}**`,
      '',
      table(
        ['contender', ...sizes.map(sizeLabel)],
        [...new Set(rows.filter((r) => r.kind === kind).map((r) => r.contender))].map((name) => [
          name,
          ...sizes.map((b) => {
            const r = rows.find((row) => row.kind === kind && row.contender === name && row.bytes === b);
            return r ? `${f(r.p50Ms.median, 3)} (${int(r.mibPerSecond)} MiB/s)` : '';
          }),
        ]),
      ),
      '',
    ]),
    'Targets (issue 6): p50 ratio per round, median (min – max).',
    '',
    table(
      ['contender', 'against', 'kind', 'size', 'ratio', 'target', ''],
      (json.targets ?? []).map((t: Json) => [t.contender, t.against.join(' or '), t.kind, sizeLabel(t.bytes), `${x(t.median)} (${range(t.spread, x)})`, `≤ ${t.atMost}×`, met(t.met)]),
    ),
    '',
    machineLine(json),
  ];
}

const FIGURES: Record<string, string> = { readyMs: 'time to ready', idleRssPerWorkerBytes: 'idle RSS per worker' };

function startupSection(json: Json): string[] {
  return [
    '## 4. Startup and footprint',
    '',
    chart('startup', 'startup, close and idle RSS per contender'),
    '',
    table(
      ['contender', 'to ready ms', 'close ms', 'idle RSS per worker MiB'],
      (json.contenders ?? []).map((c: Json) => [c.name, `${int(c.readyMs.median)} (${range(c.readyMs, int)})`, `${int(c.closeMs.median)}`, `${f(c.idleRssPerWorkerMiB.median, 1)} (${range(c.idleRssPerWorkerMiB, (n) => f(n, 1))})`]),
    ),
    '',
    table(
      ['contender', 'against', 'figure', 'ratio', 'target', ''],
      (json.targets ?? []).map((t: Json) => [t.contender, t.against, FIGURES[t.figure] ?? t.figure, `${x(t.median)} (${range(t.spread, x)})`, t.atMost === null ? 'reported' : `≤ ${t.atMost}×`, met(t.met)]),
    ),
    '',
    machineLine(json),
  ];
}

/** Where the scheduler would saturate on a core of its own, from its marginal CPU per task. */
function saturation(json: Json): string {
  const points: Json[] = json.points ?? [];
  const [a, b] = points.slice(-2);
  if (!a || !b) return '';
  const perSecond = (p: Json) => p.schedulerCpuMsPerSecond ?? p.schedulerCpuMsPerTask * p.tasksPerSecond.median;
  const marginal = (perSecond(b) - perSecond(a)) / (b.tasksPerSecond.median - a.tasksPerSecond.median);
  if (!(marginal > 0)) return 'The scheduler\'s CPU did not grow measurably between the last two points.';
  return (
    `The scheduler's CPU per task at low rates is mostly fixed costs (heartbeats, timers) spread over few tasks; its marginal cost between ${a.agents} and ${b.agents} agents ` +
    `is ${f(marginal, 3)} ms per task, so on a core of its own it would saturate near ${int(1000 / marginal)} tasks/s ` +
    `(${f(1000 / marginal / b.tasksPerSecond.median, 0)}× the load at ${b.agents} agents).`
  );
}

function scaleOutSection(json: Json): string[] {
  const o = json.options ?? {};
  return [
    '## 5. Scale-out',
    '',
    chart('scale-out', 'scale-out efficiency'),
    '',
    `Agents: \`troupe agent --mode process --size 1\` processes on 127.0.0.1; tasks \`nap(${o.napMs})\`; ${o.inFlightPerAgent} in flight per agent at every point; ${o.windows} windows of ${int(o.windowMs)} ms each after a ramp.`,
    '',
    table(
      ['agents', 'tasks/s', 'ideal', 'efficiency', 'scheduler CPU ms/task', 'scheduler CPU ms/s', 'all processes CPU ms/task', 'lag p50 / p99 ms', 'RSS per agent MiB'],
      (json.points ?? []).map((p: Json) => [
        String(p.agents),
        int(p.tasksPerSecond.median),
        int(p.idealTasksPerSecond),
        `${f(p.efficiency.median * 100, 1)}% (${range(p.efficiency, (n) => f(n * 100, 1))})`,
        f(p.schedulerCpuMsPerTask, 3),
        f(p.schedulerCpuMsPerSecond ?? p.schedulerCpuMsPerTask * p.tasksPerSecond.median, 1),
        f(p.allCpuMsPerTask, 3),
        `${f(p.lagP50Ms, 1)} / ${f(p.lagP99Ms, 1)}`,
        f(p.agentRssMiB.median, 1),
      ]),
    ),
    '',
    `Target: ≥ ${(json.target?.efficiencyAtLeast ?? 0.9) * 100}% at ${json.target?.agents} agents: ${met(json.target?.met)}.`,
    '',
    saturation(json),
    '',
    machineLine(json),
  ];
}

/** Also printed by the suite itself at the end of its run. */
export function actorsSection(json: Json): string[] {
  const o = json.options ?? {};
  const us = (n: number) => f(n, 1);
  return [
    '## 6. Actors',
    '',
    chart('actors-throughput', 'actor calls/s per mode, Troupe beside Comedy, a task and the raw medium'),
    '',
    `Per mode, ${o.workers} workers (remote: one agent with ${o.workers} worker processes on 127.0.0.1). Throughput: ${int(o.calls)} \`ref.call('square', [i])\` per run ` +
      `(Comedy: ${int(o.peerCalls)}) with ${int(o.inFlight)} in flight, spread over ${o.actors} actors or into one; the raw medium batched as in the tiny suite. ` +
      `Latency: ${int(o.latency)} calls one at a time per round, p50/p99 per round. ${o.rounds} rounds after a warm-up round; median (min – max) over rounds.`,
    '',
    ...(json.modes ?? []).flatMap((m: Json) => [
      `### ${m.mode}`,
      '',
      `_Load average before ${(m.loadavgBefore ?? []).join(' ')}, after ${(m.loadavgAfter ?? []).join(' ')}._`,
      '',
      table(
        ['calls/s', 'median', 'min – max'],
        (m.throughput ?? []).map((t: Json) => [t.name, int(t.rate.median), range(t.rate, int)]),
      ),
      '',
      table(
        ['one in flight', 'p50 µs', 'p50 min – max', 'p99 µs', 'p99 min – max'],
        (m.latency ?? []).map((l: Json) => [l.name, us(l.p50Us.median), range(l.p50Us, us), us(l.p99Us.median), range(l.p99Us, us)]),
      ),
      '',
      table(
        ['target', 'ratio', 'min – max', 'target', ''],
        [
          ...(m.targets ?? []).map((t: Json) => [t.comparison, t.skipped ?? x(t.ratio.median), t.skipped ? '' : range(t.ratio, x), t.target, t.skipped ? 'skipped' : met(t.met)]),
          ...(m.baselines ?? []).map((b: Json) => [b.comparison, x(b.ratio.median), range(b.ratio, x), '', '']),
        ],
      ),
      '',
      ...(m.skipped ?? []).map((s: Json) => `- ${s.name} skipped: ${s.reason}`),
      ...(m.contenders ?? []).map((c: Json) => `- ${c.name}: ${c.detail}${c.placement ? `; actors on ${c.placement.join(', ')}` : ''}`),
      '',
    ]),
    machineLine(json),
  ];
}

const SECTIONS: [string, (json: Json) => string[]][] = [
  ['tiny-tasks', tinySection],
  ['cpu', cpuSection],
  ['payloads', payloadsSection],
  ['startup', startupSection],
  ['scale-out', scaleOutSection],
  ['actors', actorsSection],
];

/** Writes every chart the JSON files allow, then REPORT.md; returns the chart names written. */
export async function writeReport(dir: string): Promise<string[]> {
  const charts = join(dir, 'charts');
  mkdirSync(charts, { recursive: true });
  const written: string[] = [];
  const draw = (name: string, svg: string | undefined) => {
    if (svg === undefined) return;
    writeAtomically(join(charts, `${name}.svg`), svg);
    written.push(name);
  };
  const tiny = read(dir, 'tiny-tasks');
  const cpu = read(dir, 'cpu');
  const payloads = read(dir, 'payloads');
  if (tiny) {
    draw('tiny-throughput', tinyThroughput(tiny));
    draw('tiny-latency', tinyLatency(tiny));
  }
  if (cpu) draw('cpu-speedup', cpuSpeedUp(cpu));
  if (payloads) for (const kind of ['string', 'Buffer', 'ArrayBuffer']) draw(`payloads-${kind.toLowerCase()}`, payloadThroughput(payloads, kind));
  const startupJson = read(dir, 'startup');
  if (startupJson) draw('startup', startup(startupJson));
  const scale = read(dir, 'scale-out');
  if (scale) draw('scale-out', scaleOut(scale));
  const actors = read(dir, 'actors');
  if (actors) draw('actors-throughput', actorsThroughput(actors));

  const body = SECTIONS.flatMap(([suite, section]) => {
    const json = read(dir, suite);
    return json ? [...section(json), ''] : [`## ${suite}`, '', 'Not run yet.', ''];
  });
  const markdown = [
    '# Benchmark report',
    '',
    'Regenerated from the JSON files beside it by `npm run bench` (or `node --import tsx bench/run.ts --report-only`). ' +
      'Every suite runs its contenders in the same run, interleaved round by round after a warm-up; ratios are taken within a round, then the median (min – max). ' +
      'The machine is shared: single rounds vary, ratios within a run mean more than absolute figures.',
    '',
    ...body,
  ].join('\n');
  writeAtomically(join(dir, 'REPORT.md'), markdown);
  return written;
}
