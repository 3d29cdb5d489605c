// The module piscina loads in each worker thread. The pool runs one task per thread,
// `serve`, which hands the thread a port of its own and returns: batches then come and
// results go on that port, served by the thread's event loop (piscina's own hand-off is
// not used, so the thread never blocks in Atomics.wait). So each thread has an identity
// (an actor can live in it), its async tasks overlap, and nothing is paid per batch
// beyond a postMessage.
import { receiveMessageOnPort, workerData, threadId, type MessagePort } from 'node:worker_threads';
import { loadHooks } from './hooks.js';
import { WorkerRuntime, loadTasks } from './runtime.js';
import { packResults, unpackBatch } from './thread-channel.js';
import {
  isControl, manyOf, MSG_CALL, MSG_DROP, parseControl, THREAD_READY, THREAD_STOP, THREAD_STOPPED, type FromWorker, type ThreadReady,
} from './protocol.js';

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

/** `wake`, with atomics: 'sync': the pool counts up its slot 0 and notifies it after each message. */
export default function serve({ port, wake }: { port: MessagePort; wake?: Int32Array }): void {
  let stopping = false;
  let blocking = false;
  const runtime = new WorkerRuntime(
    tasks,
    {
      results(results) {
        const posted = packResults(results);
        port.postMessage(posted.message, posted.transfer);
        // The last awaited task settled: the thread may block again.
        if (wake !== undefined && runtime.pending === 0) waitSoon();
      },
      call: (c) => port.postMessage({ t: MSG_CALL, c } satisfies FromWorker),
    },
    data.reportHeap,
  );
  const handle = (message: unknown, flush = true): void => {
    if (isControl(message, THREAD_STOP)) {
      stopping = true;
      void stop(port);
      return;
    }
    const many = manyOf(message);
    if (many !== undefined) {
      for (const one of many) handle(one, false);
      runtime.answer();
      return;
    }
    const control = parseControl(message);
    if (control === undefined) runtime.run(unpackBatch(message), flush);
    else if (control.t === MSG_DROP) runtime.drop(control.ids);
    else runtime.reply(control.r);
  };
  port.on('message', handle);
  port.postMessage({ t: THREAD_READY, names: runtime.names, threadId } satisfies ThreadReady);
  if (wake === undefined) return;

  // atomics: 'sync'. Block in Atomics.wait while idle and take messages straight off the
  // port; after each batch, one turn of the event loop (timers, I/O) before blocking again.
  // Not while awaited tasks are pending: their promises need the event loop.
  function waitSoon(): void {
    if (blocking) return;
    blocking = true;
    setImmediate(idle);
  }
  function idle(): void {
    blocking = false;
    if (stopping || runtime.pending > 0) return;
    for (;;) {
      const seen = Atomics.load(wake!, 0);
      const received = receiveMessageOnPort(port);
      if (received !== undefined) {
        handle(received.message);
        for (let more = receiveMessageOnPort(port); more !== undefined; more = receiveMessageOnPort(port)) handle(more.message);
        if (runtime.pending === 0) waitSoon();
        return;
      }
      // A message posted after the check above has counted `wake` up: the wait returns at once.
      Atomics.wait(wake!, 0, seen);
    }
  }
  waitSoon();
}

/** teardown() before a stop on purpose; the pool bounds how long it waits for it. */
async function stop(port: MessagePort): Promise<void> {
  try {
    await hooks.teardown();
  } finally {
    port.postMessage({ t: THREAD_STOPPED });
  }
}
