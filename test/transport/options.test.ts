import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidOptionError } from '../../lib/errors.js';
import { resolveTransportOptions } from '../../lib/transport/options.js';
import { KEY } from './helpers.js';

function refused(options: unknown, side: 'client' | 'server', name: string) {
  assert.throws(
    () => resolveTransportOptions(options, side),
    (err: Error) => err instanceof InvalidOptionError && err.message.includes(name),
    `${JSON.stringify(options)} should be refused naming ${name}`,
  );
}

test('defaults', () => {
  const o = resolveTransportOptions({ authkey: KEY }, 'server');
  assert.equal(
    { ...o, authkey: o.authkey.toString() },
    {
      host: '127.0.0.1',
      port: 0,
      authkey: KEY,
      tls: undefined,
      handshakeTimeoutMs: 5000,
      heartbeatIntervalMs: 1000,
      heartbeatTimeoutMs: 3000,
      maxFrameBytes: 64 * 1024 * 1024,
      maxPartialFrameBytes: 128 * 1024 * 1024,
      ackTimeoutMs: 10_000,
    },
  );
  const big = resolveTransportOptions({ authkey: KEY, maxFrameBytes: 2 ** 30 }, 'server');
  assert.is(big.maxPartialFrameBytes, 2 ** 30, 'the budget always fits one largest frame');
  assert.is(resolveTransportOptions({ authkey: KEY, heartbeatIntervalMs: 2000 }, 'server').heartbeatTimeoutMs, 6000);
});

test('each bad option is refused with its name in the message', () => {
  const base = { authkey: KEY, port: 9000 };
  refused(undefined, 'client', 'connect options');
  refused(null, 'server', 'listen options');
  refused({ authkey: KEY }, 'client', 'port');
  refused({ ...base, port: 0 }, 'client', 'port');
  refused({ ...base, port: 70000 }, 'server', 'port');
  refused({ ...base, port: '80' }, 'server', 'port');
  refused({ ...base, host: '' }, 'server', 'host');
  refused({ ...base, host: 5 }, 'client', 'host');
  refused({ port: 1 }, 'client', 'authkey');
  refused({ ...base, authkey: 12345678901234567890 }, 'client', 'authkey');
  refused({ ...base, handshakeTimeoutMs: 0 }, 'client', 'handshakeTimeoutMs');
  refused({ ...base, handshakeTimeoutMs: Infinity }, 'client', 'handshakeTimeoutMs');
  refused({ ...base, heartbeatIntervalMs: 1.5 }, 'client', 'heartbeatIntervalMs');
  refused({ ...base, heartbeatTimeoutMs: -1 }, 'client', 'heartbeatTimeoutMs');
  refused({ ...base, heartbeatIntervalMs: 500, heartbeatTimeoutMs: 500 }, 'client', 'heartbeatTimeoutMs');
  refused({ ...base, maxFrameBytes: 10 }, 'client', 'maxFrameBytes');
  refused({ ...base, maxFrameBytes: 2 ** 32 }, 'client', 'maxFrameBytes');
  refused({ ...base, maxPartialFrameBytes: 1000 }, 'server', 'maxPartialFrameBytes');
  refused({ ...base, maxPartialFrameBytes: '1' }, 'server', 'maxPartialFrameBytes');
  refused({ ...base, tls: true }, 'client', 'tls');
  refused({ ...base, tls: {} }, 'server', 'tls.cert');
  refused({ ...base, tls: { cert: 'PEM' } }, 'server', 'tls.key');
  refused({ ...base, tls: { key: 'PEM' } }, 'client', 'tls.cert');
  refused({ ...base, tls: { ca: 42 } }, 'client', 'tls.ca');
  refused({ ...base, tls: { servername: '' } }, 'client', 'tls.servername');
});

test.run();
