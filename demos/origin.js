// The origin's scenario: a master puts 10 random ints, a pool of worker processes squares
// them, and the master prints "n * n = result" for each. Unlike the original, a task
// whose worker dies is run again, and nothing is pickled: only values cross the wire.
import { createPool } from 'troupe';

const pool = await createPool({
  tasks: new URL('./tasks.js', import.meta.url),
  mode: 'process',
  size: 2,
  timeout: 10_000, // the original waits up to 10 s per result
});

try {
  const numbers = Array.from({ length: 10 }, () => Math.floor(Math.random() * 10_000));
  for (const n of numbers) console.log(`Put task ${n}...`);
  const results = await Promise.all(numbers.map((n) => pool.run('squareWhere', [n])));
  numbers.forEach((n, i) => console.log(`${n} * ${n} = ${results[i].result}   (worker process ${results[i].pid})`));
} finally {
  await pool.close();
}
console.log('master exit.');
