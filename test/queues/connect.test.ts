// connect()'s options and refusals: the address in the agents' host:port form, named in
// errors; a wrong key is final; a closed hub refuses later calls.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from '../../lib/index.js';
import { newKey, outcome } from '../remote/helpers.js';
import { HOST, listeningPool, Scope } from './helpers.js';

test('bad options throw ERR_TROUPE_INVALID_OPTION naming the option', async () => {
  const key = newKey();
  for (const [options, pattern] of [
    [{ address: 'no-port', authkey: key }, /option "address" must be "host:port"/],
    [{ address: '127.0.0.1:0', authkey: key }, /option "address"/],
    [{ address: '127.0.0.1:5000', authkey: 'short' }, /authkey/],
    [{ address: '127.0.0.1:5000', authkey: key, prefetch: 5_000 }, /option "prefetch"/],
    [{ address: '127.0.0.1:5000', authkey: key, nonsense: 1 }, /unknown option "nonsense"/],
  ] as const) {
    const o = await outcome(connect(options as never), 2_000, String(pattern));
    assert.ok(!o.ok && pattern.test(o.error.message), o.ok ? 'connected' : o.error.message);
    assert.is(!o.ok && o.error.code, 'ERR_TROUPE_INVALID_OPTION');
  }
});

test('a wrong authkey is refused once, for good: ERR_TROUPE_AUTH', async () => {
  const scope = new Scope();
  try {
    const { port } = await listeningPool(scope);
    const o = await outcome(connect({ address: `${HOST}:${port}`, authkey: newKey() }), 10_000, 'a refused connect');
    assert.is(!o.ok && o.error.code, 'ERR_TROUPE_AUTH');
  } finally {
    await scope.close();
  }
});

test('an in-process hub: { host, port } form, queue and run, then close() refuses later calls', async () => {
  const scope = new Scope();
  try {
    const { pool, key, port } = await listeningPool(scope, { size: 1 });
    const q = pool.queue<number>('q');
    const hub = await connect({ address: { host: HOST, port }, authkey: key });
    scope.defer(() => hub.close());
    await hub.queue<number>('q').put(3);
    assert.is(await q.get(), 3);
    assert.is(await hub.tasks<{ square(n: number): number }>().square(4), 16);
    await hub.close();
    const late = await outcome(hub.run('square', [1]), 2_000, 'a run after close');
    assert.is(!late.ok && late.error.code, 'ERR_TROUPE_CLIENT_CLOSED');
  } finally {
    await scope.close();
  }
});

test.run();
