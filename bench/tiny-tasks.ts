/**
 * Tiny tasks (square) through Troupe and its peers: throughput with many tasks in flight,
 * then one-in-flight round-trip latency. Contenders run interleaved, round by round, so
 * the load of a shared machine hits them alike; ratios are taken within each round.
 *
 *   npm run bench:tiny                      (builds first)
 *   node --import tsx bench/tiny-tasks.ts --rounds 3 --tasks 50000 --latency 1000
 *
 * Writes bench/results/tiny-tasks.json (raw per-round numbers) and tiny-tasks.md (tables).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { troupeLocal, troupeRemote } from './contenders/troupe.js';
import { piscina, tinypool, workerpoolThreads } from './contenders/peers.js';
import { rawIpcBatched, rawIpcPerTask } from './contenders/raw-ipc.js';
import { RAW_TCP_BATCH, rawTcpBatched, rawTcpRoundTrip } from './contenders/raw-tcp.js';
import { pythonManagers } from './contenders/python.js';
import {
  exitWhenDone, fmtInt, fmtRange, fmtRatio, interleave, machineInfo, median, numericArgs, percentile, ratios,
  roundTrips, table, withContenders, type Contender,
} from './lib/harness.js';

const opts = numericArgs({
  rounds: 5,
  tasks: 100_000,
  inFlight: 1_000,
  latency: 2_000,
  latencyWarmup: 500,
  pythonTasks: 20_000,
});

/** Throughput ratios are against this contender, in the same round. */
const REFERENCE = 'piscina';
/** Latency p50 ratios: each of these against the reference named beside it. */
const LATENCY_REFERENCES = ['piscina', 'raw IPC 1/msg'];
/** Remote mode against its raw TCP loopback baselines, with the targets it is held to. */
const REMOTE = 'troupe remote';
const RAW_TCP_THROUGHPUT = 'raw TCP batched';
const RAW_TCP_LATENCY = 'raw TCP round trip';
const REMOTE_TARGETS = { throughputAtLeast: 0.6, p50AtMost: 1.2 };

const contenders: Contender[] = [
  troupeLocal('thread'),
  troupeLocal('process'),
  troupeRemote(),
  piscina(),
  tinypool(),
  workerpoolThreads(),
  rawIpcPerTask(),
  rawIpcBatched(),
  rawTcpBatched(),
  rawTcpRoundTrip(),
  pythonManagers(opts.pythonTasks),
];

