import { ActorNotFoundError, InvalidArgumentError } from '../errors.js';
import { describe } from '../options.js';
import { checkCallOptions } from './options.js';
import type { ActorRecord } from './record.js';
import type { ActorSystem } from './system.js';
import type { ActorInfo, CallOptions, SpawnOptions } from './types.js';

export function checkMessage(what: string, method: unknown, args: unknown): void {
  if (typeof method !== 'string') throw new InvalidArgumentError(`${what}: method must be a string; got ${describe(method)}`);
  if (!Array.isArray(args)) throw new InvalidArgumentError(`${what}: args must be an array; got ${describe(args)}`);
}

/**
 * A handle on an actor: from `spawn()` (that actor, across its restarts) or from
 * `pool.actor(name)` (whichever live actor has the name when a message is sent).
 */
export class ActorRef {
  readonly #system: ActorSystem;
  readonly #target: ActorRecord | string;

  constructor(system: ActorSystem, target: ActorRecord | string) {
    this.#system = system;
    this.#target = target;
  }

  get name(): string | undefined {
    return typeof this.#target === 'string' ? this.#target : this.#target.name;
  }

  #record(): ActorRecord {
    if (typeof this.#target !== 'string') return this.#target;
    const record = this.#system.byName(this.#target);
    if (record === undefined) throw new ActorNotFoundError(this.#target);
    return record;
  }

  /** Where it lives now, how often it restarted; undefined for a name no live actor has. */
  info(): ActorInfo | undefined {
    return typeof this.#target === 'string' ? this.#system.byName(this.#target)?.info() : this.#target.info();
  }

  /** Runs `method` with `args` in the actor, after the messages sent to it before; resolves with what it returns. */
  call<R = unknown>(method: string, args: readonly unknown[] = [], options?: CallOptions): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      checkMessage('call()', method, args);
      const { signal, timeout } = checkCallOptions(options);
      this.#system.send(this.#record(), method, args, { kind: 'promise', resolve: resolve as (v: unknown) => void, reject }, signal, timeout);
    });
  }

  /** Sends without waiting for the outcome; a failure is emitted by the pool as 'actorError'. */
  tell(method: string, args: readonly unknown[] = []): void {
    checkMessage('tell()', method, args);
    const record = typeof this.#target === 'string' ? this.#system.byName(this.#target) : this.#target;
    if (record !== undefined) this.#system.send(record, method, args, { kind: 'tell' });
    else this.#system.emit('actorError', { name: this.#target as string }, { method, error: new ActorNotFoundError(this.#target as string) });
  }

  /** Stops it once the messages sent before have run (its class's `stop()` hook, if any, is awaited). */
  stop(): Promise<void> {
    try {
      return this.#system.stop(this.#record());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

type AnyFunction = (...args: never[]) => unknown;

/** An actor's methods as functions that return promises, and its `ref` (a method named `ref` is reached through `ref.call`). */
export type TypedActor<C> = {
  readonly [K in keyof C as C[K] extends AnyFunction ? (K extends 'ref' ? never : K) : never]: C[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
} & { readonly ref: ActorRef };

/** `pool.actors<typeof import('./tasks.js')>()`: each exported class, to spawn typed actors of. */
export type ActorClasses<T> = {
  readonly [K in keyof T as T[K] extends abstract new (...args: never[]) => unknown ? K : never]: T[K] extends abstract new (
    ...args: infer A
  ) => infer I
    ? {
        spawn(args?: A, options?: SpawnOptions): Promise<TypedActor<I>>;
        /** The live actor of this class named `name`, typed. */
        named(name: string): TypedActor<I>;
      }
    : never;
};

export function typed<C>(ref: ActorRef): TypedActor<C> {
  const cache = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy({} as TypedActor<C>, {
    get: (_, key) => {
      // Not a thenable: `await t.Counter.spawn()` must not call a method named "then".
      if (typeof key !== 'string' || key === 'then') return undefined;
      if (key === 'ref') return ref;
      let fn = cache.get(key);
      if (!fn) cache.set(key, (fn = (...args: unknown[]) => ref.call(key, args)));
      return fn;
    },
  });
}
