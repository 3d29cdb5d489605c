/**
 * The actors living in one worker. Each has a mailbox and runs one message at a time: a
 * method that returns a promise is awaited before the next message starts, while other
 * actors and tasks in the worker go on. Classes and methods are looked up in the worker's
 * own task module: a peer only names them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ActorMethodError, ActorStoppedError, serializeError, UnknownActorClassError } from '../errors.js';
import { entryArgs, entryCount, entryName, ERR, OK, SPAWN, STOP, type Batch } from './batch.js';
import type { ResultBuffer } from './result-buffer.js';
import { isThenable } from './values.js';

export type ActorClass = new (...args: unknown[]) => object;
type Method = (...args: unknown[]) => unknown;

/** The chain of actors whose calls wait on the code now running (see calls.ts). */
export const callChain = new AsyncLocalStorage<readonly number[]>();

const NO_CHAIN: readonly number[] = [];

interface Message {
  readonly id: number;
  readonly method: string;
  readonly args: readonly unknown[];
  readonly chain: readonly number[];
  readonly stop: boolean;
  dropped: boolean;
}

class Actor {
  busy = false;
  mailbox: Message[] = [];
  head = 0;
  constructor(
    /** The scheduler's id for it (what batches and chains name it by). */
    readonly id: number,
    /** The id its spawn entry arrived under here (an agent renumbers entries): it settles when the actor stops. */
    readonly spawnEntry: number,
    readonly className: string,
    readonly object: object,
    readonly methods: ReadonlyMap<string, Method>,
  ) {}
}

/**
 * The methods a peer may call: those the class and the classes it extends define, short of
 * Object.prototype, without `constructor` and the `stop` hook. A Map, so that no inherited
 * key (`__proto__`, `toString`, `hasOwnProperty`) can be reached by name.
 */
function methodsOf(cls: ActorClass): Map<string, Method> {
  const methods = new Map<string, Method>();
  for (let proto = cls.prototype as object | null; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor' || key === 'stop' || methods.has(key)) continue;
      const { value } = Object.getOwnPropertyDescriptor(proto, key)!;
      if (typeof value === 'function') methods.set(key, value as Method);
    }
  }
  return methods;
}

export class ActorHost {
  readonly #classes: ReadonlyMap<string, ActorClass>;
  readonly #methods = new Map<ActorClass, Map<string, Method>>();
  readonly #actors = new Map<number, Actor>();
  readonly #buffer: ResultBuffer;
  /** Actors whose method (or stop hook) awaits; an actor that is not busy has an empty mailbox. */
  #busy = 0;

  constructor(classes: ReadonlyMap<string, ActorClass>, buffer: ResultBuffer) {
    this.#classes = classes;
    this.#buffer = buffer;
  }

  /** Actors running an async method (their queued messages wait on it), counted as they change, not walked. */
  get pending(): number {
    return this.#busy;
  }

  #setBusy(actor: Actor, busy: boolean): void {
    if (actor.busy === busy) return;
    actor.busy = busy;
    this.#busy += busy ? 1 : -1;
  }

  deliver(batch: Batch): void {
    const id = batch.actor!;
    if (batch.op === SPAWN) return this.#spawn(id, batch.base, entryName(batch, 0), entryArgs(batch, 0));
    const actor = this.#actors.get(id);
    const count = entryCount(batch);
    for (let i = 0; i < count; i++) {
      const message: Message = {
        id: batch.base + i,
        method: entryName(batch, i),
        args: entryArgs(batch, i),
        chain: batch.chains?.[i] ?? NO_CHAIN,
        stop: batch.op === STOP,
        dropped: false,
      };
      if (actor === undefined) this.#buffer.push(message.id, ERR, serializeError(new ActorStoppedError(`#${id}`)));
      else actor.mailbox.push(message);
    }
    if (actor !== undefined) this.#pump(actor);
  }

  #spawn(id: number, entryId: number, className: string, args: readonly unknown[]): void {
    const cls = this.#classes.get(className);
    if (cls === undefined) return this.#buffer.push(entryId, ERR, serializeError(new UnknownActorClassError(className)));
    let methods = this.#methods.get(cls);
    if (methods === undefined) this.#methods.set(cls, (methods = methodsOf(cls)));
    try {
      this.#actors.set(id, new Actor(id, entryId, className, new cls(...args), methods));
      this.#buffer.started(entryId);
    } catch (error) {
      this.#buffer.push(entryId, ERR, serializeError(error));
    }
  }

  /** Forgets these messages if they have not started, and the actors whose spawn entries these are, at once. */
  drop(ids: readonly number[]): void {
    const wanted = new Set(ids);
    for (const actor of this.#actors.values()) {
      if (wanted.has(actor.spawnEntry)) {
        this.#actors.delete(actor.id);
        continue;
      }
      for (let i = actor.head; i < actor.mailbox.length; i++) if (wanted.has(actor.mailbox[i].id)) actor.mailbox[i].dropped = true;
    }
  }

  #pump(actor: Actor): void {
    const buffer = this.#buffer;
    while (!actor.busy && actor.head < actor.mailbox.length) {
      const message = actor.mailbox[actor.head++];
      if (actor.head === actor.mailbox.length) {
        actor.mailbox = [];
        actor.head = 0;
      }
      if (message.dropped) continue;
      if (message.stop) return void this.#stop(actor, message.id);
      const method = actor.methods.get(message.method);
      if (method === undefined) {
        buffer.push(message.id, ERR, serializeError(new ActorMethodError(actor.className, message.method)));
        continue;
      }
      let value: unknown;
      try {
        value = callChain.run([...message.chain, actor.id], () => method.apply(actor.object, message.args as unknown[]));
      } catch (error) {
        buffer.push(message.id, ERR, serializeError(error));
        continue;
      }
      if (!isThenable(value)) {
        buffer.push(message.id, OK, value);
        continue;
      }
      this.#setBusy(actor, true);
      value.then(
        (v) => this.#settled(actor, message.id, OK, v),
        (e) => this.#settled(actor, message.id, ERR, serializeError(e)),
      );
    }
  }

  #settled(actor: Actor, id: number, status: number, value: unknown): void {
    this.#setBusy(actor, false);
    this.#buffer.push(id, status, value);
    this.#buffer.flushSoon();
    if (this.#actors.get(actor.id) === actor) this.#pump(actor);
  }

  /** Runs the actor's `stop()` hook, if its class has one, then ends its life (its spawn entry settles). */
  async #stop(actor: Actor, id: number): Promise<void> {
    this.#setBusy(actor, true);
    let status = OK;
    let value: unknown;
    try {
      const hook = (actor.object as { stop?: unknown }).stop;
      if (typeof hook === 'function') await callChain.run([actor.id], () => hook.call(actor.object));
    } catch (error) {
      status = ERR;
      value = serializeError(error);
    }
    this.#setBusy(actor, false);
    if (this.#actors.get(actor.id) !== actor) return;
    this.#actors.delete(actor.id);
    this.#buffer.push(id, status, value);
    this.#buffer.push(actor.spawnEntry, OK, undefined);
    this.#buffer.flushSoon();
  }
}
