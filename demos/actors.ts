// A bank of account actors: 8 accounts of 1,000 each live in worker processes; 5,000
// random transfers run as tasks that call the accounts by name, all at once. Each account
// handles one message at a time, so however the transfers interleave, no money is made or
// lost: the demo checks that the total is still 8,000 at the end.
import { createPool } from 'troupe';

const ACCOUNTS = 8;
const OPENING = 1_000;
const TRANSFERS = 5_000;

const pool = await createPool({ tasks: new URL('./bank.ts', import.meta.url), mode: 'process', size: 2 });
const bank = pool.actors<typeof import('./bank.js')>();
pool.on('actorStart', (a) => console.log(`${a.name} opened in ${a.worker}`));

const names = Array.from({ length: ACCOUNTS }, (_, i) => `account-${i + 1}`);
const accounts = await Promise.all(names.map((name) => bank.Account.spawn([OPENING], { name })));

const started = performance.now();
const pick = () => names[Math.floor(Math.random() * ACCOUNTS)];
const transfers = Array.from({ length: TRANSFERS }, () => {
  const from = pick();
  let to = pick();
  while (to === from) to = pick();
  return pool.run<boolean>('transfer', [from, to, 1 + Math.floor(Math.random() * 100)]);
});
const done = await Promise.all(transfers);
const ms = performance.now() - started;

const balances = await Promise.all(accounts.map((account) => account.balance()));
const total = balances.reduce((sum, b) => sum + b, 0);
names.forEach((name, i) => console.log(`${name}: ${balances[i]}`));
const moved = done.filter(Boolean).length;
console.log(`${moved} transfers done, ${TRANSFERS - moved} refused for lack of funds, in ${Math.round(ms)} ms`);
console.log(`total: ${total} (expected ${ACCOUNTS * OPENING}) ${total === ACCOUNTS * OPENING ? 'OK' : 'MISMATCH'}`);

await pool.close();
process.exitCode = total === ACCOUNTS * OPENING ? 0 : 1;
