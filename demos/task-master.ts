// The origin's task_master.py: owns a task queue and a result queue on a port under an
// authkey, puts 10 random ints, and waits up to 10 s for each result. Workers
// (demos/task-worker.ts) connect from this machine or another. Run: `npm run master`.
//
// Unlike the original, a task taken by a worker that dies goes back to the queue, workers
// never race on empty(), and their loops end cleanly when the master closes the queues.
import { createPool } from 'troupe';
import { demoSettings } from './settings.js';

const { host, port, authkey } = demoSettings('master');
const pool = await createPool({
  tasks: new URL('./tasks.js', import.meta.url),
  size: 0, // this master runs no tasks itself: the workers take them from the queue
  listen: { host, port, authkey },
});
pool.on('clientJoin', (client) => console.log(`worker ${client.hostname}:${client.pid} connected`));
const tasks = pool.queue<number>('tasks', { capacity: 10 });
const results = pool.queue<string>('results');
console.log(`master listening on ${host}:${pool.address()!.port}`);

let failed = false;
try {
  for (let i = 0; i < 10; i++) {
    const n = Math.floor(Math.random() * 10_000);
    console.log(`Put task ${n}...`);
    await tasks.put(n);
  }
  console.log('Try get results...');
  for (let i = 0; i < 10; i++) {
    const r = await results.get({ timeout: 10_000 });
    console.log(`Result: ${r}`);
  }
} catch (error) {
  failed = true;
  console.error(`master: ${(error as Error).message}`);
} finally {
  // Closes the queues: the workers' loops end and they exit.
  await pool.close();
}
console.log('master exit.');
process.exitCode = failed ? 1 : 0;
