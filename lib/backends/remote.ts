import { deserializeError, PeerLostError, ProtocolError } from '../errors.js';
import type { Connection } from '../transport/connection.js';
import { AckDeadline } from './ack-deadline.js';
import { compactBatch, parseAnyResults } from '../worker/compact-forms.js';
import { parseActorCall, uncloneable } from '../worker/calls.js';
import {
  AGENT_ACK, AGENT_BYE, AGENT_CALL, AGENT_CANCEL, AGENT_DROP, AGENT_LOST, AGENT_REPLY, AGENT_RESULTS, AGENT_RUN, parseAck, parseLost,
  type AgentHello, type AgentMode,
} from './remote-protocol.js';
import type { Backend, BackendHost, Batch, CallReply, WorkerInfo } from './types.js';

/** What the pool tells its users about an agent. */
export interface AgentInfo {
  id: string;
  address: string;
  hostname: string;
  pid: number;
  mode: AgentMode;
  names: string[];
  parallelism: number;
  capacity: number;
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
  /** Dropped for sitting on work past its deadline: not its tasks' fault, no attempt charged. */
  #silent = false;
  readonly #deadline: AckDeadline;

  constructor(connection: Connection, hello: AgentHello, ackTimeoutMs: number) {
    this.#connection = connection;
    this.#deadline = new AckDeadline(ackTimeoutMs, () => {
      this.#silent = true;
      connection.destroy(new ProtocolError(`agent ${this.agent.id} acknowledged no batch within ${ackTimeoutMs} ms (ackTimeoutMs)`));
    });
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
      try {
        if (type === AGENT_RESULTS) this.#host?.results(this, parseAnyResults(value));
        else if (type === AGENT_ACK) this.#deadline.acked(parseAck(value));
        else if (type === AGENT_LOST) {
          const lost = parseLost(value);
          this.#host?.lost(this, lost.ids, lost.reason, deserializeError(lost.error));
        } else if (type === AGENT_CALL) this.#host?.call(this, parseActorCall(value));
        else if (type === AGENT_BYE) {
          // Stopping on purpose: its close is a clean leave.
          this.#stopping = true;
        } else throw new ProtocolError(`unexpected message type ${type}`);
      } catch (error) {
        // A peer that knows the key may still be broken: its connection goes, the pool stays.
        if (!(error instanceof ProtocolError)) throw error;
        connection.destroy(new ProtocolError(`agent ${this.agent.id} sent a malformed message: ${error.message}`));
      }
    });
    connection.on('drain', () => {
      this.#congested = false;
      this.#host?.writable(this);
    });
    this.closed = new Promise((resolve) => {
      connection.once('close', (error?: Error) => {
        this.#open = false;
        this.#deadline.stop();
        const lost = new PeerLostError(`agent ${this.agent.id} at ${this.agent.address} is gone`, error);
        // Dropped only because this process itself stalled: not its tasks' fault, no attempt charged.
        const ours = error instanceof PeerLostError && error.afterOwnStall;
        this.#host?.exited(this, this.#stopping || ours || this.#silent ? 'stopped' : 'died', lost);
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
    if (!this.#connection.send(AGENT_RUN, compactBatch(batch) ?? batch)) this.#congested = true;
    this.#deadline.sent(batch.base);
  }

  cancel(ids: readonly number[]): void {
    if (this.#open) this.#connection.send(AGENT_CANCEL, { ids: [...ids] });
  }

  drop(ids: readonly number[]): void {
    if (this.#open) this.#connection.send(AGENT_DROP, { ids: [...ids] });
  }

  reply(reply: CallReply): void {
    if (!this.#open) return;
    try {
      this.#connection.send(AGENT_REPLY, reply);
    } catch (error) {
      if (error instanceof PeerLostError) return;
      this.#connection.send(AGENT_REPLY, uncloneable(reply, error));
    }
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
