// The reaper's shell program (lib/backends/reaper.ts) on its own: what it was told to watch
// dies once its pipe closes; what it was told has exited is left alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { REAPER_SCRIPT } from '../../lib/backends/reaper.js';
import { pidAlive } from '../support/processes.js';
import { waitFor } from '../e2e/helpers.js';

function sleeper(): ChildProcess {
  return spawn('sleep', ['60'], { stdio: 'ignore' });
}

test('after the pipe closes, the pids still listed are SIGKILLed; one withdrawn with -pid is not', async () => {
  const [kept, killed, alsoKilled] = [sleeper(), sleeper(), sleeper()];
  const reaper = spawn('/bin/sh', ['-c', REAPER_SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'] });
  const killedExit = once(killed, 'exit');
  const reaperExit = once(reaper, 'exit');
  try {
    reaper.stdin!.end(`+${kept.pid}\n+${killed.pid}\n+${alsoKilled.pid}\n-${kept.pid}\n-999999999\n`);
    const started = Date.now();
    await waitFor(() => !pidAlive(killed.pid!) && !pidAlive(alsoKilled.pid!), 5_000, 'the listed sleepers to be killed');
    // Not before the grace the workers get for their teardown.
    assert.ok(Date.now() - started >= 400, `killed after ${Date.now() - started} ms`);
    const [, signal] = await killedExit;
    assert.is(signal, 'SIGKILL');
    await reaperExit;
    assert.ok(pidAlive(kept.pid!), 'the withdrawn pid is alive');
  } finally {
    for (const child of [kept, killed, alsoKilled, reaper]) child.kill('SIGKILL');
  }
});

test('with nothing listed it exits at once when the pipe closes', async () => {
  const reaper = spawn('/bin/sh', ['-c', REAPER_SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = once(reaper, 'exit');
  const started = Date.now();
  reaper.stdin!.end();
  const [code] = await exited;
  assert.is(code, 0);
  assert.ok(Date.now() - started < 400, `exited after ${Date.now() - started} ms`);
});

test.run();
