/**
 * The one format in which work crosses from the scheduler to whatever runs it (a thread's
 * port, a process's pipe, an agent's connection and its local workers), and results
 * come back. Every boundary that receives one parses it here into typed values.
 *
 * A batch's entries have consecutive wire ids from `base`, so no id travels per entry. The
 * common batch (many calls of one task with one argument each) is three fields and one array
 * of plain arguments: `{ base, name: 'square', one: [1, 2, 3] }`.
 */
import { ProtocolError } from '../errors.js';
import { packNumbers } from './packed.js';
import { ascendingIndexes, denseArray, isRecord, taskName, valueList, wireId, wireIds } from './parse.js';

/** Goes up whenever the shape of a batch or of results changes (3: batches for actors; 4: map chunks; 5: numbers packed). */
export const BATCH_FORMAT = 5;

/** Most entries in one batch or one results message that a receiver accepts. */
export const MAX_ENTRIES = 65_536;
/** Most arguments one entry may carry. */
export const MAX_ARGS = 65_536;
/** Longest chain of actor calls waiting on each other that a batch may carry. */
export const MAX_CHAIN = 256;

/** A batch for an actor: its entries call methods (the entry's name). */
export const CALL = 0;
/**
 * A batch for an actor: its one entry constructs the exported class it names, with its
 * arguments, as the actor. The entry is reported started once constructed, and settles when
 * the actor stops (or fails to construct): so an actor's life is one entry in flight, and
 * whatever loses entries (a worker's death, an agent's) loses the actor with it.
 */
export const SPAWN = 1;
/** A batch for an actor: its one entry stops it, after the messages sent before. */
export const STOP = 2;
/**
 * Actor entries (messages in flight, and each live actor's spawn entry) a backend holds at
 * most, per unit of the task capacity it announced: the scheduler keeps within it, and an
 * agent drops a scheduler that does not.
 */
export const ACTOR_CREDIT = 64;

export interface Batch {
  /** Wire id of entry 0; entry i has id `base + i`. */
  readonly base: number;
  /** The task every entry calls, or one name per entry. */
  readonly name: string | readonly string[];
  /** Each entry's arguments, when entries take other than exactly one. */
  readonly args?: readonly (readonly unknown[])[];
  /** Each entry's only argument, when every entry takes exactly one (numbers may be packed in a Float64Array). */
  readonly one?: ArrayLike<unknown>;
  /** The actor every entry is for (the id of its spawn entry); absent for tasks. */
  readonly actor?: number;
  /** What the entries do to the actor: CALL (the default), SPAWN or STOP. */
  readonly op?: number;
  /** For each entry, the actors whose calls wait on it, outermost first; absent when none do. */
  readonly chains?: readonly (readonly number[])[];
  /**
   * Indexes (ascending) of the entries that are map chunks: the entry's one argument is a list
   * of items (an array, or numbers packed in a Float64Array), its task runs once per item, and
   * it settles with a ChunkOutcome.
   */
  readonly each?: readonly number[];
}

/** What a map chunk settles with: a value per item, SerializedErrors at the indexes in `failed`. */
export interface ChunkOutcome {
  /** An array, or numbers packed in a Float64Array. */
  readonly values: ArrayLike<unknown>;
  readonly failed?: readonly number[];
  /** ms from the chunk's start to the settlement of its last item, in its worker. */
  readonly ms: number;
}

export const OK = 0;
export const ERR = 1;

export interface Results {
  /** Ids are `base + i` for `values[i]`, unless `ids` lists them. */
  readonly base: number;
  readonly ids?: readonly number[];
  /** Each entry's return value, or a SerializedError for the indexes listed in `failed` (numbers may be packed in a Float64Array). */
  readonly values: ArrayLike<unknown>;
  readonly failed?: readonly number[];
  /**
   * Ids of entries that began and now wait on a promise: they no longer hold the worker,
   * so they leave its window (async tasks overlap); their values come later.
   */
  readonly started?: readonly number[];
  /** ms the worker's event loop spent running these entries' code. */
  readonly busy: number;
  /** ms the entries took from their start to their settlement, summed. */
  readonly run: number;
  /**
   * Progress reports of running tasks, `[wire id, value]`, the latest of each task since the
   * last message; they come before that task's value.
   */
  readonly progress?: readonly (readonly [number, unknown])[];
  /** Bytes on the worker's JS heap when it sent these, when it was asked to report them (recycling). */
  readonly heap?: number;
}

