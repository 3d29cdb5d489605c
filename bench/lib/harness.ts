/**
 * Shared pieces of the benchmarks: the Contender shape, the interleaved round runner,
 * the windowed driver, statistics and table formatting. A new way of running tasks
 * (e.g. Troupe remote: a `size: 0` scheduler plus an agent on loopback) is one more
 * function returning a Contender.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import type { CellLaunch } from '../../dist/bench/cells.js';

/** A setup() that throws this marks the contender as skipped (e.g. python3 missing), not failed. */
export class SkipError extends Error {
  override name = 'SkipError';
}

export interface Contender {
  name: string;
  /** How it is set up, for the tables: "2 threads, one task per run()". */
  detail: string;
  /** Tasks per throughput run when it differs from the suite's (slow peers). */
  tasks?: number;
  /** Starts workers and waits until they answer. */
  setup(): Promise<void>;
  /**
   * Runs n tasks with about `inFlight` outstanding. The harness times it, unless it
   * returns its own elapsed milliseconds (a peer timed on its side).
   */
  runThroughput?(n: number, inFlight: number): Promise<number | void>;
  /** One task, awaited: resolves with square(i). */
  roundTrip?(i: number): PromiseLike<unknown>;
  /** Stops everything it started. Must not throw for a contender whose setup failed. */
  teardown(): Promise<void>;
}

export const fixture = (name: string): URL => new URL(`../fixtures/${name}`, import.meta.url);

/** `unref`: the timer alone does not keep the process alive (for grace periods while something else runs). */
export const sleep = (ms: number, unref = false): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (unref) timer.unref();
  });

/**
 * The environment for a child started with `process.execPath` (not fork): NODE_OPTIONS
 * without loader flags, since the benchmarks run under `--import tsx` and children must not.
 */
export function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  const options = env.NODE_OPTIONS;
  if (options) {
    const kept: string[] = [];
    const words = options.split(/\s+/).filter(Boolean);
    for (let i = 0; i < words.length; i++) {
      const w = words[i];
      if (/^(--import|--loader|--experimental-loader|--require|-r)$/.test(w)) i++;
      else if (!/^(--import|--loader|--experimental-loader|--require)=/.test(w)) kept.push(w);
    }
    if (kept.length) env.NODE_OPTIONS = kept.join(' ');
    else delete env.NODE_OPTIONS;
  }
  return env;
}

/** How Troupe's pools and agents start in a benchmark: with no loader flags, as every peer does. */
export function bareLaunch(): CellLaunch {
  return { execArgv: [], env: childEnv() };
}