interface LatencyRound {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

const seconds = (since: number) => (performance.now() - since) / 1000;

async function main(): Promise<void> {
  const began = performance.now();
  const machine = machineInfo();
  console.error(
    `tiny-tasks: ${opts.rounds} rounds (+1 warm-up) of ${fmtInt(opts.tasks)} tasks, ${fmtInt(opts.inFlight)} in flight; ` +
      `latency ${fmtInt(opts.latency)} round trips per round; ${machine.cpus} cpus, node ${machine.node}`,
  );
  await withContenders(contenders, async ({ ready, skipped }) => {
    const setupSeconds = seconds(began);

    // ---- throughput -------------------------------------------------------------------
    let t0 = performance.now();
    const throughputers = ready.filter((c) => c.runThroughput);
    const thr = await interleave(
      throughputers,
      opts.rounds,
      async (c) => {
        const n = c.tasks ?? opts.tasks;
        const start = performance.now();
        const own = await c.runThroughput!(n, opts.inFlight);
        const ms = typeof own === 'number' ? own : performance.now() - start;
        return (n * 1000) / ms;
      },
      (round) => console.error(`  throughput ${round < 0 ? 'warm-up' : `round ${round + 1}/${opts.rounds}`} done (${seconds(t0).toFixed(1)} s)`),
    );
    const throughputSeconds = seconds(t0);

    // ---- latency: one in flight ---------------------------------------------------------
    t0 = performance.now();
    const latencyList = ready.filter((c) => c.roundTrip);
    const lat = await interleave(
      latencyList,
      opts.rounds,
      async (c, round) => {
        const samples = await roundTrips(c, round < 0 ? opts.latencyWarmup : opts.latency, 1_000 + Math.max(0, round) * opts.latency);
        return { samples, summary: summarize(samples) };
      },
      (round) => console.error(`  latency ${round < 0 ? 'warm-up' : `round ${round + 1}/${opts.rounds}`} done (${seconds(t0).toFixed(1)} s)`),
    );
    const latencySeconds = seconds(t0);

    // ---- report -----------------------------------------------------------------------
    const reference = thr.samples.get(REFERENCE) ?? [];
    const throughputRows = throughputers.map((c) => {
      const rounds = thr.samples.get(c.name)!;
      const rel = ratios(rounds, reference);
      return {
        name: c.name,
        detail: c.detail,
        tasks: c.tasks ?? opts.tasks,
        tasksPerSecond: rounds,
        median: median(rounds),
        ratioToPiscina: rel,
        medianRatio: median(rel),
      };
    });
    const latencyRows = latencyList.map((c) => {
      const rounds = lat.samples.get(c.name)!;
      const pooled = rounds.flatMap((r) => r.samples);
      const p50s = rounds.map((r) => r.summary.p50);
      const rel = Object.fromEntries(
        LATENCY_REFERENCES.map((ref) => {
          const refP50 = (lat.samples.get(ref) ?? []).map((r) => r.summary.p50);
          return [ref, ratios(p50s, refP50)];
        }),
      );
      return {
        name: c.name,
        rounds: rounds.map((r) => r.summary),
        pooled: summarize(pooled),
        medianP50: median(p50s),
        medianP99: median(rounds.map((r) => r.summary.p99)),
        p50RatioTo: rel,
      };
    });

    const throughputTable = table(
      ['contender', 'tasks', 'tasks/s median', 'min – max', `× ${REFERENCE} (median)`, 'ratio min – max', 'setup'],
      throughputRows.map((r) => [
        r.name,
        fmtInt(r.tasks),
        fmtInt(r.median),
        fmtRange(r.tasksPerSecond),
        fmtRatio(r.medianRatio),
        fmtRange(r.ratioToPiscina, fmtRatio),
        r.detail,
      ]),
      [false, true, true, true, true, true, false],
    );
    const us = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
    const latencyTable = table(
      ['contender', 'p50 µs (median)', 'p50 min – max', 'p99 µs (median)', 'p99 min – max', ...LATENCY_REFERENCES.map((r) => `p50 × ${r}`)],
      latencyRows.map((r) => [
        r.name,
        us(r.medianP50),
        fmtRange(r.rounds.map((x) => x.p50), us),
        us(r.medianP99),
        fmtRange(r.rounds.map((x) => x.p99), us),
        ...LATENCY_REFERENCES.map((ref) => (ref === r.name ? '1.00×' : fmtRatio(median(r.p50RatioTo[ref])))),
      ]),
      [false, true, true, true, true, ...LATENCY_REFERENCES.map(() => true)],
    );

    // ---- remote vs raw TCP: per-round ratios, median ------------------------------------
    const p50sOf = (name: string) => (lat.samples.get(name) ?? []).map((r) => r.summary.p50);
    const remoteThroughputRatios = ratios(thr.samples.get(REMOTE) ?? [], thr.samples.get(RAW_TCP_THROUGHPUT) ?? []);
    const remoteP50Ratios = ratios(p50sOf(REMOTE), p50sOf(RAW_TCP_LATENCY));
    const remoteVsRaw = [
      {
        comparison: `${REMOTE} tasks/s ÷ ${RAW_TCP_THROUGHPUT} tasks/s`,
        remote: median(thr.samples.get(REMOTE) ?? []),
        raw: median(thr.samples.get(RAW_TCP_THROUGHPUT) ?? []),
        unit: 'tasks/s',
        ratios: remoteThroughputRatios,
        medianRatio: median(remoteThroughputRatios),
        target: `≥ ${REMOTE_TARGETS.throughputAtLeast.toFixed(2)}×`,
        met: median(remoteThroughputRatios) >= REMOTE_TARGETS.throughputAtLeast,
      },
      {
        comparison: `${REMOTE} p50 ÷ ${RAW_TCP_LATENCY} p50`,
        remote: median(p50sOf(REMOTE)),
        raw: median(p50sOf(RAW_TCP_LATENCY)),
        unit: 'µs',
        ratios: remoteP50Ratios,
        medianRatio: median(remoteP50Ratios),
        target: `≤ ${REMOTE_TARGETS.p50AtMost.toFixed(2)}×`,
        met: median(remoteP50Ratios) <= REMOTE_TARGETS.p50AtMost,
      },
    ];
    const remoteTable = table(
      ['comparison', 'troupe remote (median)', 'raw TCP (median)', 'ratio (median of rounds)', 'ratio min – max', 'target', ''],
      remoteVsRaw.map((r) => [
        r.comparison,
        r.unit === 'µs' ? `${us(r.remote)} µs` : `${fmtInt(r.remote)} tasks/s`,
        r.unit === 'µs' ? `${us(r.raw)} µs` : `${fmtInt(r.raw)} tasks/s`,
        fmtRatio(r.medianRatio),
        fmtRange(r.ratios, fmtRatio),
        r.target,
        r.ratios.length === 0 ? 'n/a' : r.met ? 'met' : 'missed',
      ]),
      [false, true, true, true, true, false, false],
    );

    const totalSeconds = seconds(began);
    const load = loadavg().map((x) => x.toFixed(2)).join(' ');
    const notes = [
      ...skipped.map((s) => `- ${s.name} skipped: ${s.reason}`),
      `- Throughput: ${fmtInt(opts.tasks)} \`square\` tasks per run with ${fmtInt(opts.inFlight)} in flight (python: its own N, all put up front as in the tutorial; raw IPC batched: one message in flight per child; ` +
        `raw TCP batched: whole frames of ${RAW_TCP_BATCH}, so ${fmtInt(Math.floor(opts.inFlight / RAW_TCP_BATCH) * RAW_TCP_BATCH)} in flight). ` +
        `Ratios are per round against ${REFERENCE} in the same round, then the median of those.`,
      `- Latency: sequential \`await run()\` round trips, ${fmtInt(opts.latency)} per contender per round after ${fmtInt(opts.latencyWarmup)} warm-up; p50/p99 per round, median over rounds.`,
      `- Remote vs raw TCP: ${REMOTE} is a \`size: 0\` scheduler in this process plus one agent process (CLI, \`--mode process --size 2\`) on 127.0.0.1, ` +
        `so a task crosses TCP and then the agent's IPC to a worker process; the raw TCP baselines are one child answering on the TCP connection itself ` +
        `(v8.serialize bodies, length-prefixed frames, no auth, heartbeats, task table or workers behind it). Ratios are taken per round, then the median.`,
      `- ${opts.rounds} rounds + 1 warm-up round (not counted), contenders in rotating order; pools created once and reused. Workers get \`execArgv: []\` (no tsx loader) everywhere.`,
      `- ${machine.cpus} cpus (${machine.cpuModel}), node ${machine.node}, ${machine.date}, commit ${machine.commit}; load average at start ${(machine.loadavgAtStart as number[]).join(' ')}, at end ${load}.`,
      `- Took ${totalSeconds.toFixed(0)} s: setup ${setupSeconds.toFixed(1)} s, throughput ${throughputSeconds.toFixed(1)} s, latency ${latencySeconds.toFixed(1)} s.`,
    ];
    const markdown = [
      '# tiny-tasks',
      '',
      '## Throughput (tasks/s)',
      '',
      throughputTable,
      '',
      '## Latency, one task in flight (µs)',
      '',
      latencyTable,
      '',
      '## Remote vs raw TCP loopback',
      '',
      remoteTable,
      '',
      ...notes,
      '',
    ].join('\n');
    console.log(`\n${markdown}`);

    const json = {
      benchmark: 'tiny-tasks',
      machine: { ...machine, loadavgAtEnd: loadavg() },
      options: opts,
      durationSeconds: { total: totalSeconds, setup: setupSeconds, throughput: throughputSeconds, latency: latencySeconds },
      skipped,
      throughput: { reference: REFERENCE, order: thr.order, contenders: throughputRows },
      latency: { unit: 'µs', order: lat.order, contenders: latencyRows },
      remoteVsRawTcp: { targets: REMOTE_TARGETS, comparisons: remoteVsRaw },
    };
    const dir = new URL('./results/', import.meta.url);
    mkdirSync(dir, { recursive: true });
    writeAtomically(new URL('tiny-tasks.json', dir), `${JSON.stringify(json, null, 2)}\n`);
    writeAtomically(new URL('tiny-tasks.md', dir), markdown);
    console.error(`wrote bench/results/tiny-tasks.json and tiny-tasks.md`);
  });
}

function summarize(samples: readonly number[]): LatencyRound {
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return {
    p50: percentile(samples, 50),
    p90: percentile(samples, 90),
    p99: percentile(samples, 99),
    max: Math.max(...samples),
    mean,
  };
}

function writeAtomically(file: URL, text: string): void {
  const tmp = new URL(`${file.href}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

exitWhenDone(main());
