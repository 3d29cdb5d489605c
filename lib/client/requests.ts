import { ClientClosedError, deserializeError, PeerLostError } from '../errors.js';
import { Deque } from '../scheduler/deque.js';
import type { Connection } from '../transport/connection.js';
import type { WaitOptions } from '../queues/options.js';
import { CLIENT_ACTOR, CLIENT_CANCEL, CLIENT_PUT, CLIENT_RUN, CLIENT_SIZE, MAX_ITEMS, type ReplyMessage } from '../queues/protocol.js';
import { watchWait } from '../queues/wait.js';
import { atTurnEnd } from '../timers.js';

/** The message that carries a call other than a put. */
function message(id: number, call: Exclude<Call, { kind: 'put' }>): [number, unknown] {
  switch (call.kind) {
    case 'run':
      return [CLIENT_RUN, { id, name: call.name, args: call.args, timeout: call.timeout }];
    case 'actor':
      return [CLIENT_ACTOR, { id, actor: call.actor, method: call.method, args: call.args, tell: false, chain: [], timeout: call.timeout }];
    case 'size':
      return [CLIENT_SIZE, { id, q: call.q }];
  }
}

/** Most calls (puts, runs, actor calls, sizes) sent and unanswered: below what a pool accepts from one client. */
const WINDOW = 8_192;

type Call =
  | { kind: 'put'; q: string; item: unknown }
  | { kind: 'run'; name: string; args: unknown[]; timeout: number | undefined }
  | { kind: 'actor'; actor: string; method: string; args: unknown[]; timeout: number | undefined }
  | { kind: 'size'; q: string };

interface Request {
  call: Call;
  resolve(value: unknown): void;
  reject(error: Error): void;
  id: number;
  /** Why the caller gave up, once it has: the answer decides whether that is what it gets. */
  gaveUp: Error | undefined;
  stop(): void;
}

/**
 * A hub's calls to its pool: sent in order, many at once (puts of one turn to one queue
 * travel as one message), each answered once. A call still unsent waits for a connection;
 * a call sent on a connection that drops rejects with ERR_TROUPE_PEER_LOST and is never
 * sent again, so nothing lands or runs twice because of the client.
 */
export class Requests {
  readonly #line = new Deque<Request>();
  readonly #sent = new Map<number, Request>();
  #connection: Connection | undefined;
  #nextId = 0;
  #flushScheduled = false;
  #closed = false;
  #idle: (() => void) | undefined;

  call<T>(call: Call, wait: WaitOptions, what: string): Promise<T> {
    if (this.#closed) return Promise.reject(new ClientClosedError());
    return new Promise<T>((resolve, reject) => {
      const request: Request = { call, resolve: resolve as (value: unknown) => void, reject, id: -1, gaveUp: undefined, stop: () => {} };
      request.stop = watchWait(what, wait, (error) => this.#giveUp(request, error));
      this.#line.push(request);
      this.#schedule();
    });
  }

  /** Sends what waited for a connection. */
  attach(connection: Connection): void {
    this.#connection = connection;
    this.#schedule();
  }

  /** The connection dropped: whatever was sent on it fails, and is not sent again. */
  detach(error: Error | undefined): void {
    this.#connection = undefined;
    const lost = new PeerLostError('the connection to the pool was lost before the answer came; the call may have taken effect', error);
    const sent = [...this.#sent.values()];
    this.#sent.clear();
    for (const request of sent) this.#settle(request, lost);
  }

  answered(reply: ReplyMessage): void {
    const failed = new Set(reply.failed);
    for (let i = 0; i < reply.ids.length; i++) {
      const request = this.#sent.get(reply.ids[i]);
      if (!request) continue;
      this.#sent.delete(request.id);
      if (!failed.has(i)) this.#settle(request, undefined, reply.values[i]);
      // A put withdrawn at our request fails with the reason the caller gave up.
      else this.#settle(request, request.gaveUp ?? deserializeError(reply.values[i]));
    }
    this.#schedule();
  }

  /** Refuses what is not sent yet; resolves once what was sent is answered (or lost). */
  close(): Promise<void> {
    this.#closed = true;
    for (let r = this.#line.shift(); r; r = this.#line.shift()) this.#settle(r, new ClientClosedError());
    if (this.#sent.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#idle = resolve));
  }

  #settle(request: Request, error: Error | undefined, value?: unknown): void {
    request.stop();
    if (error) request.reject(error);
    else request.resolve(value);
    if (this.#sent.size === 0) this.#idle?.();
  }

  #giveUp(request: Request, error: Error): void {
    if (request.id < 0) {
      // Not sent: it never will be.
      request.id = -2;
      return this.#settle(request, error);
    }
    if (!this.#sent.has(request.id) || request.gaveUp) return;
    request.gaveUp = error;
    // The pool withdraws a waiting put or cancels a run; the answer says whether it was in time.
    try {
      this.#connection?.send(CLIENT_CANCEL, { id: request.id });
    } catch {
      // Closing: the call fails as lost when the connection is gone.
    }
  }

  #schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    atTurnEnd(this.#flush);
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const connection = this.#connection;
    if (!connection || connection.closed) return;
    let puts: Request[] = [];
    while (this.#line.length > 0 && this.#sent.size + puts.length < WINDOW) {
      const request = this.#line.shift()!;
      if (request.id === -2) continue;
      const call = request.call;
      request.id = this.#nextId++;
      if (call.kind === 'put') {
        const first = puts[0]?.call;
        if (first && ((first as { q: string }).q !== call.q || puts.length >= MAX_ITEMS)) puts = this.#sendPuts(connection, puts);
        puts.push(request);
        continue;
      }
      puts = this.#sendPuts(connection, puts);
      this.#send(connection, request, message(request.id, call));
    }
    this.#sendPuts(connection, puts);
  };

  /** Puts with consecutive ids to one queue, as one message; returns a fresh batch. */
  #sendPuts(connection: Connection, puts: Request[]): Request[] {
    if (puts.length === 0) return puts;
    const q = (puts[0].call as { q: string }).q;
    const items = puts.map((r) => (r.call as { item: unknown }).item);
    try {
      connection.send(CLIENT_PUT, { q, base: puts[0].id, items });
      for (const r of puts) this.#sent.set(r.id, r);
    } catch {
      // One item that cannot travel (or too large a batch): each goes alone, so that only it fails.
      for (const r of puts) this.#send(connection, r, [CLIENT_PUT, { q, base: r.id, items: [(r.call as { item: unknown }).item] }]);
    }
    return [];
  }

  #send(connection: Connection, request: Request, [type, message]: [number, unknown]): void {
    try {
      connection.send(type, message);
      this.#sent.set(request.id, request);
    } catch (error) {
      this.#settle(request, error as Error);
    }
  }
}
