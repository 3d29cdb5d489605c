/**
 * How much each suite runs. `full` is `npm run bench`; `quick` (`-- --quick`) takes about a
 * minute; `tiny` (`-- --tiny`, for the tests) only checks that every suite and chart is made.
 *
 * Round lengths: a round must measure the steady state, not the JIT. Every contender gets
 * one unrecorded warm-up round of the same work first (a 5 ms job runs its loop ~150,000
 * times per call, and each payload size is echoed 10–50 times before the first recorded
 * echo). The quick profile's rounds, 2–5 times shorter than the full ones, gave medians
 * of the same order, so the full lengths are not short enough for warm-up to show.
 *
 * Scale-out: every task costs the agent and its worker about 1 ms of CPU, so with 4 naps
 * of 200 ms in flight per agent, 100 agents would ask for 2 cores of agent CPU (2,000
 * tasks/s) and measure the machine, not the scheduler. One in flight per agent keeps that
 * near half a core at 100 agents; windows of 8 s hold 40+ naps per agent.
 *
 * Actors: Comedy answers some 5,000–35,000 calls/s here against Troupe's 100,000s, so it
 * gets a quarter of the calls per run (still 5 times its 1,000 in flight); a latency run is
 * 1,000 sequential calls, enough for a p99 of 10 samples.
 */
export type ProfileName = 'full' | 'quick' | 'tiny';

export interface Profile {
  name: ProfileName;
  tiny: { args: string[] };
  cpu: { rounds: number; jobMs: number; tasksPerWorker: number; inFlightPerWorker: number; /** Pool sizes; default 1..cores, and 2 × cores unless `oversubscribe` is false. */ sizes?: number[]; oversubscribe?: boolean };
  payloads: { rounds: number; sizes: number[]; echoes: (bytes: number) => number; warmup: (bytes: number) => number };
  startup: { rounds: number };
  scaleOut: { agents: number[]; napMs: number; inFlightPerAgent: number; windows: number; windowMs: number };
  /** bench/seed-queues.ts: items per round through the queues, the Python original and remote tasks. */
  queues: { rounds: number; tasks: number; pythonTasks: number; remoteTasks: number; inFlight: number };
  actors: ActorsProfile;
}

export interface ActorsProfile {
  rounds: number;
  /** Workers per mode (threads, processes, or the agent's processes). */
  workers: number;
  /** Actors the "many" throughput spreads its calls over. */
  actors: number;
  /** Calls per throughput run; Comedy, some 50 times slower, gets `peerCalls`. */
  calls: number;
  peerCalls: number;
  inFlight: number;
  /** One-in-flight calls per latency run, after `latencyWarmup` unrecorded ones in the warm-up round. */
  latency: number;
  latencyWarmup: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;
export const PAYLOAD_SIZES = [KiB, 64 * KiB, MiB, 8 * MiB];

export const PROFILES: Record<ProfileName, Profile> = {
  full: {
    name: 'full',
    tiny: { args: [] },
    cpu: { rounds: 5, jobMs: 5, tasksPerWorker: 120, inFlightPerWorker: 4 },
    payloads: { rounds: 5, sizes: PAYLOAD_SIZES, echoes: (b) => (b >= 8 * MiB ? 10 : b >= MiB ? 30 : 200), warmup: (b) => (b >= 8 * MiB ? 10 : 50) },
    startup: { rounds: 15 },
    scaleOut: { agents: [1, 10, 50, 100], napMs: 200, inFlightPerAgent: 1, windows: 3, windowMs: 8_000 },
    queues: { rounds: 5, tasks: 100_000, pythonTasks: 20_000, remoteTasks: 100_000, inFlight: 1_000 },
    actors: { rounds: 7, workers: 2, actors: 4, calls: 20_000, peerCalls: 5_000, inFlight: 1_000, latency: 1_000, latencyWarmup: 300 },
  },
  quick: {
    name: 'quick',
    tiny: { args: ['--rounds', '2', '--tasks', '20000', '--latency', '300', '--latency-warmup', '100', '--python-tasks', '2000', '--heap-runs', '2'] },
    cpu: { rounds: 2, jobMs: 5, tasksPerWorker: 30, inFlightPerWorker: 4, oversubscribe: false },
    payloads: { rounds: 2, sizes: PAYLOAD_SIZES, echoes: (b) => (b >= 8 * MiB ? 3 : b >= MiB ? 6 : 30), warmup: (b) => (b >= 8 * MiB ? 2 : 10) },
    startup: { rounds: 2 },
    scaleOut: { agents: [1, 10], napMs: 200, inFlightPerAgent: 1, windows: 1, windowMs: 4_000 },
    queues: { rounds: 2, tasks: 20_000, pythonTasks: 3_000, remoteTasks: 20_000, inFlight: 1_000 },
    actors: { rounds: 2, workers: 2, actors: 4, calls: 5_000, peerCalls: 2_000, inFlight: 1_000, latency: 300, latencyWarmup: 100 },
  },
  tiny: {
    name: 'tiny',
    tiny: { args: ['--rounds', '1', '--tasks', '2000', '--in-flight', '100', '--latency', '50', '--latency-warmup', '10', '--python-tasks', '200', '--heap-runs', '1'] },
    cpu: { rounds: 1, jobMs: 1, tasksPerWorker: 5, inFlightPerWorker: 2, sizes: [1, 2] },
    payloads: { rounds: 1, sizes: [KiB, 64 * KiB], echoes: () => 3, warmup: () => 1 },
    startup: { rounds: 1 },
    scaleOut: { agents: [1, 2], napMs: 50, inFlightPerAgent: 2, windows: 1, windowMs: 300 },
    queues: { rounds: 1, tasks: 2_000, pythonTasks: 200, remoteTasks: 2_000, inFlight: 100 },
    actors: { rounds: 1, workers: 1, actors: 2, calls: 200, peerCalls: 100, inFlight: 50, latency: 20, latencyWarmup: 5 },
  },
};
