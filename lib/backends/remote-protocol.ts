/**
 * Messages between a scheduler and a remote agent, carried by the authenticated
 * transport. They name tasks and carry values; nothing in them is ever executed.
 */
import type { SerializedError } from '../errors.js';

/** Agent → scheduler, first message after the handshake. */
export const AGENT_HELLO = 16;
/** Scheduler → agent: `{ b: [id, name, args, …] }`. */
export const AGENT_RUN = 17;
/** Agent → scheduler: `{ r: [id, status, value, …], busy }`. */
export const AGENT_RESULTS = 18;
/** Scheduler → agent: wire ids whose tasks must stop. */
export const AGENT_CANCEL = 19;
/** Agent → scheduler: `{ ids, reason, error }`: tasks its workers could not run to the end. */
export const AGENT_LOST = 20;
/** Scheduler → agent, in answer to a hello it accepts: `{}`. Nothing else comes before it. */
export const AGENT_WELCOME = 21;
/** Scheduler → agent, in answer to a hello it refuses: `{ reason }`; the connection then closes. */
export const AGENT_REFUSED = 22;
/** Agent → scheduler, when it stops on purpose: `{}`; its connection then closes, a clean leave. */
export const AGENT_BYE = 23;

export interface AgentRun {
  b: unknown[];
}

export interface AgentLost {
  ids: number[];
  reason: 'died' | 'stopped' | 'isolate';
  error: SerializedError;
}

export const AGENT_PROTOCOL_VERSION = 1;

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
  mode: 'thread' | 'process';
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

const positiveInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= 1_000_000;

/** Checks a hello received from the wire; returns why it is unacceptable, or undefined. */
export function checkHello(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return 'hello is not an object';
  const h = value as Partial<AgentHello>;
  if (h.version !== AGENT_PROTOCOL_VERSION) return `unsupported agent protocol version ${String(h.version)}`;
  if (typeof h.agentId !== 'string' || h.agentId.length > 200) return 'hello.agentId must be a short string';
  if (typeof h.hostname !== 'string' || h.hostname.length > 255) return 'hello.hostname must be a short string';
  if (!positiveInteger(h.pid)) return 'hello.pid must be a positive integer';
  if (!isStringArray(h.names) || h.names.length > 100_000) return 'hello.names must be an array of strings';
  if (!positiveInteger(h.parallelism)) return 'hello.parallelism must be a positive integer';
  if (!positiveInteger(h.capacity)) return 'hello.capacity must be a positive integer';
  if (h.mode !== 'thread' && h.mode !== 'process') return 'hello.mode must be "thread" or "process"';
  return undefined;
}
