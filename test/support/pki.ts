// A throwaway PKI made with the openssl CLI, for the TLS tests of agents and clients.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
}

/** A CA named `ca` in `dir`: ca.crt, ca.key. */
function makeCa(dir: string, ca: string): void {
  openssl(dir, [
    'req', '-x509', '-new', ...EC, '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-days', '1', '-subj', `/CN=troupe test ${ca}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

/** A certificate `name`.crt / `name`.key signed by CA `ca`, with the given extensions. */
function makeCert(dir: string, ca: string, name: string, cn: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, ['req', '-new', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-set_serial', `0x${randomBytes(8).toString('hex')}`,
    '-days', '1', '-out', `${name}.crt`, '-extfile', `${name}.ext`,
  ]);
}

/** ca, server (127.0.0.1 / localhost), client; and a second CA, "other", that signed nothing we use. */
export function makePki(dir: string): void {
  makeCa(dir, 'ca');
  makeCa(dir, 'other');
  makeCert(dir, 'ca', 'server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  makeCert(dir, 'ca', 'client', 'troupe-agent', 'extendedKeyUsage=clientAuth\n');
}
