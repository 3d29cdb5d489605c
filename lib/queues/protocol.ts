/**
 * Messages between a client (`connect()`) and the pool it is connected to, after the
 * hello of remote-protocol.ts. Types 24–29 and 40–42; 30–39 are left to actors. Like
 * the agents' messages they carry names and values, never code, and every message from a
 * client is parsed here, with limits, before anything uses it.
 */
import { ProtocolError } from '../errors.js';
import { denseArray, isRecord, taskName, wireId, wireIds } from '../worker/parse.js';

/** Client → pool: `{ q, base, items }`: puts with the consecutive ids base, base + 1, … */
export const CLIENT_PUT = 24;
/** Client → pool: `{ id, name, args, timeout? }`: a task to run, like `pool.run()`. */
export const CLIENT_RUN = 25;
/** Client → pool: `{ id }`: give up a put still waiting for room, or cancel a run. */
export const CLIENT_CANCEL = 26;
/** Client → pool: `{ id, q }`: how many items the queue holds. */
export const CLIENT_SIZE = 27;
/**
 * Client → pool: `{ q, window }`: keep up to `window` items of queue `q` handed to this
 * client and not yet acknowledged (0: send no more). Acknowledgements make room again.
 */
export const CLIENT_CREDIT = 28;
/**
 * Client → pool: an ActorCall (worker/calls.ts) to an actor of the pool, by name; answered
 * by CLIENT_REPLY under its id unless it is a tell. In the range left to actors.
 */
export const CLIENT_ACTOR = 34;
/** Client → pool: `{ ids, requeue }`: delivered items done with, or (requeue) given back to the front. */
export const CLIENT_ACK = 29;
/** Pool → client: `{ ids, values, failed }`: answers to puts, runs, sizes; `failed` indexes values that are errors. */
export const CLIENT_REPLY = 40;
/** Pool → client: `{ q, base, items }`: items of `q` under the consecutive delivery ids base, base + 1, … */
export const CLIENT_DELIVER = 41;
/** Pool → client: `{ q, error }`: no more items will come from `q` (closed and drained, or unknown). */
export const CLIENT_END = 42;

/** Most items in one put, deliver or ack message. */
export const MAX_ITEMS = 4_096;
export const MAX_QUEUE_NAME = 256;
/** Largest window of one client connection on one queue: items handed to it and not acknowledged. */
export const MAX_PREFETCH = 1_024;
/** Most puts waiting for room, and most runs in flight, per client connection. */
export const MAX_WAITING_PUTS = 16_384;
export const MAX_RUNS = 16_384;
/** Most answers in one reply message. */
export const MAX_REPLIES = 65_536;

export interface PutMessage { q: string; base: number; items: readonly unknown[] }
export interface RunMessage { id: number; name: string; args: unknown[]; timeout: number | undefined }
export interface CreditMessage { q: string; window: number }
export interface AckMessage { ids: number[]; requeue: boolean }
export interface ReplyMessage { ids: number[]; values: readonly unknown[]; failed: number[] }
export interface DeliverMessage { q: string; base: number; items: readonly unknown[] }
export interface EndMessage { q: string; error: unknown }

export function queueName(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_QUEUE_NAME) {
    throw new ProtocolError(`a queue name must be a string of at most ${MAX_QUEUE_NAME} characters`);
  }
  return value;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new ProtocolError(`a ${what} message must be an object`);
  return value;
}

function count(value: unknown, max: number, what: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > max) {
    throw new ProtocolError(`${what} must be an integer from 0 to ${max}`);
  }
  return value as number;
}

export function parsePut(value: unknown): PutMessage {
  const m = record(value, 'put');
  return { q: queueName(m.q), base: wireId(m.base, 'put.base'), items: denseArray(m.items, MAX_ITEMS, 'put.items') };
}

export function parseRun(value: unknown): RunMessage {
  const m = record(value, 'run');
  const timeout = m.timeout;
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0))) {
    throw new ProtocolError('run.timeout must be a number > 0');
  }
  // The args array is handed to the task as its argument list: dense and bounded like a batch's.
  const args = denseArray(m.args, 65_536, 'run.args') as unknown[];
  return { id: wireId(m.id, 'run.id'), name: taskName(m.name), args, timeout };
}

export function parseCancel(value: unknown): number {
  return wireId(record(value, 'cancel').id, 'cancel.id');
}

export function parseSize(value: unknown): { id: number; q: string } {
  const m = record(value, 'size');
  return { id: wireId(m.id, 'size.id'), q: queueName(m.q) };
}

export function parseCredit(value: unknown): CreditMessage {
  const m = record(value, 'credit');
  return { q: queueName(m.q), window: count(m.window, MAX_PREFETCH, 'credit.window') };
}

export function parseAck(value: unknown): AckMessage {
  const m = record(value, 'ack');
  if (typeof m.requeue !== 'boolean') throw new ProtocolError('ack.requeue must be a boolean');
  return { ids: wireIds(m.ids, MAX_ITEMS, 'ack.ids'), requeue: m.requeue };
}

/** The pool's messages, read by the client: a broken pool is closed the same way. */
export function parseReply(value: unknown): ReplyMessage {
  const m = record(value, 'reply');
  const ids = wireIds(m.ids, MAX_REPLIES, 'reply.ids');
  const values = denseArray(m.values, ids.length, 'reply.values');
  if (values.length !== ids.length) throw new ProtocolError('reply.values must match reply.ids');
  const failed = wireIds(m.failed, ids.length, 'reply.failed');
  return { ids, values, failed };
}

export function parseDeliver(value: unknown): DeliverMessage {
  const m = record(value, 'deliver');
  return {
    q: queueName(m.q),
    base: wireId(m.base, 'deliver.base'),
    items: denseArray(m.items, MAX_ITEMS, 'deliver.items'),
  };
}

export function parseEnd(value: unknown): EndMessage {
  const m = record(value, 'end');
  return { q: queueName(m.q), error: m.error };
}

/** The welcome a client gets: the protocol version and the prefetch the pool allows. */
export function parseClientWelcome(value: unknown): { version: number; maxPrefetch: number } {
  const m = record(value, 'welcome');
  const version = Number.isSafeInteger(m.version) ? (m.version as number) : 1;
  const maxPrefetch = Number.isSafeInteger(m.maxPrefetch) && (m.maxPrefetch as number) > 0 ? (m.maxPrefetch as number) : 1;
  return { version, maxPrefetch };
}
