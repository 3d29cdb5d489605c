/**
 * Messages between a scheduler and a remote agent, carried by the authenticated
 * transport. They name tasks and carry values; nothing in them is ever executed. Every
 * message is parsed here, with limits, before anything uses it.
 */
import { ProtocolError } from '../errors.js';
import { MAX_DELAY_MS } from '../timers.js';
import { MAX_ENTRIES } from '../worker/batch.js';
import { isRecord, MAX_NAMES, taskNames, wireId, wireIds } from '../worker/parse.js';
import type { LostReason } from './types.js';

/** Agent or client → scheduler, first message after the handshake; `role` says which (an agent's may leave it out). */
export const AGENT_HELLO = 16;
/** Scheduler → agent: a Batch (worker/batch.ts), or one of its compact forms (worker/compact-forms.ts). */
export const AGENT_RUN = 17;
/** Agent → scheduler: Results (worker/batch.ts), or one of their compact forms. */
export const AGENT_RESULTS = 18;
/** Scheduler → agent: `{ ids }`, wire ids whose tasks must stop. */
export const AGENT_CANCEL = 19;
/** Agent → scheduler: `{ ids, reason, error }`: tasks its workers could not run to the end. */
export const AGENT_LOST = 20;
/** Scheduler → agent, in answer to a hello it accepts: `{ version, ackWithinMs }`. Nothing else comes before it. */
export const AGENT_WELCOME = 21;
/** Scheduler → agent, in answer to a hello it refuses: `{ reason }`; the connection then closes. */
export const AGENT_REFUSED = 22;
/** Agent → scheduler, when it stops on purpose: `{}`; its connection then closes, a clean leave. */
export const AGENT_BYE = 23;

/** Scheduler → agent: `{ ids }`, actor messages to forget if not started, and actors to end now (see Backend.drop). */
export const AGENT_DROP = 30;
/** Agent → scheduler: `{ upTo }`, every batch with a base up to this wire id has arrived (in the next results' frame, or after ackWithinMs). */
export const AGENT_ACK = 33;
/** Agent → scheduler: an ActorCall (worker/calls.ts) made by code running on the agent. */
export const AGENT_CALL = 31;
/** Scheduler → agent: the CallReply to such a call. */
export const AGENT_REPLY = 32;

/**
 * Version 7: a batch of calls of one task with one argument each, and results of only values
 * and times, travel in the compact forms of worker/compact-forms.ts (a lone number as text,
 * others as flat arrays). 6: small frames of JSON's own values go as JSON text
 * (transport/codec.ts), the batch format as in version 5 (worker/batch.ts format 5). Up to 5
 * it followed the batch format: 3 added batches for actors, 2 had tasks only, 1 flat arrays.
 */
export const AGENT_PROTOCOL_VERSION = 7;

/** Most workers one agent may announce: more would let one peer claim the whole pool. */
export const MAX_PARALLELISM = 4_096;
const MAX_CAPACITY = 1_000_000;


export interface AgentLost {
  ids: number[];
  reason: LostReason;
  error: unknown;
}

export interface AgentHello {
  version: number;
  /** Stable for the agent's lifetime, kept across reconnects. */
  agentId: string;
  hostname: string;
  pid: number;
  /** Task names its module exports. */
  names: string[];
  /** Worker threads or processes behind it. */
  parallelism: number;
  /** Most tasks it accepts in flight: the scheduler's credit for it. */
  capacity: number;
  mode: AgentMode;
}

/** Where an agent runs tasks: its worker threads or processes, or its own event loop ('inline'). */
export type AgentMode = 'thread' | 'process' | 'inline';

export function isAgentMode(value: unknown): value is AgentMode {
  return value === 'thread' || value === 'process' || value === 'inline';
}

/** A client (`connect()`): it runs no tasks and lends no workers. */
export interface ClientHello {
  version: number;
  /** Stable for the client's lifetime, kept across reconnects. */
  clientId: string;
  hostname: string;
  pid: number;
}

export type PeerHello = { role: 'agent'; hello: AgentHello } | { role: 'client'; hello: ClientHello };

const LOST_REASONS: readonly LostReason[] = ['died', 'stopped', 'isolate'];

export function parseLost(value: unknown): AgentLost {
  if (!isRecord(value)) throw new ProtocolError('a lost message must be an object');
  const reason = LOST_REASONS.find((r) => r === value.reason);
  if (reason === undefined) throw new ProtocolError('a lost message must give a known reason');
  return { ids: wireIds(value.ids, MAX_ENTRIES, 'lost.ids'), reason, error: value.error };
}

export function parseAck(value: unknown): number {
  if (!isRecord(value)) throw new ProtocolError('an ack must be { upTo }');
  return wireId(value.upTo, 'ack.upTo');
}

