/**
 * The targets the reference suites print ratios against, in one place. Payloads: issue 6
 * ("the seam"), echo of one value at a time, p50 ratio of Troupe to the raw medium of its
 * kind in the same round, at 64 KiB and up, string and Buffer (transfer: ArrayBuffer).
 * Startup: issue 11, Troupe's time to ready and idle RSS per worker against the raw figure.
 * Scale-out: issue 11, efficiency at the largest number of agents.
 */
export interface PayloadTarget {
  contender: string;
  /** The reference: the better (lower p50) of these, per round. */
  against: string[];
  atMost: number;
  kinds: string[];
}

export const PAYLOAD_TARGET_MIN_BYTES = 64 * 1024;

export const PAYLOAD_TARGETS: PayloadTarget[] = [
  { contender: 'troupe process', against: ['raw fork json', 'raw fork advanced'], atMost: 1.3, kinds: ['string', 'Buffer'] },
  { contender: 'troupe remote', against: ['raw TCP'], atMost: 1.5, kinds: ['string', 'Buffer'] },
  // Not the target: the same bound against the floor of a hop to a worker process, to
  // show how much of the gap to raw TCP is the agent's hop itself.
  { contender: 'troupe remote', against: ['raw TCP + IPC hop'], atMost: 1.5, kinds: ['string', 'Buffer'] },
  // An inline agent: its one worker holds its own connection, so no hop (the fallback).
  { contender: 'troupe remote inline', against: ['raw TCP'], atMost: 1.5, kinds: ['string', 'Buffer'] },
  { contender: 'troupe thread', against: ['piscina'], atMost: 1.2, kinds: ['string', 'Buffer'] },
  { contender: 'troupe thread transfer', against: ['piscina move'], atMost: 1.5, kinds: ['ArrayBuffer'] },
];

/**
 * Troupe's time to ready and idle RSS per worker, at most this many times the reference's.
 * The references are issue 11's: piscina's start for threads (our user requires piscina in
 * the thread path), a raw cluster fork for processes, the raw media for idle RSS. A thread's
 * start against a bare `new Worker` is printed beside them, not judged: what lies between
 * those two is piscina's own start.
 */
export const STARTUP_TARGET = {
  atMost: 1.2,
  judged: [
    ['troupe thread', 'piscina', 'readyMs'],
    ['troupe process', 'raw cluster fork', 'readyMs'],
    ['troupe thread', 'raw worker_threads', 'idleRssPerWorkerBytes'],
    ['troupe process', 'raw cluster fork', 'idleRssPerWorkerBytes'],
  ],
  reported: [['troupe thread', 'raw worker_threads', 'readyMs']],
} as const;

/** Scale-out efficiency at the most agents. */
export const SCALE_OUT_TARGET = { efficiencyAtLeast: 0.9 };

/**
 * Actors: issue 7. Troupe's actor calls per second at least this many times Comedy's in the
 * same round and mode (many actors, and one); an actor call's p50 at most this many times
 * a `run()` task's p50 on the same pool.
 */
export const ACTOR_TARGETS = { callsVsComedyAtLeast: 10, p50VsTaskAtMost: 1.2 };
