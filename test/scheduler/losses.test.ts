// The loss policy on its own: why each lost task was lost, and what becomes of it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ResourceLimitError, WorkerLostError } from '../../lib/errors.js';
import { fates, lossReasons } from '../../lib/scheduler/losses.js';
import { Task, type Stamp } from '../../lib/scheduler/task.js';

const enqueued: Stamp = { at: 0 };

function task(dispatched: Stamp, async = false): Task {
  const t = new Task('job', [], enqueued, undefined, false);
  t.dispatched = dispatched;
  t.async = async;
  return t;
}

test('a sequential worker that died: only its oldest batch and awaiting tasks are charged', () => {
  const first: Stamp = { at: 1 };
  const second: Stamp = { at: 2 };
  const lost = [task(second), task(first), task(first), task(second, true)];
  assert.equal(lossReasons(lost, 'died', true), ['stopped', 'died', 'died', 'died']);
  // Threads and agents run batches side by side: every task is charged.
  assert.equal(lossReasons(lost, 'died', false), ['died', 'died', 'died', 'died']);
  assert.equal(lossReasons(lost, 'stopped', true), ['stopped', 'stopped', 'stopped', 'stopped']);
});

test('a died task runs again alone until its retries are spent, then fails with WorkerLostError', () => {
  const crash = new Error('worker crashed');
  const t = task({ at: 1 });
  assert.equal(fates([t], ['died'], crash, 1), ['retry']);
  assert.ok(t.solo && t.suspect, 'it runs alone from now on');
  const [last] = fates([t], ['died'], crash, 1);
  assert.instance(last, WorkerLostError);
  assert.is((last as WorkerLostError).cause, crash);
  assert.is(t.attempts, 2);
});

test('a stopped task runs again at no charge; a solo task that must be isolated again fails', () => {
  const error = new Error('stopped');
  const stopped = task({ at: 1 });
  assert.equal(fates([stopped], ['stopped'], error, 0), ['again']);
  assert.is(stopped.attempts, 0);
  assert.not.ok(stopped.solo);
  const plain = task({ at: 1 });
  assert.equal(fates([plain], ['isolate'], error, 0), ['again']);
  assert.ok(plain.solo && !plain.suspect, 'isolated, not suspected');
  assert.equal(fates([plain], ['isolate'], error, 0), [error]);
});

test('resource limits: one suspect fails with them, several each run again alone at no charge', () => {
  const limit = new ResourceLimitError('the worker ran out of memory');
  const alone = task({ at: 1 });
  assert.equal(fates([alone], ['died'], limit, 5), [limit]);
  const pair = [task({ at: 1 }), task({ at: 1 })];
  assert.equal(fates(pair, ['died', 'died'], limit, 0), ['again', 'again']);
  assert.ok(pair.every((t) => t.solo && t.attempts === 0));
});

test.run();
