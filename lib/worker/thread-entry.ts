// The module piscina loads in each worker thread. The pool runs one task per thread,
// `serve`, which hands the thread a port of its own and returns: batches then come and
// results go on that port, served by the thread's event loop (piscina's own hand-off is
// not used, so the thread never blocks in Atomics.wait). So each thread has an identity
// (an actor can live in it), its async tasks overlap, and nothing is paid per batch
// beyond a postMessage.
import { workerData, threadId, type MessagePort } from 'node:worker_threads';
import { WorkerRuntime, loadTasks } from './runtime.js';
import { packResults, unpackBatch } from './thread-channel.js';
import { MSG_CALL, MSG_DROP, parseControl, THREAD_READY, type FromWorker, type ThreadReady } from './protocol.js';

const tasks = await loadTasks((workerData as { tasks: string }).tasks);

export default function serve({ port }: { port: MessagePort }): void {
  const runtime = new WorkerRuntime(tasks, {
    results(results) {
      const posted = packResults(results);
      port.postMessage(posted.message, posted.transfer);
    },
    call: (c) => port.postMessage({ t: MSG_CALL, c } satisfies FromWorker),
  });
  port.on('message', (message: unknown) => {
    const control = parseControl(message);
    if (control === undefined) runtime.run(unpackBatch(message));
    else if (control.t === MSG_DROP) runtime.drop(control.ids);
    else runtime.reply(control.r);
  });
  port.postMessage({ t: THREAD_READY, names: runtime.names, threadId } satisfies ThreadReady);
}
