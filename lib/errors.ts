import { serialize } from 'node:v8';

/**
 * Troupe's own errors, and the codec that carries any error across a thread,
 * process or network boundary without losing its shape.
 */

export class TroupeError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** A pool or agent option is missing, of the wrong type or out of range. */
export class InvalidOptionError extends TroupeError {
  constructor(message: string) {
    super('ERR_TROUPE_INVALID_OPTION', message);
  }
}

/** `run()` was called while `maxQueue` tasks were already waiting. */
export class QueueFullError extends TroupeError {
  constructor(maxQueue: number) {
    super('ERR_TROUPE_QUEUE_FULL', `the task queue is full (maxQueue: ${maxQueue})`);
  }
}

/** The task's AbortSignal fired before the task settled. */
export class AbortError extends TroupeError {
  constructor(cause?: unknown) {
    super('ERR_TROUPE_ABORTED', 'the task was aborted', { cause });
  }
}

/** The task did not settle within its timeout, counted from dispatch. */
export class TimeoutError extends TroupeError {
  constructor(ms: number) {
    super('ERR_TROUPE_TIMEOUT', `the task did not finish within ${ms} ms of dispatch`);
  }
}

/** Every attempt of a task ran on a worker, process or agent that died. */
export class WorkerLostError extends TroupeError {
  constructor(attempts: number, cause?: unknown) {
    super('ERR_TROUPE_WORKER_LOST', `the task's worker died on each of ${attempts} attempts`, { cause });
  }
}

/** `run()` after `close()` or `destroy()`. */
export class PoolClosedError extends TroupeError {
  constructor() {
    super('ERR_TROUPE_CLOSED', 'the pool is closed');
  }
}

/** The task was still pending when `destroy()` was called. */
export class PoolDestroyedError extends TroupeError {
  constructor() {
    super('ERR_TROUPE_DESTROYED', 'the pool was destroyed before the task settled');
  }
}

/** No worker, process or agent exports a task of that name. */
export class UnknownTaskError extends TroupeError {
  constructor(name: string) {
    super('ERR_TROUPE_UNKNOWN_TASK', `no worker exports a task named "${name}"`);
  }
}

/** The task module could not be loaded, or a worker failed to start. */
export class WorkerStartError extends TroupeError {
  constructor(message: string, cause?: unknown) {
    super('ERR_TROUPE_WORKER_START', message, { cause });
  }
}

/** The peer's authkey did not match, or the handshake was malformed. */
export class AuthenticationError extends TroupeError {
  constructor(message = 'authentication failed') {
    super('ERR_TROUPE_AUTH', message);
  }
}

/** A peer broke the wire protocol: bad frame, bad version, unknown type, bad length. */
export class ProtocolError extends TroupeError {
  constructor(message: string, cause?: unknown) {
    super('ERR_TROUPE_PROTOCOL', message, { cause });
  }
}

/** The handshake did not complete within its deadline. */
export class HandshakeTimeoutError extends TroupeError {
  constructor(ms: number) {
    super('ERR_TROUPE_HANDSHAKE_TIMEOUT', `the handshake did not complete within ${ms} ms`);
  }
}

/** The peer stopped answering heartbeats or closed the connection. */
export class PeerLostError extends TroupeError {
  constructor(message: string, cause?: unknown) {
    super('ERR_TROUPE_PEER_LOST', message, { cause });
  }
}

/** The scheduler refused an authenticated agent's introduction (e.g. a protocol version it does not speak). */
export class AgentRefusedError extends TroupeError {
  constructor(reason: string) {
    super('ERR_TROUPE_AGENT_REFUSED', `the scheduler refused this agent: ${reason}`);
  }
}

/** A frame, received or about to be sent, is larger than `maxFrameBytes` allows. */
export class FrameTooLargeError extends TroupeError {
  constructor(bytes: number, maxFrameBytes: number) {
    super('ERR_TROUPE_FRAME_TOO_LARGE', `a frame of ${bytes} bytes exceeds maxFrameBytes (${maxFrameBytes})`);
  }
}

/** A method was called with an argument of the wrong type or out of range. */
export class InvalidArgumentError extends TroupeError {
  constructor(message: string) {
    super('ERR_TROUPE_INVALID_ARGUMENT', message);
  }
}

/**
 * A value could not be copied to or from a worker (a function, a symbol, a class instance
 * with private state): only the task it belongs to fails.
 */
export class DataCloneError extends TroupeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TROUPE_DATA_CLONE', message, options);
  }
}

