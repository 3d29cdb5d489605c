import { AgentRefusedError, HandshakeTimeoutError, PeerLostError, ProtocolError } from '../errors.js';
import { AGENT_HELLO, AGENT_PROTOCOL_VERSION, AGENT_REFUSED, AGENT_WELCOME, parseRefusal, versionMismatch } from '../backends/remote-protocol.js';
import type { Connection } from '../transport/connection.js';
import { parseClientWelcome } from '../queues/protocol.js';

/** Says a client's hello and waits for the pool's welcome (or refusal), within `ms`. */
export function introduce(connection: Connection, hello: Record<string, unknown>, ms: number): Promise<{ maxPrefetch: number }> {
  return new Promise((resolve, reject) => {
    const finish = (error?: Error, welcome?: { maxPrefetch: number }) => {
      clearTimeout(timer);
      connection.off('message', onMessage);
      connection.off('close', onClose);
      if (welcome) return resolve(welcome);
      connection.destroy();
      reject(error);
    };
    const onMessage = (type: number, value: unknown) => {
      if (type === AGENT_REFUSED) return finish(new AgentRefusedError(parseRefusal(value), 'client'));
      if (type !== AGENT_WELCOME) return finish(new ProtocolError(`expected a welcome, got message type ${type}`));
      let welcome;
      try {
        welcome = parseClientWelcome(value);
      } catch (error) {
        return finish(error as Error);
      }
      if (welcome.version !== AGENT_PROTOCOL_VERSION) {
        return finish(new AgentRefusedError(versionMismatch(welcome.version, AGENT_PROTOCOL_VERSION, 'scheduler', 'client'), 'client'));
      }
      connection.useJsonBodies();
      finish(undefined, welcome);
    };
    const onClose = (error?: Error) => finish(error ?? new PeerLostError('the pool closed the connection'));
    const timer = setTimeout(() => finish(new HandshakeTimeoutError(ms)), ms);
    connection.on('message', onMessage);
    connection.once('close', onClose);
    connection.send(AGENT_HELLO, hello);
  });
}
