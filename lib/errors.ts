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
  constructor(name: string, isClass = false) {
    super(
      'ERR_TROUPE_UNKNOWN_TASK',
      isClass ? `"${name}" is a class: spawn it as an actor (pool.spawn)` : `no worker exports a task named "${name}"`,
    );
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
  /**
   * How long this process's own event loop had stalled (by at least one heartbeat interval)
   * within a heartbeat timeout before the loss; 0 if it had not.
   */
  readonly ownStallMs: number;
  /**
   * The loss came right after a stall of our own: the peer may be fine and have dropped us
   * because it heard nothing from us. Not evidence that the peer or its work failed.
   */
  readonly afterOwnStall: boolean;

  constructor(message: string, cause?: unknown, ownStallMs = 0) {
    const stalled = ownStallMs > 0;
    super(
      'ERR_TROUPE_PEER_LOST',
      stalled ? `${message} (right after this process itself stalled for ${Math.round(ownStallMs)} ms)` : message,
      { cause },
    );
    this.ownStallMs = ownStallMs;
    this.afterOwnStall = stalled;
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

/**
 * The task's worker hit its `resourceLimits` (a thread's, or a process's heap limit) while
 * the task ran, and was replaced. The task is not run again: it would hit the limit again.
 */
export class ResourceLimitError extends TroupeError {
  constructor(message: string, cause?: unknown) {
    super('ERR_TROUPE_RESOURCE_LIMIT', message, { cause });
  }
}

/** Whether `error` (perhaps rebuilt from a peer's copy) says a worker hit its resource limits. */
export function isResourceLimit(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_TROUPE_RESOURCE_LIMIT';
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

/** No actor of this pool has the name (it was never spawned, or it stopped). */
export class ActorNotFoundError extends TroupeError {
  constructor(name: string) {
    super('ERR_TROUPE_ACTOR_NOT_FOUND', `no actor is named ${JSON.stringify(name.slice(0, 200))}`);
  }
}

/** `spawn()` named an actor with a name another live actor of the pool has. */
export class ActorNameTakenError extends TroupeError {
  constructor(name: string) {
    super('ERR_TROUPE_ACTOR_NAME_TAKEN', `an actor named ${JSON.stringify(name.slice(0, 200))} already exists`);
  }
}

/** The task module exports no class of that name (functions are tasks, classes are actors). */
export class UnknownActorClassError extends TroupeError {
  constructor(name: string) {
    super('ERR_TROUPE_ACTOR_CLASS', `the task module exports no class named ${JSON.stringify(name.slice(0, 200))}`);
  }
}

/**
 * The actor has no such method: only methods its class (and the classes it extends) define
 * may be called; `constructor`, `stop` and whatever every object inherits may not.
 */
export class ActorMethodError extends TroupeError {
  constructor(className: string, method: string) {
    super('ERR_TROUPE_ACTOR_METHOD', `${className} has no method ${JSON.stringify(method.slice(0, 200))} that may be called`);
  }
}

/** The actor's worker died while this message was pending: it is not run again (at most once). */
export class ActorLostError extends TroupeError {
  constructor(name: string, cause?: unknown) {
    super('ERR_TROUPE_ACTOR_LOST', `actor ${name} was lost with this message pending; it is not run again`, { cause });
  }
}

/** The actor was stopped, or failed past its restart limit: it takes no more messages. */
export class ActorStoppedError extends TroupeError {
  constructor(name: string, cause?: unknown) {
    super('ERR_TROUPE_ACTOR_STOPPED', `actor ${name} is stopped`, { cause });
  }
}

/** The actor's mailbox holds `mailbox` messages already. */
export class ActorMailboxFullError extends TroupeError {
  constructor(name: string, mailbox: number) {
    super('ERR_TROUPE_ACTOR_MAILBOX_FULL', `the mailbox of actor ${name} is full (mailbox: ${mailbox})`);
  }
}

/** A call would wait on itself: the target is already waiting, up the chain of calls that led here. */
export class ActorDeadlockError extends TroupeError {
  constructor(name: string) {
    super('ERR_TROUPE_ACTOR_DEADLOCK', `calling actor ${name} from here would wait on itself: it is up the chain of calls that led here`);
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
  ERR_TROUPE_ACTOR_NOT_FOUND: ActorNotFoundError,
  ERR_TROUPE_ACTOR_NAME_TAKEN: ActorNameTakenError,
  ERR_TROUPE_ACTOR_CLASS: UnknownActorClassError,
  ERR_TROUPE_ACTOR_METHOD: ActorMethodError,
  ERR_TROUPE_ACTOR_LOST: ActorLostError,
  ERR_TROUPE_ACTOR_STOPPED: ActorStoppedError,
  ERR_TROUPE_ACTOR_MAILBOX_FULL: ActorMailboxFullError,
  ERR_TROUPE_ACTOR_DEADLOCK: ActorDeadlockError,
};

const RESERVED = new Set(['name', 'message', 'stack', 'code', 'cause', 'errors']);

/**
 * How much of an error value is carried and rebuilt. An error is a graph: AggregateErrors
 * and causes may share members, and ten shared references per level over nine levels
 * describe 10^9 errors in under a kilobyte. So each distinct error object is visited once
 * (shared members stay shared, cycles stay cycles), and the walk stops at `depth` levels
 * and `errors` error objects in all. Past either limit the value is not rebuilt at all:
 * it becomes a plain `Error` saying so, with at most `messageChars` of the outer message.
 */
export const ERROR_LIMITS = Object.freeze({ depth: 8, errors: 1000, messageChars: 1024 });

class TooLarge extends Error {}

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
 * getter that throws, or a value that does not clone, only loses that part. A shared
 * member is serialized once and referenced again (node:v8 keeps the sharing); past
 * ERROR_LIMITS the rest is left out.
 */
export function serializeError(error: unknown): SerializedError {
  try {
    return new ErrorWriter().write(error, 0);
  } catch {
    return { name: 'Error', message: 'an error that could not be read was thrown' };
  }
}

class ErrorWriter {
  readonly #seen = new Map<Error, SerializedError>();
  /** Errors written so far, thrown non-errors included. */
  #count = 0;

  write(error: unknown, depth: number): SerializedError {
    const seen = error instanceof Error ? this.#seen.get(error) : undefined;
    if (seen) return seen;
    this.#count++;
    if (!(error instanceof Error)) {
      return {
        name: 'Error',
        message: typeof error === 'string' ? error : `non-error value thrown: ${String(error)}`,
        props: cloneable(error) ? { thrown: error } : undefined,
      };
    }
    const out: SerializedError = { name: String(error.name), message: String(error.message), stack: error.stack };
    this.#seen.set(error, out);
    const code = (error as { code?: unknown }).code;
    if (code !== undefined && cloneable(code)) out.code = code;
    const nested = depth < ERROR_LIMITS.depth;
    if ('cause' in error && nested && this.#count < ERROR_LIMITS.errors) {
      out.cause =
        error.cause instanceof Error
          ? this.#child(error.cause, depth)
          : { value: cloneable(error.cause) ? error.cause : String(error.cause) };
    }
    if (error instanceof AggregateError && nested && Array.isArray(error.errors)) {
      const errors: SerializedError[] = [];
      for (let i = 0; i < error.errors.length && this.#count < ERROR_LIMITS.errors; i++) {
        errors.push(this.#child(error.errors[i], depth));
      }
      out.errors = errors;
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

  #child(error: unknown, depth: number): SerializedError {
    try {
      return this.write(error, depth + 1);
    } catch {
      return { name: 'Error', message: 'an error that could not be read was thrown' };
    }
  }
}

/**
 * Rebuilds an error of the same class (for built-ins) with its stack, code, cause and
 * properties. `data` may come from a peer, so any shape is accepted, nothing in it can
 * reach a prototype, and the work is bounded by ERROR_LIMITS whatever the shape: a value
 * past them comes back as a plain Error that says so.
 */
export function deserializeError(data: unknown): Error {
  const stackTraceLimit = Error.stackTraceLimit;
  // The rebuilt errors get the sender's stack; capturing ours for each would be wasted work.
  Error.stackTraceLimit = 0;
  try {
    return new ErrorReader().read(data, 0);
  } catch (err) {
    if (!(err instanceof TooLarge)) throw err;
    const d = data as { message?: unknown };
    const message = typeof d.message === 'string' ? d.message.slice(0, ERROR_LIMITS.messageChars) : '';
    return new Error(
      `an error value too large to rebuild arrived from a worker or peer (over ${ERROR_LIMITS.errors} errors ` +
        `or ${ERROR_LIMITS.depth} levels deep); its message: ${message}`,
    );
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

class ErrorReader {
  readonly #built = new Map<object, Error>();
  /** Errors made so far, malformed ones included. */
  #count = 0;

  read(data: unknown, depth: number): Error {
    const built = data !== null && typeof data === 'object' ? this.#built.get(data) : undefined;
    if (built) return built;
    if (++this.#count > ERROR_LIMITS.errors) throw new TooLarge();
    if (data === null || typeof data !== 'object') return new Error('a malformed error arrived from a worker or peer');
    const d = data as Partial<Record<keyof SerializedError, unknown>>;
    const name = typeof d.name === 'string' ? d.name : 'Error';
    const message = typeof d.message === 'string' ? d.message : '';
    const builtin = Object.hasOwn(BUILTIN_ERRORS, name);
    const aggregate = Array.isArray(d.errors);
    const error: Error = aggregate ? new AggregateError([], message) : new (builtin ? BUILTIN_ERRORS[name] : Error)(message);
    // Registered before its members are read, so a cycle leads back here instead of round and round.
    this.#built.set(data, error);
    const define = (key: string, value: unknown, enumerable = false) =>
      Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable });
    if (!builtin && name !== 'AggregateError') define('name', name);
    define('stack', typeof d.stack === 'string' ? d.stack : `${name}: ${message}`);
    if (d.code !== undefined) define('code', d.code, true);
    if (typeof d.code === 'string' && Object.hasOwn(TROUPE_ERRORS, d.code) && name === TROUPE_ERRORS[d.code].name) {
      Object.setPrototypeOf(error, TROUPE_ERRORS[d.code].prototype);
    }
    const nested = d.cause !== null && typeof d.cause === 'object';
    if ((nested || aggregate) && depth >= ERROR_LIMITS.depth) throw new TooLarge();
    if (aggregate) define('errors', this.#readAll(d.errors as unknown[], depth + 1));
    if (nested) {
      const cause = d.cause as object;
      define('cause', !Array.isArray(cause) && Object.hasOwn(cause, 'value') ? (cause as { value: unknown }).value : this.read(cause, depth + 1));
    }
    if (d.props !== null && typeof d.props === 'object' && !Array.isArray(d.props)) {
      for (const [key, value] of Object.entries(d.props)) if (!RESERVED.has(key)) define(key, value, true);
    }
    return error;
  }

  /** Indexes only up to the budget: a sparse array may claim 2^32-1 members in a few bytes. */
  #readAll(list: unknown[], depth: number): Error[] {
    if (list.length > ERROR_LIMITS.errors - this.#count) throw new TooLarge();
    const out: Error[] = [];
    for (let i = 0; i < list.length; i++) out.push(this.read(list[i], depth));
    return out;
  }
}
