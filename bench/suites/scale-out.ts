/**
 * Scale-out: one scheduler (this process, `size: 0`, listening on 127.0.0.1) and 1..100
 * agents, each a real `troupe agent --mode process --size 1` process with one worker
 * process, running sleep-bound tasks (`nap`). The offered load is fixed per agent
 * (`inFlightPerAgent` tasks outstanding each, at every point), so the ideal rate is
 * agents × inFlightPerAgent ÷ nap time, and efficiency = measured ÷ ideal. The naps are
 * long enough that the agents' own CPU is not the bound; the scheduler's CPU per task and
 * event-loop lag show how far it is from saturating. Its CPU per task at low rates is
 * mostly fixed costs (heartbeats, timers) spread over few tasks, so where it would
 * saturate is estimated from the marginal cost: the growth of its CPU per second between
 * the last two points over the growth of tasks per second.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { spawnAgent, stopAgent } from '../../dist/bench/agents.js';
import { createPool, type Pool } from '../../dist/index.js';
import { descendants, rssOf, sampleTree } from '../../dist/bench/proc-stats.js';
import { median, spread } from '../../dist/bench/stats.js';
import { JOBS } from '../contenders/jobs.js';
import { childEnv, sleep } from '../lib/harness.js';
import { recordSuite, type SuiteContext } from '../lib/results.js';
import { SCALE_OUT_TARGET } from '../lib/targets.js';

/** Agents started at once: 2 cores, each start costs two Node processes' boot. */
const START_BATCH = 5;
/** The event-loop delay monitor's timer period: each sample is this plus the lag. */
const LAG_RESOLUTION_MS = 10;
const lagMs = (ns: number) => Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS);

interface Window {
  tasks: number;
  seconds: number;
  tasksPerSecond: number;
  efficiency: number;
  schedulerCpuMsPerTask: number;
  allCpuMsPerTask: number;
  lagP50Ms: number;
  lagP99Ms: number;
}

/** Starts `count` more agents, START_BATCH at a time, each a `troupe agent --mode process --size 1`. */
async function addAgents(pool: Pool, agents: ChildProcess[], count: number, authkey: string): Promise<void> {
  while (count > 0) {
    const batch = Math.min(START_BATCH, count);
    const started = await Promise.allSettled(
      Array.from({ length: batch }, () =>
        spawnAgent(pool, { tasks: JOBS, size: 1, authkey, mode: 'process', execArgv: [], env: childEnv(), joinTimeoutMs: 60_000 }),
      ),
    );
    // Those that joined are stopped with the rest, also when another of the batch failed.
    for (const result of started) if (result.status === 'fulfilled') agents.push(result.value.child);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    count -= batch;
  }
}

/** Keeps `inFlight` naps outstanding until stopped; counts completions. */
function load(pool: Pool, inFlight: number, napMs: number) {
  let stopped = false;
  let outstanding = 0;
  let failure: unknown;
  const state = { done: 0 };
  let drained: () => void = () => {};
  const launch = (): void => {
    outstanding++;
    pool.run('nap', [napMs]).then(
      () => {
        outstanding--;
        state.done++;
        if (!stopped) launch();
        else if (outstanding === 0) drained();
      },
      (error: unknown) => {
        outstanding--;
        failure ??= error;
        stopped = true;
        if (outstanding === 0) drained();
      },
    );
  };
  for (let k = 0; k < inFlight; k++) launch();
  return {
    state,
    failure: () => failure,
    stop: () =>
      new Promise<void>((resolve) => {
        stopped = true;
        drained = resolve;
        if (outstanding === 0) resolve();
      }),
  };
}

