// Where the demo master listens and its workers connect, and the key they share.
const DEMO_AUTHKEY = 'troupe-demo-authkey-do-not-use';

export function demoSettings(role: 'master' | 'worker'): { host: string; port: number; authkey: string } {
  const address = process.env.TROUPE_ADDRESS ?? '127.0.0.1:5000';
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`TROUPE_ADDRESS must be host:port; got ${JSON.stringify(address)}`);
  }
  let authkey = process.env.TROUPE_AUTHKEY;
  if (!authkey) {
    console.warn(`${role}: TROUPE_AUTHKEY is not set; using the demo key, which anyone can read. Set your own secret outside a demo.`);
    authkey = DEMO_AUTHKEY;
  }
  return { host, port, authkey };
}
