/**
 * Encode + decode of the batches the scheduler sends, for the frame-body codec choice.
 * Run: node --import tsx bench/codec.ts
 */
import * as v8 from 'node:v8';
import { Packr, pack, unpack } from 'msgpackr';

interface Candidate {
  name: string;
  roundTrip(value: unknown): unknown;
}

const candidates: Candidate[] = [
  { name: 'v8', roundTrip: (v) => v8.deserialize(v8.serialize(v)) },
  { name: 'JSON', roundTrip: (v) => JSON.parse(Buffer.from(JSON.stringify(v)).toString()) },
  { name: 'msgpackr', roundTrip: (v) => unpack(pack(v)) },
];
// The settings msgpackr would need to come closest to v8's semantics (Map vs object, Set,
// BigInt of any size, cycles) without generating decoder code from keys on the wire.
// (inlineObjectReadThreshold is missing from msgpackr's typings, hence the detour.)
const structuredOptions = { structuredClone: true, moreTypes: true, useBigIntExtension: true, inlineObjectReadThreshold: Infinity };
const structured = new Packr(structuredOptions);
candidates.push({ name: 'msgpackr+sc', roundTrip: (v) => structured.unpack(structured.pack(v)) });

const BATCH = 64;
const tasks: unknown[] = [];
const results: unknown[] = [];
for (let i = 0; i < BATCH; i++) {
  const id = 1_000_000 + i;
  const n = i * 7919;
  tasks.push(id, 'square', [n]);
  results.push(id, 0, n * n);
}
const shapes: Record<string, unknown> = {
  'tasks x64': tasks,
  'results x64': results,
  'one task': [1_000_000, 'square', [12345]],
};

const ROUNDS = 7;
const ROUND_MS = 250;

function opsPerSecond(c: Candidate, value: unknown): number {
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ROUND_MS) {
    for (let i = 0; i < 200; i++) c.roundTrip(value);
    ops += 200;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

for (const [shape, value] of Object.entries(shapes)) {
  const sizes = `v8 ${v8.serialize(value).length} B, JSON ${Buffer.byteLength(JSON.stringify(value))} B, msgpackr ${pack(value).length} B, msgpackr+sc ${structured.pack(value).length} B`;
  console.log(`\n${shape} (${sizes})`);
  for (const c of candidates) c.roundTrip(value); // warm up the JIT before measuring
  const runs = new Map<string, number[]>(candidates.map((c) => [c.name, []]));
  // Rounds interleave the candidates so drift in machine load hits all of them alike.
  for (let r = 0; r < ROUNDS; r++) for (const c of candidates) runs.get(c.name)!.push(opsPerSecond(c, value));
  const median = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)];
  const v8Median = median(runs.get('v8')!);
  for (const [name, samples] of runs) {
    const m = median(samples);
    console.log(
      `  ${name.padEnd(11)} ${fmt(m).padStart(10)} round trips/s  (min ${fmt(Math.min(...samples))} – max ${fmt(Math.max(...samples))})  ${(m / v8Median).toFixed(2)}× v8`,
    );
  }
}
