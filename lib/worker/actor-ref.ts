/**
 * `actor(name)` for code running in a worker: reaches an actor of the worker's pool by
 * name, through the scheduler, wherever either side lives. The port it uses is installed
 * on globalThis by the worker runtime (the task module may import `troupe/worker` from
 * another copy of the package than the one the runtime runs from).
 */
const KEY = Symbol.for('troupe.worker.calls');

export interface CallPort {
  /**
   * Sends a call and resolves with its reply; for a tell, sends it and resolves undefined.
   * `kind` 1 (TO_QUEUE of calls.ts): `target` is a queue, and the pool alone bounds the wait.
   */
  send(target: string, method: string, args: readonly unknown[], tell: boolean, timeout: number, kind?: number): Promise<unknown>;
}

export function installCallPort(port: CallPort): void {
  (globalThis as { [KEY]?: CallPort })[KEY] = port;
}

export function callPort(): CallPort {
  const port = (globalThis as { [KEY]?: CallPort })[KEY];
  if (port === undefined) throw new Error('actor() and queue() work only in code that a Troupe worker runs');
  return port;
}

export interface WorkerActorRef {
  readonly name: string;
  /** Calls `method` with `args` and resolves with what it returns; `timeout` in ms stops the wait. */
  call<R = unknown>(method: string, args?: readonly unknown[], options?: { timeout?: number }): Promise<R>;
  /** Sends without waiting; a failure is emitted by the pool as 'actorError'. */
  tell(method: string, args?: readonly unknown[]): void;
}

function checkCall(method: unknown, args: unknown): void {
  if (typeof method !== 'string') throw new TypeError('actor call: method must be a string');
  if (!Array.isArray(args)) throw new TypeError('actor call: args must be an array');
}

export function actor(name: string): WorkerActorRef {
  if (typeof name !== 'string') throw new TypeError('actor(): name must be a string');
  return {
    name,
    call<R>(method: string, args: readonly unknown[] = [], options?: { timeout?: number }): Promise<R> {
      try {
        checkCall(method, args);
        const timeout = options?.timeout ?? Infinity;
        if (typeof timeout !== 'number' || !(timeout > 0)) throw new TypeError('actor call: options.timeout must be ms > 0');
        return callPort().send(name, method, args, false, timeout) as Promise<R>;
      } catch (error) {
        return Promise.reject(error);
      }
    },
    tell(method: string, args: readonly unknown[] = []): void {
      checkCall(method, args);
      void callPort().send(name, method, args, true, Infinity);
    },
  };
}
