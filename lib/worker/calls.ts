/**
 * Calls that code running in a worker makes to an actor of its pool (`actor(name).call()`
 * from `troupe/worker`) or to one of its named queues (`queue(name)`), and their replies.
 * They go up to the scheduler on the worker's own channel (a thread's port, a process's
 * pipe, an agent's connection), which routes them to the actor wherever it lives, or to the
 * queue. Every boundary parses them here.
 */
import { DataCloneError, ProtocolError, serializeError } from '../errors.js';
import { MAX_ARGS, MAX_CHAIN } from './batch.js';
import { denseArray, isRecord, taskName, wireId, wireIds } from './parse.js';

/** A call to an actor (`actor(name)` of troupe/worker). */
export const TO_ACTOR = 0;
/** A call to a named queue of the pool (`queue(name)` of troupe/worker): `actor` names the queue, `method` the operation. */
export const TO_QUEUE = 1;

export interface ActorCall {
  /** TO_ACTOR (the default) or TO_QUEUE. */
  readonly kind?: number;
  /** The caller's number for the call; its reply carries it back. Unused for a tell. */
  readonly id: number;
  /** The target actor's name. */
  readonly actor: string;
  readonly method: string;
  readonly args: readonly unknown[];
  /** No reply is wanted; a failure is reported by the pool as 'actorError'. */
  readonly tell: boolean;
  /** The actors whose calls wait on this one, outermost first. */
  readonly chain: readonly number[];
  /** ms the caller waits for the reply; Infinity for no limit. */
  readonly timeout: number;
}

export interface CallReply {
  readonly id: number;
  readonly ok: boolean;
  /** The method's return value, or a SerializedError. */
  readonly value: unknown;
}

export function parseActorCall(value: unknown): ActorCall {
  if (!isRecord(value)) throw new ProtocolError('an actor call must be an object');
  const timeout = value.timeout ?? Infinity;
  if (typeof timeout !== 'number' || !(timeout > 0)) throw new ProtocolError('call.timeout must be ms > 0');
  if (typeof value.tell !== 'boolean') throw new ProtocolError('call.tell must be a boolean');
  const kind = value.kind ?? TO_ACTOR;
  if (kind !== TO_ACTOR && kind !== TO_QUEUE) throw new ProtocolError('call.kind must be TO_ACTOR or TO_QUEUE');
  return {
    kind,
    id: wireId(value.id, 'call.id'),
    actor: taskName(value.actor),
    method: taskName(value.method),
    args: denseArray(value.args, MAX_ARGS, 'call.args'),
    tell: value.tell,
    chain: wireIds(value.chain, MAX_CHAIN, 'call.chain'),
    timeout,
  };
}

export function parseCallReply(value: unknown): CallReply {
  if (!isRecord(value) || typeof value.ok !== 'boolean') throw new ProtocolError('a call reply must be { id, ok, value }');
  return { id: wireId(value.id, 'reply.id'), ok: value.ok, value: value.value };
}

/** The same reply as a failure, for a value the channel could not carry. */
export function uncloneable(reply: CallReply, error: unknown): CallReply {
  const why = new DataCloneError(`an actor's return value could not be carried: ${(error as Error).message}`);
  return { id: reply.id, ok: false, value: serializeError(why) };
}