/** A CANCEL or a DROP: `{ ids }`. */
export function parseCancel(value: unknown): number[] {
  if (!isRecord(value)) throw new ProtocolError('a cancel or drop message must be { ids }');
  return wireIds(value.ids, MAX_ENTRIES, 'cancel.ids');
}

/**
 * How long an agent may hold the ack of a batch so that it rides in the frame of the batch's
 * results: a lone task's round trip is then one frame each way, not two back. Never more
 * than a tenth of the scheduler's ackTimeoutMs.
 */
export const ACK_HOLD_MS = 20;

export function ackWithinMs(ackTimeoutMs: number): number {
  return Math.min(ACK_HOLD_MS, Math.floor(ackTimeoutMs / 10));
}

export interface Welcome {
  version: number;
  /** How long the agent may hold an ack (ackWithinMs); 0 or absent: at the end of the turn it came in. */
  ackWithinMs: number;
}

/** A welcome; version 1 schedulers sent an empty one. */
export function parseWelcome(value: unknown): Welcome {
  if (!isRecord(value)) throw new ProtocolError('a welcome must be an object');
  const hold = value.ackWithinMs ?? 0;
  if (!Number.isSafeInteger(hold) || (hold as number) < 0 || (hold as number) > MAX_DELAY_MS) {
    throw new ProtocolError(`welcome.ackWithinMs must be an integer from 0 to ${MAX_DELAY_MS}`);
  }
  return { version: Number.isSafeInteger(value.version) ? (value.version as number) : 1, ackWithinMs: hold as number };
}

export function parseRefusal(value: unknown): string {
  const reason = isRecord(value) ? value.reason : undefined;
  return typeof reason === 'string' ? reason.slice(0, 1_000) : 'no reason given';
}

/** Says why two peers of different protocol versions cannot work together, naming both. */
export function versionMismatch(theirs: unknown, ours: number, them: 'agent' | 'client' | 'scheduler', me = 'agent'): string {
  const mine = them === 'scheduler' ? `this ${me}` : 'this scheduler';
  return `the ${them} speaks Troupe protocol version ${String(theirs).slice(0, 20)}; ${mine} speaks version ${ours}`;
}

const positiveInteger = (value: unknown, max: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= max;

/** Checks a hello from the wire and says which role the peer takes, or why it is unacceptable. */
export function parsePeerHello(value: unknown): PeerHello | string {
  if (!isRecord(value)) return 'hello is not an object';
  if (value.role === undefined || value.role === 'agent') {
    const hello = parseHello(value);
    return typeof hello === 'string' ? hello : { role: 'agent', hello };
  }
  if (value.role !== 'client') return 'hello.role must be "agent" or "client"';
  if (value.version !== AGENT_PROTOCOL_VERSION) return versionMismatch(value.version, AGENT_PROTOCOL_VERSION, 'client');
  if (typeof value.clientId !== 'string' || value.clientId.length > 200) return 'hello.clientId must be a short string';
  if (typeof value.hostname !== 'string' || value.hostname.length > 255) return 'hello.hostname must be a short string';
  if (!positiveInteger(value.pid, 2 ** 31)) return 'hello.pid must be a positive integer';
  return { role: 'client', hello: { version: value.version, clientId: value.clientId, hostname: value.hostname, pid: value.pid } };
}

/** Checks an agent's hello received from the wire: the hello, or why it is unacceptable. */
export function parseHello(value: unknown): AgentHello | string {
  if (!isRecord(value)) return 'hello is not an object';
  const h = value;
  if (h.version !== AGENT_PROTOCOL_VERSION) return versionMismatch(h.version, AGENT_PROTOCOL_VERSION, 'agent');
  if (typeof h.agentId !== 'string' || h.agentId.length > 200) return 'hello.agentId must be a short string';
  if (typeof h.hostname !== 'string' || h.hostname.length > 255) return 'hello.hostname must be a short string';
  if (!positiveInteger(h.pid, 2 ** 31)) return 'hello.pid must be a positive integer';
  let names: string[];
  try {
    names = taskNames(h.names, 'hello.names');
  } catch {
    return `hello.names must be an array of at most ${MAX_NAMES} short strings`;
  }
  if (!positiveInteger(h.parallelism, MAX_PARALLELISM)) return `hello.parallelism must be an integer from 1 to ${MAX_PARALLELISM}`;
  if (!positiveInteger(h.capacity, MAX_CAPACITY)) return 'hello.capacity must be a positive integer';
  if (!isAgentMode(h.mode)) return 'hello.mode must be "thread", "process" or "inline"';
  return {
    version: h.version,
    agentId: h.agentId,
    hostname: h.hostname,
    pid: h.pid,
    names,
    parallelism: h.parallelism,
    capacity: h.capacity,
    mode: h.mode,
  };
}
