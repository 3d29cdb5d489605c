import { AbortError, deserializeError, ProtocolError, serializeError, UnknownQueueError } from '../errors.js';
import { parseActorCall, type ActorCall, type CallReply } from '../worker/calls.js';
import { debug } from '../debug.js';
import type { Connection } from '../transport/connection.js';
import { AGENT_BYE, type ClientHello } from '../backends/remote-protocol.js';
import type { Held, PendingPut, QueueCore } from './core.js';
import { Subscription } from './subscription.js';
import {
  CLIENT_ACK, CLIENT_ACTOR, CLIENT_CANCEL, CLIENT_CREDIT, CLIENT_DELIVER, CLIENT_END, CLIENT_PUT, CLIENT_REPLY, CLIENT_RUN, CLIENT_SIZE,
  MAX_ITEMS, MAX_REPLIES, MAX_RUNS, MAX_WAITING_PUTS, parseAck, parseCancel, parseCredit, parsePut, parseRun,
  parseSize,
} from './protocol.js';
import type { RunOptions } from '../scheduler/types.js';

/** What the pool tells its users about a client. */
export interface ClientInfo {
  id: string;
  address: string;
  hostname: string;
  pid: number;
}

export interface SessionHost {
  find(name: string): QueueCore<unknown> | undefined;
  run(name: string, args: unknown[], options: RunOptions): Promise<unknown>;
  /** A call or tell to an actor of the pool; the outcome goes to `answer` (not for a tell). */
  actor(call: ActorCall, answer: (reply: CallReply) => void, signal: AbortSignal): void;
}

/**
 * The pool's side of one client connection: its puts, runs, and one subscription per
 * queue it consumes. Everything the client sent is parsed first; a malformed message
 * closes this connection only. When the connection goes, the items it held go back to the
 * front of their queues, its puts still waiting are withdrawn (so a put the client saw
 * fail never lands later), and its runs finish unheard.
 */
export class ClientSession {
  readonly info: ClientInfo;
  readonly closed: Promise<Error | undefined>;
  readonly #connection: Connection;
  readonly #host: SessionHost;
  readonly #subs = new Map<string, Subscription>();
  /** Items sent and not acknowledged, by delivery id; each knows its subscription (`holder`). */
  readonly #deliveries = new Map<number, Held<unknown>>();
  readonly #waitingPuts = new Map<number, { core: QueueCore<unknown>; pending: PendingPut<unknown> }>();
  readonly #runs = new Map<number, AbortController>();
  #nextDelivery = 0;
  /** Items handed to this client and not sent yet, by subscription. */
  readonly #unsent = new Map<Subscription, Held<unknown>[]>();
  /** Deliveries and replies leave together, once per turn of the event loop. */
  #flushSoon: NodeJS.Immediate | undefined;
  #replies: { ids: number[]; values: unknown[]; failed: number[] } = { ids: [], values: [], failed: [] };
  #bye = false;
  #idle: (() => void) | undefined;

  constructor(connection: Connection, hello: ClientHello, host: SessionHost) {
    this.#connection = connection;
    this.#host = host;
    this.info = { id: hello.clientId, address: connection.remoteAddress, hostname: hello.hostname, pid: hello.pid };
    connection.on('message', (type, value) => {
      try {
        this.#onMessage(type, value);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        connection.destroy(new ProtocolError(`client ${this.info.id} sent a malformed message: ${error.message}`));
      }
    });
    this.closed = new Promise((resolve) => {
      connection.once('close', (error?: Error) => {
        this.#release();
        this.#idle?.();
        resolve(this.#bye ? undefined : error);
      });
    });
  }

  #onMessage(type: number, value: unknown): void {
    switch (type) {
      case CLIENT_PUT:
        return this.#put(value);
      case CLIENT_RUN:
        return this.#run(value);
      case CLIENT_ACTOR:
        return this.#actor(parseActorCall(value));
      case CLIENT_CANCEL:
        return this.#cancel(parseCancel(value));
      case CLIENT_SIZE: {
        const { id, q } = parseSize(value);
        const core = this.#host.find(q);
        return core ? this.#reply(id, core.size) : this.#reply(id, new UnknownQueueError(q), true);
      }
      case CLIENT_CREDIT:
        return this.#credit(value);
      case CLIENT_ACK:
        return this.#ack(value);
      case AGENT_BYE:
        this.#bye = true;
        return;
      default:
        throw new ProtocolError(`unexpected message type ${type}`);
    }
  }

