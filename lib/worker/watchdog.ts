// Imported first by a worker process: ends the process within ~100 ms of its primary's death.
// The IPC channel's 'disconnect' already does that for an idle worker, but a worker busy in a
// CPU-bound task never gets to see its channel close, and would run on, orphaned, until its
// batch ends. A tiny thread does not depend on that busy event loop: it watches the parent
// pid, which changes (to init or a subreaper) once the primary is gone. Only where the primary
// has no reaper (backends/reaper.ts, which needs /bin/sh): a thread costs ~9 MiB per process.
import { Worker } from 'node:worker_threads';
import { REAPED_ENV } from './protocol.js';

const POLL_MS = 100;

const WATCH = `
const { workerData } = require('node:worker_threads');
setInterval(() => {
  if (process.ppid !== workerData) process.kill(process.pid, 'SIGKILL');
}, ${POLL_MS});
`;

if (process.send !== undefined && process.env[REAPED_ENV] !== '1') {
  // No flags: the watchdog needs no loader, and must start fast and small.
  const watchdog = new Worker(WATCH, { eval: true, execArgv: [], workerData: process.ppid });
  // It must never keep the worker alive, nor take it down if it fails.
  watchdog.unref();
  watchdog.on('error', () => {});
}
