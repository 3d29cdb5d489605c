// The origin's task_worker.py: connects to the master (demos/task-master.ts) on this
// machine or another, takes tasks and puts results until the master closes the queues.
// Run one or several: `npm run worker`.
import { connect } from 'troupe';
import { demoSettings } from './settings.js';

const { host, port, authkey } = demoSettings('worker');
console.log(`Connect to server ${host}:${port}...`);
const hub = await connect({ address: { host, port }, authkey });
hub.on('connectFailed', (error, retryIn) => console.log(`cannot reach the master (${error.message}); retrying in ${Math.round(retryIn)} ms`));
const tasks = hub.queue<number>('tasks');
const results = hub.queue<string>('results');
for await (const n of tasks) {
  console.log(`run task ${n} * ${n}...`);
  await results.put(`${n} * ${n} = ${n * n}`);
}
await hub.close();
console.log('worker exit.');