  #put(value: unknown): void {
    const { q, base, items } = parsePut(value);
    const core = this.#host.find(q);
    if (this.#waitingPuts.size + items.length > MAX_WAITING_PUTS) {
      throw new ProtocolError(`more than ${MAX_WAITING_PUTS} puts waiting for room`);
    }
    for (let i = 0; i < items.length; i++) {
      const id = base + i;
      if (!core) {
        this.#reply(id, new UnknownQueueError(q), true);
        continue;
      }
      if (this.#waitingPuts.has(id)) throw new ProtocolError(`put id ${id} is in use`);
      if (core.offer(items[i])) {
        this.#reply(id, undefined);
        continue;
      }
      const pending = core.put(items[i], (error) => {
        this.#waitingPuts.delete(id);
        if (error) this.#reply(id, error, true);
        else this.#reply(id, undefined);
      });
      if (pending) this.#waitingPuts.set(id, { core, pending });
    }
  }

  #run(value: unknown): void {
    const { id, name, args, timeout } = parseRun(value);
    if (this.#runs.has(id)) throw new ProtocolError(`run id ${id} is in use`);
    if (this.#runs.size >= MAX_RUNS) throw new ProtocolError(`more than ${MAX_RUNS} runs in flight`);
    const controller = new AbortController();
    this.#runs.set(id, controller);
    const done = () => {
      this.#runs.delete(id);
      this.#checkIdle();
    };
    this.#host.run(name, args, { signal: controller.signal, timeout }).then(
      (result) => {
        done();
        this.#reply(id, result);
      },
      (error) => {
        done();
        this.#reply(id, error, true);
      },
    );
  }

