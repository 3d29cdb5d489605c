import { debug } from '../debug.js';
import { listen, type TransportServer } from '../transport/server.js';
import type { Connection } from '../transport/connection.js';
import type { ListenOptions } from '../transport/options.js';
import { RemoteBackend } from './remote.js';
import {
  ackWithinMs, AGENT_HELLO, AGENT_PROTOCOL_VERSION, AGENT_REFUSED, AGENT_WELCOME, parsePeerHello, type ClientHello, type Welcome,
} from './remote-protocol.js';


/** How long an authenticated agent has to introduce itself. */
const HELLO_TIMEOUT_MS = 5_000;

type RefusalListener = (address: string, error: Error) => void;

/** What the listener hands on: agents become backends, clients go to whoever serves them (it sends their welcome). */
export interface PeerHandlers {
  agent(backend: RemoteBackend): void;
  client(connection: Connection, hello: ClientHello): void;
  refused: RefusalListener;
}

/**
 * The one acceptor of a pool's port: authenticated connections introduce themselves and
 * are routed by the role their hello announces, an agent (workers to lend) or a client.
 */
export class AgentListener {
  readonly #server: TransportServer;

  private constructor(server: TransportServer, handlers: PeerHandlers) {
    const onRefused = handlers.refused;
    this.#server = server;
    server.on('authFailure', (address: string, error: Error) => onRefused(address, error));
    // A listening socket's errors after start (e.g. EMFILE) must not crash the pool.
    server.on('error', (error: Error) => debug('agent listener: %s', error.message));
    server.on('connection', (connection: Connection) => {
      const timer = setTimeout(() => {
        debug('peer at %s sent no hello within %d ms', connection.remoteAddress, HELLO_TIMEOUT_MS);
        connection.destroy();
      }, HELLO_TIMEOUT_MS);
      connection.once('close', () => clearTimeout(timer));
      connection.once('message', (type: number, value: unknown) => {
        clearTimeout(timer);
        const hello = type === AGENT_HELLO ? parsePeerHello(value) : `expected a hello, got message type ${type}`;
        if (typeof hello === 'string') {
          const problem = hello;
          debug('refusing peer at %s: %s', connection.remoteAddress, problem);
          // Said so that the agent stops instead of trying again and again.
          if (type === AGENT_HELLO) connection.send(AGENT_REFUSED, { reason: problem });
          void connection.close();
          return;
        }
        if (hello.role === 'client') return handlers.client(connection, hello.hello);
        connection.send(AGENT_WELCOME, { version: AGENT_PROTOCOL_VERSION, ackWithinMs: ackWithinMs(server.options.ackTimeoutMs) } satisfies Welcome);
        // The agent spoke our version: what follows the welcome may be JSON.
        connection.useJsonBodies();
        handlers.agent(new RemoteBackend(connection, hello.hello, server.options.ackTimeoutMs));
      });
    });
  }

  static async start(options: ListenOptions, handlers: PeerHandlers): Promise<AgentListener> {
    return new AgentListener(await listen(options), handlers);
  }

  address(): { host: string; port: number } {
    return this.#server.address();
  }

  close(): Promise<void> {
    return this.#server.close();
  }
}
