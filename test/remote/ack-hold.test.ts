// How an agent acknowledges: within the ackWithinMs its welcome gives, riding in the frame
// of the batch's results when they come first, so that a lone round trip wakes the
// scheduler once; on its own once that time is up (a long task); at the end of the turn
// when the welcome gives no time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ackWithinMs, ACK_HOLD_MS, AGENT_ACK, AGENT_HELLO, AGENT_PROTOCOL_VERSION, AGENT_RESULTS, AGENT_RUN, AGENT_WELCOME, parseWelcome,
} from '../../lib/backends/remote-protocol.js';
import { ProtocolError } from '../../lib/errors.js';
import { listen, type Connection } from '../../lib/transport/index.js';
import { HOST, Scope, newKey, waitFor } from './helpers.js';

test('a pool gives an agent at most a tenth of its ackTimeoutMs, and at most ACK_HOLD_MS; a bad welcome is refused by name', () => {
  assert.is(ackWithinMs(10_000), ACK_HOLD_MS);
  assert.is(ackWithinMs(100), 10);
  assert.is(ackWithinMs(9), 0);
  assert.equal(parseWelcome({ version: AGENT_PROTOCOL_VERSION }), { version: AGENT_PROTOCOL_VERSION, ackWithinMs: 0 });
  assert.equal(parseWelcome({ version: AGENT_PROTOCOL_VERSION, ackWithinMs: 5 }), { version: AGENT_PROTOCOL_VERSION, ackWithinMs: 5 });
  for (const bad of [-1, 1.5, 2 ** 31, '5']) {
    assert.throws(() => parseWelcome({ version: AGENT_PROTOCOL_VERSION, ackWithinMs: bad }), (e: unknown) => e instanceof ProtocolError && /welcome\.ackWithinMs/.test((e as Error).message));
  }
});

interface Arrival {
  type: number;
  at: number;
  /** Frames that came in the same read as this one (counted once the read is handled). */
  sameRead: number;
}

/** A scheduler stand-in that welcomes one CLI agent with `welcome` and notes every frame that comes after. */
async function standIn(scope: Scope, welcome: Record<string, unknown>) {
  const key = newKey();
  const server = await listen({ host: HOST, port: 0, authkey: key });
  scope.defer(() => server.close());
  let peer: Connection | undefined;
  const arrivals: Arrival[] = [];
  let read: Arrival[] | undefined;
  server.on('connection', (connection) => {
    connection.on('message', (type) => {
      if (type === AGENT_HELLO) {
        peer = connection;
        connection.send(AGENT_WELCOME, { version: AGENT_PROTOCOL_VERSION, ...welcome });
        return;
      }
      const arrival = { type, at: performance.now(), sameRead: 0 };
      arrivals.push(arrival);
      // The frames of one read are handed out in one go; a microtask runs after all of them.
      if (read === undefined) {
        read = [];
        queueMicrotask(() => {
          for (const a of read!) a.sameRead = read!.length;
          read = undefined;
        });
      }
      read.push(arrival);
    });
  });
  const agent = scope.cliAgent({ port: server.address().port, keyFile: scope.keyFile(key) });
  await waitFor(() => peer !== undefined || agent.exited, 15_000, 'the agent to say hello', () => agent.describe());
  assert.ok(peer, agent.describe());
  return {
    /** Sends one call and waits (bounded) for its results; returns what came, and when it was sent. */
    async run(base: number, name: string, args: unknown[]) {
      const from = arrivals.length;
      const sent = performance.now();
      peer!.send(AGENT_RUN, { base, name, args: [args] });
      await waitFor(() => arrivals.slice(from).some((a) => a.type === AGENT_RESULTS), 10_000, `results of batch ${base}`);
      await new Promise((resolve) => setImmediate(resolve)); // the read's microtask has run
      return { sent, came: arrivals.slice(from) };
    },
  };
}

test('a quick task: its ack rides in the same read as its results, ahead of them', async () => {
  const scope = new Scope();
  try {
    // A second, so that a slow moment of a loaded machine does not send the ack alone.
    const scheduler = await standIn(scope, { ackWithinMs: 1_000 });
    for (let i = 1; i <= 5; i++) {
      const { came } = await scheduler.run(i, 'square', [i]);
      assert.equal(came.map((a) => a.type), [AGENT_ACK, AGENT_RESULTS], `batch ${i}`);
      assert.equal(came.map((a) => a.sameRead), [2, 2], `batch ${i}: one read`);
    }
  } finally {
    await scope.close();
  }
});

// spinTagged holds its thread without a word until it returns; an async task would say at once
// that it started, and the ack would ride with that.
test('a long task: its ack comes on its own within ackWithinMs, long before its results', async () => {
  const scope = new Scope();
  try {
    const scheduler = await standIn(scope, { ackWithinMs: 10 });
    const { sent, came } = await scheduler.run(1, 'spinTagged', [3, 1_000_000]);
    assert.equal(came.map((a) => a.type), [AGENT_ACK, AGENT_RESULTS]);
    const [ack, results] = came;
    // Generous: the ack is due 10 ms after the batch came; the results a second after.
    assert.ok(ack.at - sent < 500, `ack after ${(ack.at - sent).toFixed(0)} ms`);
    assert.ok(results.at - ack.at > 400, `results ${(results.at - ack.at).toFixed(0)} ms after the ack`);
  } finally {
    await scope.close();
  }
});

test('a welcome that gives no time: the ack leaves at the end of the turn the batch came in, before a long task ends', async () => {
  const scope = new Scope();
  try {
    const scheduler = await standIn(scope, {});
    const { sent, came } = await scheduler.run(1, 'spinTagged', [3, 1_000_000]);
    assert.equal(came.map((a) => a.type), [AGENT_ACK, AGENT_RESULTS]);
    assert.ok(came[0].at - sent < 500, `ack after ${(came[0].at - sent).toFixed(0)} ms`);
  } finally {
    await scope.close();
  }
});

test.run();
