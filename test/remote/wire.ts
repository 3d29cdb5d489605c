/** Builds and reads protocol messages from the flat `[id, name, args, …]` form tests find easy to write. */
import { resultId, type Batch } from '../../lib/worker/batch.js';
import { parseAnyResults } from '../../lib/worker/compact-forms.js';

/** A batch from `[id, name, args, …]` triples whose ids are consecutive. */
export function batchOf(triples: readonly unknown[]): Batch {
  const base = triples[0] as number;
  const name: string[] = [];
  const args: unknown[][] = [];
  for (let i = 0; i < triples.length; i += 3) {
    if (triples[i] !== base + i / 3) throw new Error('batchOf() needs consecutive ids');
    name.push(triples[i + 1] as string);
    args.push(triples[i + 2] as unknown[]);
  }
  return { base, name, args };
}

/** `[id, status, value]` for each result of a results message (status 1 for a failure). */
export function resultTriples(message: unknown): [number, number, unknown][] {
  const results = parseAnyResults(message);
  const failed = new Set(results.failed);
  return Array.from(results.values, (value, i): [number, number, unknown] => [resultId(results, i), failed.has(i) ? 1 : 0, value]);
}

/** A results message from `[id, status, value, …]` triples. */
export function resultsOf(triples: readonly unknown[]): unknown {
  const ids: unknown[] = [];
  const values: unknown[] = [];
  const failed: number[] = [];
  for (let i = 0; i < triples.length; i += 3) {
    if (triples[i + 1] !== 0) failed.push(values.length);
    ids.push(triples[i]);
    values.push(triples[i + 2]);
  }
  return { base: 0, ids, values, failed, busy: 0, run: 0 };
}
