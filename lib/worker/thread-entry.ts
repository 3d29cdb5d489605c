// The module piscina loads in each worker thread. The pool runs one task per thread,
// `serve`, which hands the thread a port of its own and returns: batches then come and
// results go on that port, served by the thread's event loop (piscina's own hand-off is
// not used, so the thread never blocks in Atomics.wait). So each thread has an identity
// (an actor can live in it), its async tasks overlap, and nothing is paid per batch
// beyond a postMessage.
import { workerData, threadId, type MessagePort } from 'node:worker_threads';
import { loadHooks } from './hooks.js';
import { WorkerRuntime, loadTasks } from './runtime.js';
import { packResults, unpackBatch } from './thread-channel.js';
import { isControl, THREAD_READY, THREAD_STOP, THREAD_STOPPED, type ThreadReady } from './protocol.js';

export interface ThreadData {
  tasks: string;
  workerData: unknown;
  /** Results say how large the heap is (maxMemoryPerWorker). */
  reportHeap: boolean;
}

const data = workerData as ThreadData;
const tasks = await loadTasks(data.tasks);
const hooks = await loadHooks(data.tasks);
// Before the thread says it is ready: a setup that throws fails the start, as a module that throws does.
await hooks.setup(data.workerData);

export default function serve({ port }: { port: MessagePort }): void {
  const runtime = new WorkerRuntime(tasks, (results) => {
    const posted = packResults(results);
    port.postMessage(posted.message, posted.transfer);
  }, data.reportHeap);
  port.on('message', (message: unknown) => {
    if (isControl(message, THREAD_STOP)) void stop(port);
    else runtime.run(unpackBatch(message));
  });
  port.postMessage({ t: THREAD_READY, names: runtime.names, threadId } satisfies ThreadReady);
}

/** teardown() before a stop on purpose; the pool bounds how long it waits for it. */
async function stop(port: MessagePort): Promise<void> {
  try {
    await hooks.teardown();
  } finally {
    port.postMessage({ t: THREAD_STOPPED });
  }
}
