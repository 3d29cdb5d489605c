// The program each worker process runs: load the task module, then run batches from IPC.
import './watchdog.js';
import { serializeError } from '../errors.js';
import { parseBatch } from './batch.js';
import { MSG_READY, MSG_RESULTS, MSG_RUN, MSG_START_FAILED, TASKS_ENV, type FromWorker } from './protocol.js';
import { WorkerRuntime, loadTasks } from './runtime.js';

// The primary closes the channel to stop us, and a primary that dies closes it too.
process.on('disconnect', () => process.exit(0));

function send(message: FromWorker): void {
  process.send!(message);
}

try {
  const runtime = new WorkerRuntime(await loadTasks(process.env[TASKS_ENV] ?? ''), (r) => send({ t: MSG_RESULTS, r }));
  process.on('message', (message: { t?: unknown; b?: unknown } | null) => {
    if (message?.t === MSG_RUN) runtime.run(parseBatch(message.b));
  });
  send({ t: MSG_READY, names: runtime.names });
} catch (error) {
  // Exit only once the message is written: exiting right after send() can lose it.
  const message: FromWorker = { t: MSG_START_FAILED, error: serializeError(error) };
  process.send!(message, undefined, {}, () => process.exit(1));
}
