// Mutual TLS between a pool and CLI agents, with a throwaway CA made by the openssl CLI.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Pool } from '../../lib/index.js';
import { makePki } from '../support/pki.js';
import { HOST, Scope, TASKS, joined, newKey, runMany, waitFor, type PoolLog, type Tagged } from './helpers.js';

async function tlsPool(scope: Scope, key: Buffer): Promise<{ pool: Pool; log: PoolLog; port: number }> {
  makePki(scope.dir);
  const file = (name: string) => readFileSync(join(scope.dir, name));
  const { pool, log } = await scope.pool({
    tasks: TASKS,
    size: 0,
    listen: { host: HOST, port: 0, authkey: key, tls: { cert: file('server.crt'), key: file('server.key'), ca: file('ca.crt') } },
  });
  return { pool, log, port: pool.address()!.port };
}

const tlsFlags = (dir: string, ca = 'ca', client: string | null = 'client') => [
  '--tls-ca', join(dir, `${ca}.crt`),
  ...(client ? ['--tls-cert', join(dir, `${client}.crt`), '--tls-key', join(dir, `${client}.key`)] : []),
];

test('an agent with the CA and a client certificate joins a mutual-TLS pool and runs its tasks', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log, port } = await tlsPool(scope, key);
    const agent = scope.cliAgent({ port, keyFile: scope.keyFile(key), extra: tlsFlags(scope.dir) });
    await joined(log, agent);
    const results = await runMany<Tagged>(pool, 'tagged', 200, (i) => [i], 15_000);
    results.forEach((r, i) => assert.equal([r.value, r.pid], [i * i, agent.pid]));
    assert.is(log.authFailures.length, 0);
  } finally {
    await scope.close();
  }
});

test('agents that do not speak TLS, have no client certificate, or distrust the server are refused', async () => {
  const scope = new Scope();
  try {
    const key = newKey();
    const { pool, log, port } = await tlsPool(scope, key);
    const keyFile = scope.keyFile(key);
    const good = scope.cliAgent({ port, keyFile, extra: tlsFlags(scope.dir) });
    await joined(log, good);

    // Plain TCP: the TLS server closes without a word, which the agent cannot tell from a
    // network fault, so it keeps retrying; each attempt is refused and reported.
    const plain = scope.cliAgent({ port, keyFile });
    await waitFor(() => log.authFailures.length >= 2, 10_000, 'two refused attempts of the plain agent', () => plain.describe());
    assert.match(log.authFailures[0].error.message, /wrong version number/);
    assert.not.ok(log.joins.some((a) => a.pid === plain.pid), 'the plain agent never joined');
    await plain.stop();
    const plainFailures = log.authFailures.length;

    // TLS refusals are authentication failures: final, exit status 1.
    const refused = [
      { what: 'no client certificate', agent: scope.cliAgent({ port, keyFile, extra: tlsFlags(scope.dir, 'ca', null) }) },
      { what: 'another CA', agent: scope.cliAgent({ port, keyFile, extra: tlsFlags(scope.dir, 'other') }) },
    ];
    for (const { what, agent } of refused) {
      const { code } = await agent.waitExit(15_000, `the ${what} agent to give up`);
      assert.is(code, 1, `${what}: ${agent.describe()}`);
      assert.match(agent.stderr, /authentication failed/, what);
      assert.not.ok(log.joins.some((a) => a.pid === agent.pid), `${what}: never joined`);
    }
    // The pool refused the certificate-less agent; the other one refused the pool's certificate.
    await waitFor(() => log.authFailures.length > plainFailures, 5000, 'authFailure for the certificate-less agent');

    const results = await runMany<Tagged>(pool, 'tagged', 50, (i) => [i], 10_000);
    assert.ok(results.every((r) => r.pid === good.pid));
    assert.equal(log.joins.map((a) => a.pid), [good.pid]);
  } finally {
    await scope.close();
  }
});

test.run();
