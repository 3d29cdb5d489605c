/**
 * Mutual TLS with throwaway certificates made by `openssl` at test time, in a temp dir.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AuthenticationError, PeerLostError } from '../../lib/errors.js';
import { connect, listen, type Connection, type TransportServer } from '../../lib/transport/index.js';
import { Cleanup, KEY, OTHER_KEY, nextEvent, within } from './helpers.js';

const cleanup = new Cleanup();
const dir = mkdtempSync(join(tmpdir(), 'troupe-tls-'));
const pem: Record<string, Buffer> = {};

function openssl(...args: string[]) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(name: string) {
  openssl('req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
}

function makeLeaf(name: string, ca: string, extensions: string) {
  writeFileSync(join(dir, `${name}.ext`), `${extensions}\n`);
  openssl('req', '-new', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
}

test.before(() => {
  makeCa('ca');
  makeCa('rogue-ca');
  makeLeaf('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth');
  makeLeaf('client', 'ca', 'extendedKeyUsage=clientAuth');
  makeLeaf('rogue-client', 'rogue-ca', 'extendedKeyUsage=clientAuth');
  for (const name of ['ca', 'server', 'client', 'rogue-client']) {
    pem[`${name}.crt`] = readFileSync(join(dir, `${name}.crt`));
    pem[`${name}.key`] = readFileSync(join(dir, `${name}.key`));
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.after.each(() => cleanup.run());

async function tlsServer(): Promise<TransportServer> {
  return cleanup.add(
    await listen({ authkey: KEY, handshakeTimeoutMs: 2000, tls: { cert: pem['server.crt'], key: pem['server.key'], ca: pem['ca.crt'] } }),
  );
}

function rejection(promise: Promise<unknown>): Promise<Error> {
  return within(
    promise.then(
      (c) => {
        (c as Connection).destroy();
        throw new Error('expected the connection to be refused');
      },
      (err: Error) => err,
    ),
    4000,
    'the refusal',
  );
}

test('mutual TLS with a CA-signed client certificate and the right key', async () => {
  const server = await tlsServer();
  const accepted = nextEvent<[Connection]>(server, 'connection', 4000);
  const client = cleanup.add(
    await within(
      connect({ port: server.address().port, authkey: KEY, tls: { ca: pem['ca.crt'], cert: pem['client.crt'], key: pem['client.key'] } }),
      4000,
      'connect',
    ),
  );
  const [peer] = await accepted;
  peer.on('message', (type, value) => peer.send(type, { echo: value }));
  const reply = nextEvent(client, 'message');
  client.send(16, Buffer.from('over TLS'));
  assert.equal(await reply, [16, { echo: Buffer.from('over TLS') }]);
});

test('a client without a certificate is refused', async () => {
  const server = await tlsServer();
  const failure = nextEvent<[string, Error]>(server, 'authFailure', 4000);
  const err = await rejection(connect({ port: server.address().port, authkey: KEY, tls: { ca: pem['ca.crt'] } }));
  assert.ok(err instanceof AuthenticationError || err instanceof PeerLostError, `${err.name}: ${err.message}`);
  await failure;
  assert.is(server.connectionCount, 0);
});

test('a client whose certificate comes from another CA is refused', async () => {
  const server = await tlsServer();
  const failure = nextEvent<[string, Error]>(server, 'authFailure', 4000);
  const err = await rejection(
    connect({ port: server.address().port, authkey: KEY, tls: { ca: pem['ca.crt'], cert: pem['rogue-client.crt'], key: pem['rogue-client.key'] } }),
  );
  assert.ok(err instanceof AuthenticationError || err instanceof PeerLostError, `${err.name}: ${err.message}`);
  const [, reason] = await failure;
  assert.instance(reason, AuthenticationError);
  assert.match(reason.message, /client certificate refused/);
});

test('inside TLS the authkey is still checked', async () => {
  const server = await tlsServer();
  const failure = nextEvent<[string, Error]>(server, 'authFailure', 4000);
  const err = await rejection(
    connect({ port: server.address().port, authkey: OTHER_KEY, tls: { ca: pem['ca.crt'], cert: pem['client.crt'], key: pem['client.key'] } }),
  );
  assert.instance(err, AuthenticationError);
  assert.instance((await failure)[1], AuthenticationError);
});

test('a client that does not trust the server certificate refuses it', async () => {
  const server = await tlsServer();
  const err = await rejection(
    connect({ port: server.address().port, authkey: KEY, tls: { cert: pem['client.crt'], key: pem['client.key'] } }),
  );
  assert.instance(err, AuthenticationError);
  assert.match(err.message, /TLS/);
});

test('a plain TCP client gets nowhere with a TLS server', async () => {
  const server = await tlsServer();
  const failure = nextEvent<[string, Error]>(server, 'authFailure', 4000);
  await rejection(connect({ port: server.address().port, authkey: KEY }));
  await failure;
});

test.run();