  /** A client's call to an actor: it counts among its runs (the same bound, cancel and close). */
  #actor(call: ActorCall): void {
    if (call.chain.length > 0) throw new ProtocolError('a client call to an actor carries no chain');
    if (call.tell) return this.#host.actor(call, () => {}, new AbortController().signal);
    const { id } = call;
    if (this.#runs.has(id)) throw new ProtocolError(`run id ${id} is in use`);
    if (this.#runs.size >= MAX_RUNS) throw new ProtocolError(`more than ${MAX_RUNS} runs in flight`);
    const controller = new AbortController();
    this.#runs.set(id, controller);
    this.#host.actor(call, (reply) => {
      this.#runs.delete(id);
      this.#checkIdle();
      if (reply.ok) this.#reply(id, reply.value);
      else this.#reply(id, deserializeError(reply.value), true);
    }, controller.signal);
  }

  #cancel(id: number): void {
    const put = this.#waitingPuts.get(id);
    if (put) put.core.cancel(put.pending, new AbortError(undefined, 'the put was withdrawn'));
    this.#runs.get(id)?.abort();
  }

  #credit(value: unknown): void {
    const { q, window } = parseCredit(value);
    let sub = this.#subs.get(q);
    if (!sub) {
      const core = this.#host.find(q);
      if (!core) return this.#send(CLIENT_END, { q, error: serializeError(new UnknownQueueError(q)) });
      sub = new Subscription(this, core);
      this.#subs.set(q, sub);
    }
    sub.window = window;
    sub.attach();
  }

  #ack(value: unknown): void {
    const { ids, requeue } = parseAck(value);
    // Every id is checked before any is taken: an ack refused halfway (it closes the session)
    // would leave the items before its bad id neither held nor given back, lost to the queue.
    const named = new Set<number>();
    for (const id of ids) {
      if (!this.#deliveries.has(id) || named.has(id)) throw new ProtocolError(`ack of item ${id}, which this client does not hold`);
      named.add(id);
    }
    const back = new Map<Subscription, Held<unknown>[]>();
    for (const id of ids) {
      const held = this.#deliveries.get(id)!;
      this.#deliveries.delete(id);
      const sub = held.holder as Subscription;
      sub.held--;
      const list = back.get(sub);
      if (list) list.push(held);
      else back.set(sub, [held]);
    }
    // The acknowledged items make room in the client's window: the queue serves it again.
    for (const [sub, items] of back) {
      if (requeue) sub.core.requeue(items);
      else {
        sub.core.ack(items.length);
        sub.core.wake();
      }
    }
    this.#checkIdle();
  }

  /**
   * Items handed to this client. They leave together at the end of the turn: a pool
   * that puts one item per microtask would otherwise send one frame per item.
   */
  deliver(sub: Subscription, items: Held<unknown>[]): void {
    const unsent = this.#unsent.get(sub);
    if (unsent) unsent.push(...items);
    else this.#unsent.set(sub, items);
    this.#flushSoon ??= setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    this.#flushSoon = undefined;
    this.#sendDeliveries();
    this.#flushReplies();
  };

  #sendDeliveries(): void {
    for (const [sub, items] of this.#unsent) {
      for (let start = 0; start < items.length; start += MAX_ITEMS) {
        const chunk = items.slice(start, start + MAX_ITEMS);
        const base = this.#nextDelivery;
        this.#nextDelivery += chunk.length;
        for (let i = 0; i < chunk.length; i++) {
          chunk[i].holder = sub;
          this.#deliveries.set(base + i, chunk[i]);
        }
        this.#send(CLIENT_DELIVER, { q: sub.core.name, base, items: chunk.map((h) => h.value) });
      }
    }
    this.#unsent.clear();
  }

  ended(sub: Subscription, error: Error): void {
    this.#subs.delete(sub.core.name);
    // Whatever it was handed before goes first: the end comes after the last item.
    this.#sendDeliveries();
    this.#send(CLIENT_END, { q: sub.core.name, error: serializeError(error) });
  }

  #reply(id: number, value: unknown, failed = false): void {
    const r = this.#replies;
    if (failed) {
      r.failed.push(r.ids.length);
      value = serializeError(value);
    }
    r.ids.push(id);
    r.values.push(value);
    if (r.ids.length >= MAX_REPLIES) this.#flushReplies();
    else this.#flushSoon ??= setImmediate(this.#flush);
  }

  #flushReplies(): void {
    const r = this.#replies;
    if (r.ids.length === 0) return;
    this.#replies = { ids: [], values: [], failed: [] };
    this.#send(CLIENT_REPLY, r);
  }

  #send(type: number, value: unknown): void {
    if (this.#connection.closed) return;
    try {
      this.#connection.send(type, value);
    } catch (error) {
      // A value that cannot travel (or a frame too large) costs this client its connection, not the pool.
      debug('client %s: cannot send: %s', this.info.id, (error as Error).message);
      this.#connection.destroy(error as Error);
    }
  }

  /** Resolves once none of this client's runs is in flight and it holds no item (or it is gone). */
  settled(): Promise<void> {
    if (this.#quiet) return Promise.resolve();
    return new Promise((resolve) => (this.#idle = resolve));
  }

  get #quiet(): boolean {
    return (this.#runs.size === 0 && this.#deliveries.size === 0 && this.#unsent.size === 0) || this.#connection.closed;
  }

  #checkIdle(): void {
    if (this.#idle && this.#quiet) this.#idle();
  }

  /**
   * Sends what is queued and a goodbye, then closes the connection: the goodbye ends the
   * client's queue loops even where its request for items is still on its way.
   */
  async close(): Promise<void> {
    this.#flush();
    try {
      this.#connection.send(AGENT_BYE, {});
    } catch {
      // Already closing: the client sees it go either way.
    }
    await this.#connection.close();
    await this.closed;
  }

  destroy(): void {
    this.#connection.destroy();
  }

  /** The connection is gone: give back what it held, withdraw what it waited for. */
  #release(): void {
    for (const sub of this.#subs.values()) sub.core.removeConsumer(sub);
    this.#subs.clear();
    const back = new Map<QueueCore<unknown>, Held<unknown>[]>();
    clearImmediate(this.#flushSoon);
    for (const held of this.#deliveries.values()) {
      const sub = held.holder as Subscription;
      const list = back.get(sub.core);
      if (list) list.push(held);
      else back.set(sub.core, [held]);
    }
    for (const [sub, items] of this.#unsent) {
      const list = back.get(sub.core);
      if (list) list.push(...items);
      else back.set(sub.core, [...items]);
    }
    this.#deliveries.clear();
    this.#unsent.clear();
    for (const [core, items] of back) core.requeue(items);
    for (const { core, pending } of this.#waitingPuts.values()) core.cancel(pending, new AbortError(undefined, 'the client left'));
    this.#waitingPuts.clear();
  }
}
