// Worker processes busy in a CPU-bound task leave within ~1 s of their primary's death:
// the primary's reaper shell (lib/backends/reaper.ts) does not need their busy event loops.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fixture, lineMatching, pidAlive, startNode, waitFor, waitGone } from './helpers.js';

/** CPU time a process has used, in clock ticks (user + system, /proc/<pid>/stat). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test(`${signal} to the primary: its workers, busy in a CPU-bound task, are gone within 1.5 s`, async () => {
    const child = startNode(['--import', 'tsx', fixture('e2e-busy-primary.ts').pathname]);
    let pids: number[] = [];
    try {
      const [, json] = await lineMatching(child, /^pids (\[.*\])$/, 30_000);
      pids = JSON.parse(json) as number[];
      assert.is(pids.length, 2);
      // Busy for real: each worker has spent a third of a second of CPU on its task.
      const start = pids.map(cpuTicks);
      await waitFor(() => pids.every((pid, i) => cpuTicks(pid) - start[i] >= 30), 10_000, 'both workers to be busy', 20);
      child.kill(signal);
      // Its exit, not its output's end: orphans would hold the inherited stdout open.
      await waitFor(() => child.exitCode !== null || child.signalCode !== null, 5_000, 'the killed primary to exit');
      await waitGone(pids, 1_500, 'worker processes of the dead primary');
    } finally {
      child.kill('SIGKILL');
      for (const pid of pids.filter(pidAlive)) process.kill(pid, 'SIGKILL');
    }
  });
}

test.run();
