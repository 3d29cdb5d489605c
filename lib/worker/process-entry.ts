// The program each worker process runs: load the task module, then run batches from IPC.
import './watchdog.js';
import { serializeError } from '../errors.js';
import {
  MSG_READY, MSG_RESULTS, MSG_RUN, MSG_START_FAILED, TASKS_ENV, type Batch, type FromWorker, type Results,
  type ToWorker,
} from './protocol.js';
import { BatchRunner, cloneableResults, loadTasks } from './runtime.js';
import { fromBase64, isPlainResults, toBase64 } from './values.js';

// The primary closes the channel to stop us, and a primary that dies closes it too.
process.on('disconnect', () => process.exit(0));

function send(message: FromWorker): void {
  process.send!(message);
}

function sendResults(results: Results, busy: number): void {
  if (isPlainResults(results)) return send({ t: MSG_RESULTS, r: results, busy });
  let v: string;
  try {
    v = toBase64(results);
  } catch {
    // One value that does not clone fails its own task, not the whole batch.
    v = toBase64(cloneableResults(results));
  }
  send({ t: MSG_RESULTS, v, busy });
}

try {
  const tasks = await loadTasks(process.env[TASKS_ENV] ?? '');
  const runner = new BatchRunner(tasks, sendResults);
  process.on('message', (message: ToWorker) => {
    if (message?.t === MSG_RUN) runner.run('b' in message ? message.b : (fromBase64(message.v) as Batch));
  });
  send({ t: MSG_READY, names: [...tasks.keys()] });
} catch (error) {
  // Exit only once the message is written: exiting right after send() can lose it.
  const message: FromWorker = { t: MSG_START_FAILED, v: toBase64(serializeError(error)) };
  process.send!(message, undefined, {}, () => process.exit(1));
}