/** An error as it travels between threads, processes and machines. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: unknown;
  cause?: SerializedError | { value: unknown };
  errors?: SerializedError[];
  props?: Record<string, unknown>;
}

const BUILTIN_ERRORS: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

/** Troupe's errors by code, so one made in a worker or on an agent comes back as its class. */
const TROUPE_ERRORS: Record<string, abstract new (...args: never[]) => TroupeError> = {
  ERR_TROUPE_INVALID_OPTION: InvalidOptionError,
  ERR_TROUPE_INVALID_ARGUMENT: InvalidArgumentError,
  ERR_TROUPE_QUEUE_FULL: QueueFullError,
  ERR_TROUPE_ABORTED: AbortError,
  ERR_TROUPE_TIMEOUT: TimeoutError,
  ERR_TROUPE_WORKER_LOST: WorkerLostError,
  ERR_TROUPE_CLOSED: PoolClosedError,
  ERR_TROUPE_DESTROYED: PoolDestroyedError,
  ERR_TROUPE_UNKNOWN_TASK: UnknownTaskError,
  ERR_TROUPE_WORKER_START: WorkerStartError,
  ERR_TROUPE_AUTH: AuthenticationError,
  ERR_TROUPE_PROTOCOL: ProtocolError,
  ERR_TROUPE_HANDSHAKE_TIMEOUT: HandshakeTimeoutError,
  ERR_TROUPE_PEER_LOST: PeerLostError,
  ERR_TROUPE_AGENT_REFUSED: AgentRefusedError,
  ERR_TROUPE_FRAME_TOO_LARGE: FrameTooLargeError,
  ERR_TROUPE_DATA_CLONE: DataCloneError,
};

const RESERVED = new Set(['name', 'message', 'stack', 'code', 'cause', 'errors']);
const MAX_DEPTH = 8;

/** Whether `node:v8` (what every channel uses) can carry the value. */
export function cloneable(value: unknown): boolean {
  try {
    serialize(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Turns any thrown value into plain data that every channel carries. Never throws: a
 * getter that throws, or a value that does not clone, only loses that part.
 */
export function serializeError(error: unknown, depth = 0): SerializedError {
  try {
    return serializeErrorUnsafe(error, depth);
  } catch {
    return { name: 'Error', message: 'an error that could not be read was thrown' };
  }
}

function serializeErrorUnsafe(error: unknown, depth: number): SerializedError {
  if (!(error instanceof Error)) {
    return {
      name: 'Error',
      message: typeof error === 'string' ? error : `non-error value thrown: ${String(error)}`,
      props: cloneable(error) ? { thrown: error } : undefined,
    };
  }
  const out: SerializedError = { name: String(error.name), message: String(error.message), stack: error.stack };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined && cloneable(code)) out.code = code;
  if ('cause' in error && depth < MAX_DEPTH) {
    out.cause =
      error.cause instanceof Error
        ? serializeError(error.cause, depth + 1)
        : { value: cloneable(error.cause) ? error.cause : String(error.cause) };
  }
  if (error instanceof AggregateError && depth < MAX_DEPTH) {
    out.errors = error.errors.map((e) => serializeError(e, depth + 1));
  }
  for (const key of Object.keys(error)) {
    if (RESERVED.has(key)) continue;
    try {
      const value = (error as unknown as Record<string, unknown>)[key];
      if (cloneable(value)) (out.props ??= {})[key] = value;
    } catch {
      // A property whose getter throws is left out.
    }
  }
  return out;
}

/**
 * Rebuilds an error of the same class (for built-ins) with its stack, code, cause and
 * properties. `data` may come from a peer, so any shape is accepted and nothing in it can
 * reach a prototype.
 */
export function deserializeError(data: unknown, depth = 0): Error {
  if (data === null || typeof data !== 'object') return new Error('a malformed error arrived from a worker or peer');
  const d = data as Partial<Record<keyof SerializedError, unknown>>;
  const name = typeof d.name === 'string' ? d.name : 'Error';
  const message = typeof d.message === 'string' ? d.message : '';
  const builtin = Object.hasOwn(BUILTIN_ERRORS, name);
  const nested = depth < MAX_DEPTH;
  const error: Error =
    Array.isArray(d.errors) && nested
      ? new AggregateError(d.errors.map((e) => deserializeError(e, depth + 1)), message)
      : new (builtin ? BUILTIN_ERRORS[name] : Error)(message);
  const define = (key: string, value: unknown, enumerable = false) =>
    Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable });
  if (!builtin && name !== 'AggregateError') define('name', name);
  if (typeof d.stack === 'string') define('stack', d.stack);
  if (d.code !== undefined) define('code', d.code, true);
  if (typeof d.code === 'string' && Object.hasOwn(TROUPE_ERRORS, d.code) && name === TROUPE_ERRORS[d.code].name) {
    Object.setPrototypeOf(error, TROUPE_ERRORS[d.code].prototype);
  }
  if (d.cause !== null && typeof d.cause === 'object' && nested) {
    define('cause', 'value' in d.cause ? (d.cause as { value: unknown }).value : deserializeError(d.cause, depth + 1));
  }
  if (d.props !== null && typeof d.props === 'object') {
    for (const [key, value] of Object.entries(d.props)) if (!RESERVED.has(key)) define(key, value, true);
  }
  return error;
}
