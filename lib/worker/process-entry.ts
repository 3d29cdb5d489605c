// The program each worker process runs: load the task module, run setup(), then run batches
// from its pipe (transport/pipe.ts), sending results back the same way.
import './watchdog.js';
import { Socket } from 'node:net';
import { FramePipe } from '../transport/pipe.js';
import { serializeError } from '../errors.js';
import { parseBatch } from './batch.js';
import { loadHooks } from './hooks.js';
import { isRecord } from './parse.js';
import { compactResults, parseAnyBatch, type FlatResults } from './compact-forms.js';
import {
  MSG_CALL, MSG_DROP, MSG_INIT, MSG_READY, MSG_RESULTS, MSG_RUN, MSG_START_FAILED, PIPE_FD, TASKS_ENV, parseControl, type FromWorker,
} from './protocol.js';
import { WorkerRuntime, loadTasks } from './runtime.js';

const href = process.env[TASKS_ENV] ?? '';
let stopping: Promise<void> | undefined;

/** teardown(), then exit; the primary bounds how long it waits. */
function stop(): void {
  stopping ??= loadHooks(href)
    .then((hooks) => hooks.teardown())
    .catch(() => {})
    .finally(() => process.exit(0));
}

// The primary closes the channel to stop us, and a primary that dies closes it too (and
// our pipe, whichever close comes first).
process.on('disconnect', stop);

function send(message: FromWorker): void {
  process.send!(message);
}

/** The first message from the primary: what setup() gets, and whether to report the heap. */
function init(): Promise<{ workerData: unknown; reportHeap: boolean }> {
  return new Promise((resolve) => {
    const onMessage = (message: { t?: unknown; workerData?: unknown; reportHeap?: unknown } | null) => {
      if (message?.t !== MSG_INIT) return;
      process.off('message', onMessage);
      resolve({ workerData: message.workerData, reportHeap: message.reportHeap === true });
    };
    process.on('message', onMessage);
    send({ t: MSG_INIT });
  });
}

try {
  const { workerData, reportHeap } = await init();
  const pipe: FramePipe = new FramePipe(new Socket({ fd: PIPE_FD, readable: true, writable: true }), {
    message(message) {
      if (typeof message === 'string' || Array.isArray(message)) return runtime.run(parseAnyBatch(message));
      if (isRecord(message) && message.t === MSG_RUN) return runtime.run(parseBatch(message.b));
      const control = parseControl(message);
      if (control?.t === MSG_DROP) runtime.drop(control.ids);
      else if (control !== undefined) runtime.reply(control.r);
    },
    // Only our own primary writes here: bytes that are not frames mean it is broken.
    fault: () => process.exit(1),
    // Our primary never closes its end while we run: it is gone, or the pipe is broken.
    closed: stop,
  });
  const post = (message: FromWorker | FlatResults | string) => pipe.send(message);
  const runtime = new WorkerRuntime(
    await loadTasks(href),
    { results: (r) => post(compactResults(r) ?? { t: MSG_RESULTS, r }), call: (c) => post({ t: MSG_CALL, c }) },
    reportHeap,
  );
  await (await loadHooks(href)).setup(workerData);
  send({ t: MSG_READY, names: runtime.names });
} catch (error) {
  // Exit only once the message is written: exiting right after send() can lose it.
  const message: FromWorker = { t: MSG_START_FAILED, error: serializeError(error) };
  process.send!(message, undefined, {}, () => process.exit(1));
}
