// The origin's scenario: a master puts 10 random ints, workers square them, and the master
// prints "n * n = result" for each. Here the master's pool has one local worker process
// and accepts remote agents under an authkey; one agent is started beside it as a separate
// process on 127.0.0.1, exactly as it would be started on another machine.
//
// Unlike the original, a task whose worker dies is run again, and nothing is pickled:
// only values cross the wire.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createPool } from 'troupe';

const authkey = randomBytes(32).toString('hex');
const pool = await createPool({
  tasks: new URL('./tasks.js', import.meta.url),
  mode: 'process',
  size: 1,
  timeout: 10_000, // the original waits up to 10 s per result
  listen: { host: '127.0.0.1', port: 0, authkey },
});
const { port } = pool.address();
console.log(`master listening on 127.0.0.1:${port}`);

const agent = spawn(
  process.execPath,
  [new URL('../dist/cli.js', import.meta.url).pathname, 'agent', '--connect', `127.0.0.1:${port}`,
    '--tasks', new URL('./tasks.js', import.meta.url).pathname, '--mode', 'process', '--size', '2'],
  { env: { ...process.env, TROUPE_AUTHKEY: authkey }, stdio: ['ignore', 'inherit', 'inherit'] },
);

try {
  const [joined] = await once(pool, 'agentJoin');
  console.log(`agent ${joined.hostname}:${joined.pid} joined with ${joined.parallelism} workers`);

  const numbers = Array.from({ length: 10 }, () => Math.floor(Math.random() * 10_000));
  for (const n of numbers) console.log(`Put task ${n}...`);
  const results = await Promise.all(numbers.map((n) => pool.run('squareWhere', [n])));
  numbers.forEach((n, i) => {
    const { result, pid, ppid } = results[i];
    const node = ppid === process.pid ? `local worker ${pid}` : `agent ${ppid}, worker ${pid}`;
    console.log(`${n} * ${n} = ${result}   (${node})`);
  });
} finally {
  if (agent.exitCode === null) {
    agent.kill('SIGTERM');
    await once(agent, 'exit');
  }
  await pool.close();
}
console.log('master exit.');