export function scaleOutSuite(ctx: SuiteContext) {
  const p = ctx.profile.scaleOut;
  return recordSuite(ctx, 'scale-out', async () => {
    const authkey = randomBytes(24).toString('hex');
    const pool = await createPool({ tasks: JOBS, size: 0, listen: { host: '127.0.0.1', port: 0, authkey } });
    const agents: ChildProcess[] = [];
    const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
    lag.enable();
    const points = [];
    try {
      for (const target of p.agents) {
        await addAgents(pool, agents, target - agents.length, authkey);
        const inFlight = target * p.inFlightPerAgent;
        const ideal = inFlight / (p.napMs / 1000);
        const driver = load(pool, inFlight, p.napMs);
        await sleep(3 * p.napMs); // ramp: every agent's first batch out and back
        const windows: Window[] = [];
        for (let w = 0; w < p.windows; w++) {
          const start = performance.now();
          const doneBefore = driver.state.done;
          const cpuBefore = process.cpuUsage();
          const allBefore = sampleTree().cpuMs;
          lag.reset();
          await sleep(p.windowMs);
          const seconds = (performance.now() - start) / 1000;
          const tasks = driver.state.done - doneBefore;
          const cpu = process.cpuUsage(cpuBefore);
          const rate = tasks / seconds;
          windows.push({
            tasks,
            seconds,
            tasksPerSecond: rate,
            efficiency: rate / ideal,
            schedulerCpuMsPerTask: (cpu.user + cpu.system) / 1000 / Math.max(1, tasks),
            allCpuMsPerTask: (sampleTree().cpuMs - allBefore) / Math.max(1, tasks),
            lagP50Ms: lagMs(lag.percentile(50)),
            lagP99Ms: lagMs(lag.percentile(99)),
          });
        }
        await driver.stop();
        if (driver.failure()) throw driver.failure();
        const agentRss = agents.map((a) => rssOf(a.pid!) + (descendants(a.pid!) ?? []).reduce((sum, pid) => sum + rssOf(pid), 0));
        const cpuPerTask = median(windows.map((w) => w.schedulerCpuMsPerTask));
        const point = {
          agents: target,
          inFlight,
          idealTasksPerSecond: ideal,
          windows,
          efficiency: spread(windows.map((w) => w.efficiency)),
          tasksPerSecond: spread(windows.map((w) => w.tasksPerSecond)),
          schedulerCpuMsPerTask: cpuPerTask,
          allCpuMsPerTask: median(windows.map((w) => w.allCpuMsPerTask)),
          schedulerCpuMsPerSecond: median(windows.map((w) => w.schedulerCpuMsPerTask * w.tasksPerSecond)),
          lagP50Ms: median(windows.map((w) => w.lagP50Ms)),
          lagP99Ms: median(windows.map((w) => w.lagP99Ms)),
          agentRssMiB: spread(agentRss.map((b) => b / 2 ** 20)),
          schedulerRssMiB: process.memoryUsage.rss() / 2 ** 20,
        };
        points.push(point);
        console.error(
          `  scale-out ${target} agents: ${point.tasksPerSecond.median.toFixed(0)} tasks/s of ${ideal.toFixed(0)} ideal, efficiency ${(point.efficiency.median * 100).toFixed(1)}%, ` +
            `scheduler ${cpuPerTask.toFixed(3)} ms CPU/task, lag p99 ${point.lagP99Ms.toFixed(1)} ms`,
        );
      }
    } finally {
      lag.disable();
      await Promise.all(agents.map(stopAgent));
      await pool.destroy();
    }
    const last = points[points.length - 1];
    const before = points[points.length - 2];
    const marginal = last && before ? (last.schedulerCpuMsPerSecond - before.schedulerCpuMsPerSecond) / (last.tasksPerSecond.median - before.tasksPerSecond.median) : NaN;
    return {
      schedulerSaturation: {
        marginalCpuMsPerTask: marginal,
        tasksPerSecondOnOneCore: marginal > 0 ? 1000 / marginal : null,
        between: before && last ? [before.agents, last.agents] : null,
      },
      options: { ...p, agentMode: 'process', workersPerAgent: 1 },
      points,
      target: { ...SCALE_OUT_TARGET, agents: last?.agents, efficiency: last?.efficiency.median, met: last ? last.efficiency.median >= SCALE_OUT_TARGET.efficiencyAtLeast : null },
    };
  });
}
