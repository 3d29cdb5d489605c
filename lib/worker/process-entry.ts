// The program each worker process runs: load the task module, then run batches from IPC.
import { serializeError } from '../errors.js';
import {
  MSG_READY, MSG_RESULTS, MSG_RUN, MSG_START_FAILED, TASKS_ENV, type FromWorker, type Results, type ToWorker,
} from './protocol.js';
import { BatchRunner, cloneableResults, loadTasks } from './runtime.js';

// The primary closes the channel to stop us, and a primary that dies closes it too.
process.on('disconnect', () => process.exit(0));

function send(message: FromWorker): void {
  process.send!(message);
}

function sendResults(results: Results, busy: number): void {
  try {
    send({ t: MSG_RESULTS, r: results, busy });
  } catch {
    send({ t: MSG_RESULTS, r: cloneableResults(results), busy });
  }
}

try {
  const tasks = await loadTasks(process.env[TASKS_ENV] ?? '');
  const runner = new BatchRunner(tasks, sendResults);
  process.on('message', (message: ToWorker) => {
    if (message?.t === MSG_RUN) runner.run(message.b);
  });
  send({ t: MSG_READY, names: [...tasks.keys()] });
} catch (error) {
  // Exit only once the message is written: exiting right after send() can lose it.
  process.send!({ t: MSG_START_FAILED, error: serializeError(error) } satisfies FromWorker, undefined, {}, () =>
    process.exit(1),
  );
}
