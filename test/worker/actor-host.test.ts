// The actors of one worker, driven with batches directly: what `pending` counts (a thread in
// atomics mode blocks only when it is 0), kept as actors change rather than walked.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorHost, type ActorClass } from '../../lib/worker/actor-host.js';
import { CALL, SPAWN, STOP, type Batch } from '../../lib/worker/batch.js';
import { ResultBuffer } from '../../lib/worker/result-buffer.js';

const gates: (() => void)[] = [];
const gate = () => new Promise<void>((resolve) => gates.push(resolve));
const openGates = () => gates.splice(0).forEach((open) => open());

class Waiter {
  wait(): Promise<string> {
    return gate().then(() => 'waited');
  }
  now(): string {
    return 'now';
  }
  stop(): Promise<void> {
    return gate();
  }
}

/** Lets the promises that settled run their reactions. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

function host(): ActorHost {
  const classes = new Map<string, ActorClass>([['Waiter', Waiter as unknown as ActorClass]]);
  return new ActorHost(classes, new ResultBuffer(() => {}));
}

const spawn = (actor: number): Batch => ({ base: actor, name: 'Waiter', args: [[]], actor, op: SPAWN });
const call = (actor: number, base: number, method: string): Batch => ({ base, name: method, args: [[]], actor, op: CALL });

test('pending counts the actors whose method awaits; their queued messages run after it, and idle actors count nothing', async () => {
  const actors = host();
  for (let id = 1; id <= 100; id++) actors.deliver(spawn(id));
  assert.is(actors.pending, 0, '100 idle actors');
  actors.deliver(call(1, 1_000, 'wait'));
  actors.deliver(call(1, 1_001, 'now'));
  actors.deliver(call(2, 1_002, 'wait'));
  assert.is(actors.pending, 2);
  openGates();
  await settle();
  assert.is(actors.pending, 0, 'both methods settled, and the queued one ran');
});

test('an async stop hook counts until it ends; a dropped actor counts until its method settles', async () => {
  const actors = host();
  actors.deliver(spawn(1));
  actors.deliver({ base: 2_000, name: 'stop', args: [[]], actor: 1, op: STOP });
  assert.is(actors.pending, 1, 'stopping');
  openGates();
  await settle();
  assert.is(actors.pending, 0, 'stopped');

  actors.deliver(spawn(3));
  actors.deliver(call(3, 3_000, 'wait'));
  actors.drop([3]); // its spawn entry: the actor is forgotten, its method still awaits
  assert.is(actors.pending, 1);
  openGates();
  await settle();
  assert.is(actors.pending, 0);
});

test.run();