export function entryCount(batch: Batch): number {
  return batch.one !== undefined ? batch.one.length : batch.args!.length;
}

export function entryName(batch: Batch, i: number): string {
  return typeof batch.name === 'string' ? batch.name : batch.name[i];
}

export function entryArgs(batch: Batch, i: number): readonly unknown[] {
  return batch.one !== undefined ? [batch.one[i]] : batch.args![i];
}

/** Wire ids of a results message, one per value. */
export function resultId(results: Results, i: number): number {
  return results.ids !== undefined ? results.ids[i] : results.base + i;
}

const NO_FAILURES: ReadonlySet<number> = new Set();

/** Indexes of the values of a results message that are failures. */
export function failures(results: Results): ReadonlySet<number> {
  return results.failed === undefined || results.failed.length === 0 ? NO_FAILURES : new Set(results.failed);
}

/** A batch under construction; compact while every entry calls one task with one argument. */
export class BatchBuilder {
  #name: string | undefined = undefined;
  #names: string[] | undefined = undefined;
  #one: unknown[] | undefined = [];
  #args: (readonly unknown[])[] | undefined = undefined;
  #each: number[] | undefined = undefined;
  #count = 0;

  constructor(readonly base: number) {}

  get count(): number {
    return this.#count;
  }

  /** Adds an entry; with `each`, a map chunk (its one argument is the list of items). */
  add(name: string, args: readonly unknown[], each = false): void {
    if (each) (this.#each ??= []).push(this.#count);
    if (this.#count === 0) this.#name = name;
    else if (this.#names !== undefined) this.#names.push(name);
    else if (name !== this.#name) {
      this.#names = new Array<string>(this.#count).fill(this.#name!);
      this.#names.push(name);
    }
    if (this.#one !== undefined && args.length !== 1) {
      this.#args = this.#one.map((arg) => [arg]);
      this.#one = undefined;
    }
    if (this.#one !== undefined) this.#one.push(args[0]);
    else this.#args!.push(args);
    this.#count++;
  }

  /** The batch; for an actor's messages, with its id and the entries' chains (CALL is the default op). */
  build(actor?: number, chains?: readonly (readonly number[])[]): Batch {
    const { base } = this;
    const name = this.#names ?? this.#name!;
    const each = this.#each;
    const one = this.#one === undefined ? undefined : packNumbers(this.#one);
    if (each !== undefined) return one !== undefined ? { base, name, one, each } : { base, name, args: this.#args, each };
    if (actor === undefined) return one !== undefined ? { base, name, one } : { base, name, args: this.#args };
    return one !== undefined ? { base, name, one, actor, op: CALL, chains } : { base, name, args: this.#args, actor, op: CALL, chains };
  }
}

/** A copy of `batch` under other wire ids (an agent numbers the tasks it forwards its own way). */
export function rebase(batch: Batch, base: number): Batch {
  return { ...batch, base };
}

// ---- parsing what a peer or a worker sent ----

function finiteMs(value: unknown, what: string): number {
  if (typeof value !== 'number' || !(value >= 0) || value === Infinity) throw new ProtocolError(`${what} must be ms >= 0`);
  return value;
}

/** Checks a batch that came from a scheduler; throws ProtocolError naming what is wrong. */
export function parseBatch(value: unknown): Batch {
  if (!isRecord(value)) throw new ProtocolError('a batch must be an object');
  const base = wireId(value.base, 'batch.base');
  let count: number;
  let one: ArrayLike<unknown> | undefined;
  let args: (readonly unknown[])[] | undefined;
  if (value.one !== undefined) {
    one = valueList(value.one, MAX_ENTRIES, 'batch.one');
    count = one.length;
  } else {
    const list = denseArray(value.args, MAX_ENTRIES, 'batch.args');
    args = list.map((entry, i) => denseArray(entry, MAX_ARGS, `batch.args[${i}]`));
    count = args.length;
  }
  if (count === 0) throw new ProtocolError('a batch must have at least one entry');
  if (!Number.isSafeInteger(base + count)) throw new ProtocolError('batch ids overflow');
  let name: string | readonly string[];
  if (typeof value.name === 'string') name = taskName(value.name);
  else {
    const names = denseArray(value.name, MAX_ENTRIES, 'batch.name');
    if (names.length !== count) throw new ProtocolError('batch.name must have one name per entry');
    name = names.map(taskName);
  }
  if (value.each !== undefined) {
    if (value.actor !== undefined) throw new ProtocolError('a batch for an actor has no map chunks');
    const each = parseEach(value.each, count, (i) => (one !== undefined ? [one[i]] : args![i]));
    return one !== undefined ? { base, name, one, each } : { base, name, args, each };
  }
  if (value.actor === undefined) return one !== undefined ? { base, name, one } : { base, name, args };
  // One literal, not a spread of two: actor batches keep one shape on the hot path.
  const { actor, op, chains } = parseActorFields(value, count);
  return one !== undefined ? { base, name, one, actor, op, chains } : { base, name, args, actor, op, chains };
}

function parseActorFields(value: Record<string, unknown>, count: number): Pick<Batch, 'actor' | 'op' | 'chains'> {
  const actor = wireId(value.actor, 'batch.actor');
  const op = value.op ?? CALL;
  if (op !== CALL && op !== SPAWN && op !== STOP) throw new ProtocolError('batch.op must be CALL, SPAWN or STOP');
  if (op !== CALL && count !== 1) throw new ProtocolError('a SPAWN or STOP batch has one entry');
  if (value.chains === undefined) return { actor, op };
  const chains = denseArray(value.chains, MAX_ENTRIES, 'batch.chains').map((chain) => wireIds(chain, MAX_CHAIN, 'batch.chains[]'));
  if (chains.length !== count) throw new ProtocolError('batch.chains must have one chain per entry');
  return { actor, op, chains };
}

function parseEach(value: unknown, count: number, argsOf: (i: number) => readonly unknown[]): number[] {
  const each = ascendingIndexes(value, count, 'batch.each');
  for (const index of each) {
    const args = argsOf(index);
    if (args.length !== 1) throw new ProtocolError('a map chunk takes one argument, its items');
    valueList(args[0], MAX_ENTRIES, 'the items of a map chunk');
  }
  return each;
}

/** The value a map chunk of `items` items settled with, as its worker sent it; throws ProtocolError if malformed. */
export function parseChunkOutcome(value: unknown, items: number): ChunkOutcome {
  if (!isRecord(value)) throw new ProtocolError('a map chunk outcome must be an object');
  const values = valueList(value.values, MAX_ENTRIES, 'chunk.values');
  if (values.length !== items) throw new ProtocolError(`a map chunk of ${items} items came back with ${values.length} values`);
  const failed = value.failed === undefined ? undefined : ascendingIndexes(value.failed, items, 'chunk.failed');
  return { values, failed, ms: finiteMs(value.ms, 'chunk.ms') };
}

/** Checks results that came from a worker or an agent; throws ProtocolError naming what is wrong. */
export function parseResults(value: unknown): Results {
  if (!isRecord(value)) throw new ProtocolError('results must be an object');
  const base = wireId(value.base, 'results.base');
  const values = valueList(value.values, MAX_ENTRIES, 'results.values');
  let ids: readonly number[] | undefined;
  if (value.ids !== undefined) {
    ids = wireIds(value.ids, MAX_ENTRIES, 'results.ids');
    if (ids.length !== values.length) throw new ProtocolError('results.ids must have one id per value');
  } else if (!Number.isSafeInteger(base + values.length)) throw new ProtocolError('results ids overflow');
  let failed: readonly number[] | undefined;
  if (value.failed !== undefined) {
    failed = denseArray(value.failed, MAX_ENTRIES, 'results.failed').map((index) => {
      if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= values.length) {
        throw new ProtocolError('results.failed must list indexes of values');
      }
      return index as number;
    });
  }
  const started = value.started === undefined ? undefined : wireIds(value.started, MAX_ENTRIES, 'results.started');
  const busy = finiteMs(value.busy, 'results.busy');
  const run = finiteMs(value.run, 'results.run');
  const results: { -readonly [K in keyof Results]: Results[K] } = { base, ids, values, failed, started, busy, run };
  if (value.progress !== undefined) results.progress = parseProgress(value.progress);
  if (value.heap !== undefined) {
    if (!Number.isSafeInteger(value.heap) || (value.heap as number) < 0) throw new ProtocolError('results.heap must be bytes >= 0');
    results.heap = value.heap as number;
  }
  return results;
}

function parseProgress(value: unknown): (readonly [number, unknown])[] {
  return denseArray(value, MAX_ENTRIES, 'results.progress').map((entry) => {
    if (!Array.isArray(entry) || entry.length !== 2) throw new ProtocolError('results.progress must hold [id, value] pairs');
    return [wireId(entry[0], 'results.progress[][0]'), entry[1]] as const;
  });
}
