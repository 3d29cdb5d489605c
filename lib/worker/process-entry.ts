// The program each worker process runs: load the task module, then run batches from IPC.
import './watchdog.js';
import { serializeError } from '../errors.js';
import { parseBatch } from './batch.js';
import { MSG_CALL, MSG_DROP, MSG_READY, MSG_RESULTS, MSG_RUN, MSG_START_FAILED, TASKS_ENV, parseControl, type FromWorker } from './protocol.js';
import { WorkerRuntime, loadTasks } from './runtime.js';

// The primary closes the channel to stop us, and a primary that dies closes it too.
process.on('disconnect', () => process.exit(0));

function send(message: FromWorker): void {
  process.send!(message);
}

try {
  const runtime = new WorkerRuntime(await loadTasks(process.env[TASKS_ENV] ?? ''), {
    results: (r) => send({ t: MSG_RESULTS, r }),
    call: (c) => send({ t: MSG_CALL, c }),
  });
  process.on('message', (message: { t?: unknown; b?: unknown } | null) => {
    if (message?.t === MSG_RUN) return runtime.run(parseBatch(message.b));
    const control = parseControl(message);
    if (control?.t === MSG_DROP) runtime.drop(control.ids);
    else if (control !== undefined) runtime.reply(control.r);
  });
  send({ t: MSG_READY, names: runtime.names });
} catch (error) {
  // Exit only once the message is written: exiting right after send() can lose it.
  const message: FromWorker = { t: MSG_START_FAILED, error: serializeError(error) };
  process.send!(message, undefined, {}, () => process.exit(1));
}
