import { deserializeError, PeerLostError, ProtocolError } from '../errors.js';
import type { Connection } from '../transport/connection.js';
import { AGENT_BYE, AGENT_CANCEL, AGENT_LOST, AGENT_RESULTS, AGENT_RUN, type AgentHello, type AgentLost, type AgentRun } from './remote-protocol.js';
import { ERR, OK, type Backend, type BackendHost, type Batch, type Results, type WorkerInfo } from './types.js';

/** What the pool tells its users about an agent. */
export interface AgentInfo {
  id: string;
  address: string;
  hostname: string;
  pid: number;
  mode: 'thread' | 'process';
  names: string[];
  parallelism: number;
  capacity: number;
}

/** Results from the wire: `{ r: [id, status, value, …], busy }` with integer ids and known statuses. */
function isResults(value: unknown): value is { r: Results; busy: number } {
  if (value === null || typeof value !== 'object') return false;
  const { r, busy } = value as { r?: unknown; busy?: unknown };
  if (!Array.isArray(r) || r.length % 3 !== 0 || typeof busy !== 'number' || !(busy >= 0)) return false;
  for (let i = 0; i < r.length; i += 3) {
    if (!Number.isSafeInteger(r[i])) return false;
    if (r[i + 1] !== OK && (r[i + 1] !== ERR || !isSerializedError(r[i + 2]))) return false;
  }
  return true;
}

const LOST_REASONS = new Set(['died', 'stopped', 'isolate']);

function isLost(value: unknown): value is AgentLost {
  if (value === null || typeof value !== 'object') return false;
  const { ids, reason, error } = value as Record<string, unknown>;
  return Array.isArray(ids) && ids.every(Number.isSafeInteger) && LOST_REASONS.has(reason as string) && isSerializedError(error);
}

function isSerializedError(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const { name, message, cause } = value as Record<string, unknown>;
  return typeof name === 'string' && typeof message === 'string' && (cause === undefined || (cause !== null && typeof cause === 'object'));
}

/**
 * An agent on another machine, lending its workers over an authenticated connection.
 * The scheduler treats it like any backend: its capacity is the credit the agent
 * announced, and a lost connection loses its in-flight tasks like a dead worker.
 */
export class RemoteBackend implements Backend {
  readonly kind = 'agent';
  readonly id: string;
  readonly names: ReadonlySet<string>;
  readonly parallelism: number;
  readonly capacity: number;
  readonly agent: AgentInfo;
  readonly closed: Promise<Error | undefined>;
  readonly #connection: Connection;
  #host: BackendHost | undefined;
  #open = true;
  #congested = false;
  #stopping = false;

  constructor(connection: Connection, hello: AgentHello) {
    this.#connection = connection;
    this.id = `agent-${hello.agentId}`;
    this.names = new Set(hello.names);
    this.parallelism = hello.parallelism;
    this.capacity = hello.capacity;
    this.agent = {
      id: hello.agentId,
      address: connection.remoteAddress,
      hostname: hello.hostname,
      pid: hello.pid,
      mode: hello.mode,
      names: hello.names,
      parallelism: hello.parallelism,
      capacity: hello.capacity,
    };
    connection.on('message', (type, value) => {
      if (type === AGENT_RESULTS && isResults(value)) this.#host?.results(this, value.r, value.busy);
      else if (type === AGENT_LOST && isLost(value)) this.#host?.lost(this, value.ids, value.reason, deserializeError(value.error));
      else if (type === AGENT_BYE) this.#stopping = true; // stopping on purpose: its close is a clean leave
      else connection.destroy(new ProtocolError(`agent ${this.agent.id} sent a malformed or unexpected message (type ${type})`));
    });
    connection.on('drain', () => {
      this.#congested = false;
      this.#host?.writable(this);
    });
    this.closed = new Promise((resolve) => {
      connection.once('close', (error?: Error) => {
        this.#open = false;
        const lost = new PeerLostError(`agent ${this.agent.id} at ${this.agent.address} is gone`, error);
        this.#host?.exited(this, this.#stopping ? 'stopped' : 'died', lost);
        resolve(this.#stopping ? undefined : lost);
      });
    });
  }

  get ready(): boolean {
    return this.#open && !this.#congested && !this.#stopping;
  }

  attach(host: BackendHost): void {
    this.#host = host;
  }

  dispatch(batch: Batch): void {
    if (!this.#connection.send(AGENT_RUN, { b: batch } satisfies AgentRun)) this.#congested = true;
  }

  cancel(ids: readonly number[]): void {
    if (this.#open) this.#connection.send(AGENT_CANCEL, [...ids]);
  }

  setBusy(): void {
    // The listening server keeps the process alive; nothing to ref per connection.
  }

  info(inFlight: number): WorkerInfo[] {
    const state = this.#stopping || !this.#open ? 'stopping' : inFlight > 0 ? 'busy' : 'idle';
    return [{ id: this.id, kind: 'agent', pid: this.agent.pid, state, inFlight }];
  }

  async close(): Promise<void> {
    this.#stopping = true;
    this.#connection.close();
    await this.closed;
  }

  async destroy(): Promise<void> {
    this.#stopping = true;
    this.#connection.destroy();
    await this.closed;
  }
}