/** `promise`, or a rejection naming `what` once `ms` have passed without it settling. */
export function withDeadline<T>(promise: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    Promise.resolve(promise).finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no end within ${ms / 1000} s`)), ms);
    }),
  ]);
}

/** Submits tasks 0..n-1 keeping `inFlight` outstanding; checks every result is i*i. */
export function windowed(n: number, inFlight: number, submit: (i: number) => PromiseLike<unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let done = 0;
    let failed = false;
    const fail = (error: unknown) => {
      if (!failed) reject(error);
      failed = true;
    };
    const launch = (): void => {
      const i = next++;
      submit(i).then((value) => {
        if (failed) return;
        if (value !== i * i) return fail(new Error(`task ${i}: expected ${i * i}, got ${String(value)}`));
        if (++done === n) resolve();
        else if (next < n) launch();
      }, fail);
    };
    if (n === 0) resolve();
    for (let k = 0; k < Math.min(n, inFlight); k++) launch();
  });
}

/** `count` sequential round trips; returns each one's duration in microseconds. */
export async function roundTrips(c: Pick<Contender, 'name' | 'roundTrip'>, count: number, offset = 0): Promise<number[]> {
  const samples = new Array<number>(count);
  for (let k = 0; k < count; k++) {
    const i = offset + k;
    const start = performance.now();
    const value = await c.roundTrip!(i);
    samples[k] = (performance.now() - start) * 1000;
    if (value !== i * i) throw new Error(`${c.name} round trip ${i}: expected ${i * i}, got ${String(value)}`);
  }
  return samples;
}

// ---- statistics -------------------------------------------------------------------------

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1; // nearest rank
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

export const median = (samples: readonly number[]): number => {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

export const minMax = (samples: readonly number[]): [number, number] => [Math.min(...samples), Math.max(...samples)];

/** Per-round ratios a[r] / b[r], for the rounds where both exist. */
export function ratios(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  for (let r = 0; r < Math.min(a.length, b.length); r++) if (b[r] > 0 && Number.isFinite(a[r])) out.push(a[r] / b[r]);
  return out;
}

// ---- rounds -------------------------------------------------------------------------------

/** Round r runs the contenders starting at index r (rotation), so each takes each position alike. */
export function rotation<T>(items: readonly T[], round: number): T[] {
  const k = items.length === 0 ? 0 : ((round % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/**
 * Runs `measure` for every contender in every round, in rotating order, after one warm-up
 * round (round -1) that is not recorded. Returns per-contender samples and each round's order.
 */
export async function interleave<T>(
  contenders: readonly Contender[],
  rounds: number,
  measure: (c: Contender, round: number) => Promise<T>,
  onRound?: (round: number) => void,
): Promise<{ samples: Map<string, T[]>; order: string[][] }> {
  const samples = new Map<string, T[]>(contenders.map((c) => [c.name, []]));
  const order: string[][] = [];
  for (let round = -1; round < rounds; round++) {
    const list = rotation(contenders, round + 1);
    for (const c of list) {
      const value = await measure(c, round);
      if (round >= 0) samples.get(c.name)!.push(value);
    }
    if (round >= 0) order.push(list.map((c) => c.name));
    onRound?.(round);
  }
  return { samples, order };
}

// ---- lifecycle ----------------------------------------------------------------------------

export interface Started {
  ready: Contender[];
  skipped: { name: string; reason: string }[];
}

/**
 * Sets up every contender (one at a time: 2 cores), runs `body` with the ones that started,
 * and tears every one of them down afterwards, on error and on Ctrl-C too.
 */
export async function withContenders<T>(contenders: readonly Contender[], body: (s: Started) => Promise<T>): Promise<T> {
  const started: Contender[] = [];
  const skipped: Started['skipped'] = [];
  let tornDown: Promise<void> | undefined;
  const teardownAll = () => (tornDown ??= teardown(started));
  const onSignal = () => {
    console.error('\ninterrupted: stopping every pool and child…');
    void teardownAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const c of contenders) {
      started.push(c); // teardown() must cope with a half-done setup()
      try {
        await c.setup();
      } catch (error) {
        const reason = error instanceof SkipError ? error.message : `setup failed: ${(error as Error).message}`;
        skipped.push({ name: c.name, reason });
        console.error(`skipping ${c.name}: ${reason}`);
        started.pop();
        await c.teardown().catch(() => {});
      }
    }
    return await body({ ready: [...started], skipped });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await teardownAll();
  }
}

async function teardown(contenders: readonly Contender[]): Promise<void> {
  for (const c of [...contenders].reverse()) {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('teardown took over 15 s')), 15_000);
    });
    try {
      await Promise.race([c.teardown(), deadline]);
    } catch (error) {
      console.error(`teardown of ${c.name}: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Once `main` is done nothing should be left running; if something is, say what and leave. */
export function exitWhenDone(main: Promise<unknown>): void {
  main.then(
    () => {
      setTimeout(() => {
        console.error('still running after teardown:', process.getActiveResourcesInfo().join(', '));
        process.exit(1);
      }, 5_000).unref();
    },
    (error) => {
      console.error(error);
      process.exitCode = 1;
      setTimeout(() => process.exit(1), 5_000).unref();
    },
  );
}

// ---- reporting ----------------------------------------------------------------------------

export function machineInfo(): Record<string, unknown> {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    if (dirty.trim()) commit += ' (lib/ has uncommitted changes)';
  } catch {
    // not a git checkout
  }
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpu.length,
    availableParallelism: availableParallelism(),
    cpuModel: cpu[0]?.model ?? 'unknown',
    totalMemMB: Math.round(totalmem() / 2 ** 20),
    loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
    commit,
  };
}

export const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
export const fmtRatio = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : 'n/a');
export const fmtRange = (values: readonly number[], f: (n: number) => string = fmtInt): string => {
  if (values.length === 0) return 'n/a';
  const [lo, hi] = minMax(values);
  return `${f(lo)} – ${f(hi)}`;
};

/** A Markdown table whose columns are padded, so it also reads well on a terminal. */
export function table(headers: string[], rows: string[][], rightAligned: boolean[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const pad = (cell: string, i: number) => (rightAligned[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]));
  const line = (cells: string[]) => `| ${cells.map((c, i) => pad(c ?? '', i)).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (rightAligned[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** `--name value` options of a script, with defaults; anything unknown is an error. */
export function numericArgs<T extends Record<string, number>>(defaults: T, argv = process.argv.slice(2)): T {
  const out: Record<string, number> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    const key = match?.[1].replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase());
    if (!match || key === undefined || !(key in defaults)) {
      const known = Object.keys(defaults).map((k) => `--${k.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)}`);
      throw new Error(`unknown argument ${argv[i]}; known: ${known.join(' ')}`);
    }
    const raw = match[2] ?? argv[++i];
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${match[1]} needs a number >= 0; got ${raw}`);
    out[key] = value;
  }
  return out as T;
}
