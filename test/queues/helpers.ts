/**
 * Shared by the queues suite: a pool that listens on 127.0.0.1, and clients in processes
 * of their own (test/fixtures/queue-client.js) driven over their stdin, one command a
 * line, with every wait bounded. Scope (test/remote/helpers.ts) stops them all at the end.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { ClientInfo, Pool } from '../../lib/index.js';
import { fixture, HOST, newKey, ROOT, Scope, TASKS, waitFor, within } from '../remote/helpers.js';

export { HOST, Scope, TASKS, waitFor, within };

export interface Answer {
  ok: boolean;
  value?: unknown;
  error?: { code?: string; name: string; message: string };
}

export interface ClientLog {
  joins: ClientInfo[];
  leaves: { client: ClientInfo; error?: Error }[];
}

export function recordClients(pool: Pool): ClientLog {
  const log: ClientLog = { joins: [], leaves: [] };
  pool.on('clientJoin', (client) => log.joins.push(client));
  pool.on('clientLeave', (client, error) => log.leaves.push({ client, error }));
  return log;
}

/** A pool with `size` thread workers (0: none) listening on 127.0.0.1 under a fresh key. */
export async function listeningPool(scope: Scope, options: { size?: number; maxQueues?: number; port?: number } = {}, key = newKey()) {
  const { pool } = await scope.pool({
    tasks: TASKS,
    mode: 'thread',
    size: options.size ?? 0,
    maxQueues: options.maxQueues,
    listen: { host: HOST, port: options.port ?? 0, authkey: key, heartbeatIntervalMs: 200, heartbeatTimeoutMs: 1_000 },
  });
  return { pool, key, port: pool.address()!.port, clients: recordClients(pool) };
}

/** A client process, and what it said. */
export class Client {
  readonly process: ChildProcessWithoutNullStreams;
  readonly pid: number;
  readonly events: Record<string, unknown>[] = [];
  readonly exit: Promise<number | null>;
  stderr = '';
  #answers = new Map<number, Answer>();
  #nextId = 0;
  #buffer = '';

  constructor(port: number, key: Buffer, options: Record<string, unknown> = {}) {
    this.process = spawn(process.execPath, [fixture('queue-client.js'), JSON.stringify(options)], {
      cwd: ROOT,
      env: { ...process.env, TROUPE_TEST_ADDRESS: `${HOST}:${port}`, TROUPE_TEST_AUTHKEY: key.toString('hex') },
    });
    this.pid = this.process.pid!;
    this.process.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.#buffer += chunk;
      let newline;
      while ((newline = this.#buffer.indexOf('\n')) >= 0) {
        const message = JSON.parse(this.#buffer.slice(0, newline)) as Record<string, unknown>;
        this.#buffer = this.#buffer.slice(newline + 1);
        if (typeof message.id === 'number') this.#answers.set(message.id, message as unknown as Answer);
        else this.events.push(message);
      }
    });
    this.process.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exit = new Promise((resolve) => this.process.once('close', (code) => resolve(code)));
  }

  get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  /** Sends a command; `answer(id)` waits for its answer. */
  send(command: Record<string, unknown>): number {
    const id = this.#nextId++;
    this.process.stdin.write(`${JSON.stringify({ ...command, id })}\n`);
    return id;
  }

  async answer(id: number, ms = 10_000): Promise<Answer> {
    await waitFor(() => this.#answers.has(id) || this.exited, ms, `answer ${id} of client ${this.pid}`, () => this.describe());
    const answer = this.#answers.get(id);
    if (!answer) throw new Error(`client ${this.pid} exited before answering ${id}\n${this.describe()}`);
    return answer;
  }

  answered(id: number): boolean {
    return this.#answers.has(id);
  }

  /** Sends a command and waits for its answer. */
  call(command: Record<string, unknown>, ms = 10_000): Promise<Answer> {
    return this.answer(this.send(command), ms);
  }

  /** Waits for the `count`th event named `name`. */
  async event(name: string, count = 1, ms = 10_000): Promise<Record<string, unknown>> {
    const matching = () => this.events.filter((e) => e.event === name);
    await waitFor(() => matching().length >= count || this.exited, ms, `event "${name}" #${count} of client ${this.pid}`, () => this.describe());
    const found = matching()[count - 1];
    if (!found) throw new Error(`client ${this.pid} exited before "${name}" #${count}\n${this.describe()}`);
    return found;
  }

  took(): unknown[] {
    return this.events.filter((e) => e.event === 'took').map((e) => e.value);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exited) this.process.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.process.kill('SIGKILL');
    await within(this.exit, 5_000, `client ${this.pid} to die`);
  }

  describe(): string {
    return `--- events of ${this.pid}: ${JSON.stringify(this.events).slice(0, 2_000)}\n--- stderr:\n${this.stderr}`;
  }
}

/** A client process that has connected; stopped at the end of the test. */
export async function startClient(scope: Scope, port: number, key: Buffer, options: Record<string, unknown> = {}): Promise<Client> {
  const client = new Client(port, key, options);
  scope.defer(() => client.stop());
  await client.event('ready', 1, 15_000);
  return client;
}
