/**
 * Payloads: one value echoed at a time, 1 KiB to 8 MiB, as a string, a Buffer, and a
 * transferred ArrayBuffer (threads only), through Troupe in each mode and the raw media,
 * the contenders of one size and kind taking turns echo by echo (lib/drive.ts). p50 per
 * round, MiB/s = bytes one way ÷ p50 round trip, ratios to the issue 6 targets taken per
 * round.
 */
import { piscina, rawFork, rawTcp, troupe, withRunners, type JobRunner } from '../contenders/jobs.js';
import { echoes } from '../lib/drive.js';
import { recordSuite, type SuiteContext } from '../lib/results.js';
import { PAYLOAD_TARGET_MIN_BYTES, PAYLOAD_TARGETS } from '../lib/targets.js';
import { median, percentile, ratios, rotation, spread } from '../../dist/bench/stats.js';

type Kind = 'string' | 'Buffer' | 'ArrayBuffer';
const KINDS: Kind[] = ['string', 'Buffer', 'ArrayBuffer'];

interface Entry {
  runner: JobRunner;
  kinds: Kind[];
  job: string;
}

const entries = (): Entry[] => [
  { runner: troupe('thread', 1), kinds: ['string', 'Buffer'], job: 'echo' },
  { runner: troupe('process', 1), kinds: ['string', 'Buffer'], job: 'echo' },
  { runner: troupe('remote', 1), kinds: ['string', 'Buffer'], job: 'echo' },
  { runner: troupe('inline', 1), kinds: ['string', 'Buffer'], job: 'echo' },
  { runner: troupe('thread', 1, { transfer: true }), kinds: ['ArrayBuffer'], job: 'echoMove' },
  { runner: piscina(1), kinds: ['string', 'Buffer'], job: 'echo' },
  { runner: piscina(1, { move: true }), kinds: ['ArrayBuffer'], job: 'echoMove' },
  // JSON serialization would turn a Buffer into an array of numbers: strings only.
  { runner: rawFork(1, 'json'), kinds: ['string'], job: 'echo' },
  { runner: rawFork(1, 'advanced'), kinds: ['string', 'Buffer'], job: 'echo' },
  { runner: rawTcp(), kinds: ['string', 'Buffer'], job: 'echo' },
  { runner: rawTcp(true), kinds: ['string', 'Buffer'], job: 'echo' },
];

interface Maker {
  make: () => { arg: unknown; transfer?: ArrayBuffer[]; bytes: number };
  /** Checks what came back, and keeps it if the next echo can send it again. */
  check: (sent: number, back: unknown) => boolean;
}

function maker(kind: Kind, bytes: number): Maker {
  const check = (sent: number, back: unknown) => sizeOf(back) === sent;
  if (kind === 'string') {
    const value = 'x'.repeat(bytes);
    return { make: () => ({ arg: value, bytes }), check };
  }
  if (kind === 'Buffer') {
    const value = Buffer.alloc(bytes, 1);
    return { make: () => ({ arg: value, bytes }), check };
  }
  // A transferred buffer is gone from here, and the echo moves it back: the next echo sends
  // that one. A fresh buffer per echo made every echo at 8 MiB pay for an allocation and the
  // collections it brings, by turns 0.2 ms and 1–8 ms, for Troupe and piscina alike.
  let spare: ArrayBuffer | undefined;
  return {
    make: () => {
      const buffer = spare ?? new ArrayBuffer(bytes);
      spare = undefined;
      return { arg: buffer, transfer: [buffer], bytes };
    },
    check: (sent, back) => {
      const buffer = back instanceof ArrayBuffer ? back : ArrayBuffer.isView(back) ? back.buffer : undefined;
      if (buffer instanceof ArrayBuffer && buffer.byteLength === bytes) spare = buffer;
      return check(sent, back);
    },
  };
}

const sizeOf = (value: unknown): number =>
  typeof value === 'string' ? value.length : ArrayBuffer.isView(value) || value instanceof ArrayBuffer ? value.byteLength : -1;

export function payloadsSuite(ctx: SuiteContext) {
  const p = ctx.profile.payloads;
  return recordSuite(ctx, 'payloads', async () => {
    const list = entries();
    return withRunners(list.map((e) => e.runner), async (ready, skipped) => {
      const live = list.filter((e) => ready.includes(e.runner));
      // p50 ms per round, by "kind size name"
      const p50s = new Map<string, number[]>();
      const p99s = new Map<string, number[]>();
      const key = (kind: string, bytes: number, name: string) => `${kind} ${bytes} ${name}`;
      for (let round = -1; round < p.rounds; round++) {
        for (const bytes of p.sizes) {
          for (const kind of KINDS) {
            const those = rotation(live.filter((x) => x.kinds.includes(kind)), round + 1);
            const count = round < 0 ? p.warmup(bytes) : p.echoes(bytes);
            const { make, check } = maker(kind, bytes);
            const samples = await echoes(those, count, make, check);
            if (round < 0) continue;
            those.forEach((e, i) => {
              const k = key(kind, bytes, e.runner.name);
              (p50s.get(k) ?? p50s.set(k, []).get(k)!).push(percentile(samples[i], 50));
              (p99s.get(k) ?? p99s.set(k, []).get(k)!).push(percentile(samples[i], 99));
            });
          }
        }
        console.error(`  payloads ${round < 0 ? 'warm-up' : `round ${round + 1}/${p.rounds}`} done`);
      }
      const rows = live.flatMap((e) =>
        e.kinds.flatMap((kind) =>
          p.sizes.map((bytes) => {
            const r = p50s.get(key(kind, bytes, e.runner.name)) ?? [];
            const p50 = median(r);
            return {
              contender: e.runner.name,
              kind,
              bytes,
              p50MsPerRound: r,
              p50Ms: spread(r),
              p99Ms: median(p99s.get(key(kind, bytes, e.runner.name)) ?? []),
              mibPerSecond: bytes / 2 ** 20 / (p50 / 1000),
            };
          }),
        ),
      );
      const targets = PAYLOAD_TARGETS.flatMap((t) =>
        t.kinds.flatMap((kind) =>
          p.sizes
            .filter((bytes) => bytes >= PAYLOAD_TARGET_MIN_BYTES)
            .map((bytes) => {
              const mine = p50s.get(key(kind, bytes, t.contender)) ?? [];
              const refs = t.against.map((name) => p50s.get(key(kind, bytes, name))).filter((x): x is number[] => x !== undefined);
              const best = mine.map((_, r) => Math.min(...refs.map((ref) => ref[r]).filter(Number.isFinite)));
              const per = ratios(mine, best);
              const m = median(per);
              return { contender: t.contender, against: t.against, kind, bytes, atMost: t.atMost, ratios: per, median: m, spread: spread(per), met: per.length ? m <= t.atMost : null };
            }),
        ),
      );
      return {
        options: { rounds: p.rounds, sizes: p.sizes, echoes: p.sizes.map(p.echoes), warmup: p.sizes.map(p.warmup) },
        contenders: live.map((e) => ({ name: e.runner.name, detail: e.runner.detail, kinds: e.kinds })),
        skipped,
        rows,
        targets,
      };
    });
  });
}
