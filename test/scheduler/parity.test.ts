// The scheduler's side of recycling, sizing, resource limits and progress, on fake backends.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Batch } from '../../lib/backends/types.js';
import { Recycling } from '../../lib/backends/recycling.js';
import { ResourceLimitError } from '../../lib/errors.js';
import { entryCount } from '../../lib/worker/batch.js';
import { FakeBackend, flush, makeScheduler, track } from './fake-backend.js';

/** A backend due to be recycled after `budget` tasks, as thread and process backends are. */
class RecyclingFake extends FakeBackend {
  readonly recycling: Recycling;
  retired = 0;

  constructor(budget: number) {
    super();
    this.recycling = new Recycling({ maxTasksPerWorker: budget, maxMemoryPerWorker: Infinity });
  }

  override dispatch(batch: Batch): void {
    super.dispatch(batch);
    this.recycling.dispatched(entryCount(batch));
    if (this.recycling.due) this.ready = false;
  }

  retire(): void {
    this.retired++;
  }
}

test('a backend with a task budget is sent no more than it, and retired only once it holds none', async () => {
  const fake = new RecyclingFake(3);
  const s = makeScheduler({}, fake);
  const tracked = Array.from({ length: 10 }, (_, i) => track(s.submit('id', [i])));
  await flush();
  assert.is(fake.sent.length, 3, 'the budget caps what is sent');
  const [a, b, c] = fake.pendingIds;
  fake.ok([[a, 'a'], [b, 'b']]);
  assert.is(fake.retired, 0, 'not while it holds a task');
  fake.ok([[c, 'c']]);
  assert.is(fake.retired, 1, 'retired once empty');
  assert.is(s.stats().queued, 7, 'the rest wait for its replacement');
  const next = new FakeBackend();
  s.attach(next);
  next.answerAll();
  await flush();
  assert.ok(tracked.every((t) => t.state === 'resolved'), 'no task lost');
});

test('a worker over its resource limits: one unfinished task fails; several run again alone, free', async () => {
  const fake = new FakeBackend();
  const s = makeScheduler({ retries: 0 }, fake);
  const tracked = [1, 2, 3].map((i) => track(s.submit('id', [i])));
  await flush();
  // The first went out alone at once; 2 and 3 travel together behind it.
  assert.equal(fake.batches.map((b) => b.tasks.length), [1, 2]);
  fake.ok([[fake.batches[0].tasks[0].id, 1]]);
  fake.exit('died', new ResourceLimitError('out of heap'));
  const next = new FakeBackend();
  s.attach(next);
  await flush();
  assert.equal(next.batches.map((b) => b.tasks.length), [1], 'two suspects: one at a time');
  next.answerAll();
  await flush();
  assert.equal(next.batches.map((b) => b.tasks.length), [1, 1]);
  next.lose(next.pendingIds, 'died', new ResourceLimitError('out of heap'));
  await flush();
  assert.equal(tracked.map((t) => t.state), ['resolved', 'resolved', 'rejected']);
  assert.is(tracked[2].error!.code, 'ERR_TROUPE_RESOURCE_LIMIT');
  assert.is(s.stats().retried, 0, 'no attempt charged (with retries: 0 one would have failed them)');
});

test('onDemand hears how many tasks wait with no room; retirable() only for a slot idle long enough', async () => {
  const demands: number[] = [];
  const fake = new FakeBackend({ capacity: 2 });
  const s = makeScheduler({ onDemand: (waiting) => demands.push(waiting) }, fake);
  assert.ok(s.retirable(fake, 0), 'idle from the start');
  [1, 2, 3, 4, 5].map((i) => track(s.submit('id', [i])));
  await flush();
  assert.is(demands.at(-1), 3, 'three tasks beyond the backend\'s room');
  assert.not.ok(s.retirable(fake, 0), 'not while it holds tasks');
  fake.answerAll();
  fake.answerAll();
  fake.answerAll();
  await flush();
  assert.ok(s.retirable(fake, 0));
  assert.not.ok(s.retirable(fake, 60_000), 'not idle for a minute yet');
  assert.not.ok(s.retirable(new FakeBackend(), 0), 'a backend it does not know');
});

test('progress reports reach onProgress, the latest of a burst, and the last before the outcome', async () => {
  const fake = new FakeBackend();
  const s = makeScheduler({}, fake);
  const seen: unknown[] = [];
  const result = s.submit('id', [1], { onProgress: (value) => void seen.push(value) }).then((value) => seen.push(`=${value}`));
  await flush();
  const [id] = fake.pendingIds;
  const host = fake.host!;
  host.results(fake, { base: 0, values: [], busy: 0, run: 0, progress: [[id, 1]] });
  host.results(fake, { base: 0, values: [], busy: 0, run: 0, progress: [[id, 2]] });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(seen, [2], 'a burst: the latest');
  host.results(fake, { base: 0, values: [], busy: 0, run: 0, progress: [[id, 3], [id + 99, 'stranger']] });
  fake.ok([[id, 'done']]);
  await result;
  assert.equal(seen, [2, 3, '=done'], 'the last report before the outcome, nothing after');
});

test.run();
