// Actors on worker threads and worker processes: messages in order, one at a time, errors,
// prototype keys, mailbox bounds, signal and timeout, names, stop hooks, close and destroy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ActorInfo } from '../../lib/index.js';
import { fixture, MODES, poolEvent, rejection, within, withPool } from './helpers.js';

const ACTORS = { tasks: fixture('actor-tasks.js') };

type CounterClass = typeof import('../fixtures/actor-tasks.js');

for (const mode of MODES) {
  test(`${mode}: spawn, call, tell, lookup by name, the typed form, stop`, () =>
    withPool(mode, ACTORS, async (pool) => {
      const started: ActorInfo[] = [];
      pool.on('actorStart', (info) => started.push(info));
      const c = await pool.spawn('Counter', [10], { name: 'c1' });
      assert.is(c.name, 'c1');
      assert.is(await c.call('inc', [1]), 11);
      c.tell('inc', [5]);
      assert.is(await c.call('get'), 16);
      assert.is(await pool.actor('c1').call('get'), 16);
      assert.equal(started.map((s) => [s.name, s.className]), [['c1', 'Counter']]);
      assert.match(started[0].worker!, new RegExp(`^${mode}-`));

      const t = pool.actors<CounterClass>();
      const c2 = await t.Counter.spawn([5]);
      assert.is(await c2.inc(2), 7);
      assert.is(await t.Counter.named('c1').get(), 16);
      assert.is(c2.ref.name, undefined);

      const stopped = poolEvent(pool, 'actorStop', 10_000);
      await c.stop();
      const [info, error] = await stopped;
      assert.is(info.name, 'c1');
      assert.is(error, undefined);
      await rejection(c.call('get'), 'ERR_TROUPE_ACTOR_STOPPED');
      await rejection(pool.actor('c1').call('get'), 'ERR_TROUPE_ACTOR_NOT_FOUND');
      // The name is free again.
      const again = await pool.spawn('Counter', [1], { name: 'c1' });
      assert.is(await pool.actor('c1').call('get'), 1);
      await again.stop();
    }));

  test(`${mode}: 1,000 concurrent calls and tells from one sender run in the order sent`, () =>
    withPool(mode, ACTORS, async (pool) => {
      const c = await pool.spawn('Counter', [0]);
      const calls: Promise<unknown>[] = [];
      for (let i = 1; i <= 1_000; i++) {
        if (i % 3 === 0) c.tell('inc', [i]);
        else calls.push(c.call('inc', [i]));
      }
      await within(Promise.all(calls), 20_000, '1,000 messages');
      assert.equal(await c.call('log'), Array.from({ length: 1_000 }, (_, i) => i + 1));
    }));

  test(`${mode}: an async method is awaited before the next message; other actors in the worker go on meanwhile`, () =>
    withPool(mode, { ...ACTORS, size: 1 }, async (pool) => {
      const a = await pool.spawn('Counter', [0]);
      const b = await pool.spawn('Counter', [100]);
      const order: string[] = [];
      const slow = a.call('slowInc', [300]).then(() => order.push('a.slowInc'));
      const next = a.call('inc', [1]).then(() => order.push('a.inc'));
      const other = b.call('inc', [1]).then(() => order.push('b.inc'));
      const task = pool.run('square', [3]).then(() => order.push('task'));
      await within(Promise.all([slow, next, other, task]), 10_000, 'the messages');
      assert.equal(order.slice(2), ['a.slowInc', 'a.inc']);
      assert.equal(new Set(order.slice(0, 2)), new Set(['b.inc', 'task']));
      assert.equal(await a.call('log'), ['slow300', 1]);
    }));

  test(`${mode}: a method that throws rejects its call and the actor lives on; spawn errors`, () =>
    withPool(mode, ACTORS, async (pool) => {
      const c = await pool.spawn('Counter', [1], { name: 'x' });
      const error = await within(c.call('fail', ['no']).then(() => undefined, (e: Error) => e), 10_000, 'the failing call');
      assert.instance(error, TypeError);
      assert.is(error!.message, 'no');
      assert.is(await c.call('inc'), 2);
      const ctor = await within(pool.spawn('Explodes', ['bad start']).then(() => undefined, (e: Error) => e), 10_000, 'the spawn');
      assert.instance(ctor, RangeError);
      assert.is(ctor!.message, 'bad start');
      await rejection(pool.spawn('Missing'), 'ERR_TROUPE_ACTOR_CLASS');
      await rejection(pool.spawn('square'), 'ERR_TROUPE_ACTOR_CLASS');
      await rejection(pool.spawn('Counter', [], { name: 'x' }), 'ERR_TROUPE_ACTOR_NAME_TAKEN');
      await rejection(pool.run('Counter', []), 'ERR_TROUPE_UNKNOWN_TASK');
      await rejection(pool.spawn('Counter', [], { mailbox: 0 }), 'ERR_TROUPE_INVALID_OPTION');
      await rejection(pool.spawn('Counter', [], { place: 'far' as never }), 'ERR_TROUPE_INVALID_OPTION');
      await rejection(pool.spawn('Counter', [], { restart: { max: -1, withinMs: 1 } }), 'ERR_TROUPE_INVALID_OPTION');
      await rejection(c.call('inc', [1], { timeout: -5 }), 'ERR_TROUPE_INVALID_OPTION');
      await rejection(c.call(7 as never), 'ERR_TROUPE_INVALID_ARGUMENT');
      assert.throws(() => c.tell('inc', 'x' as never), /args must be an array/);
    }));

  test(`${mode}: only the class's own methods may be called: prototype keys reject with ERR_TROUPE_ACTOR_METHOD`, () =>
    withPool(mode, ACTORS, async (pool) => {
      const d = await pool.spawn('Derived');
      assert.is(await d.call('own'), 'own');
      assert.is(await d.call('base'), 'base');
      for (const key of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'stop', 'nope']) {
        await rejection(d.call(key), 'ERR_TROUPE_ACTOR_METHOD');
      }
      assert.is(await d.call('own'), 'own');
    }));

  test(`${mode}: a full mailbox rejects, or waits with overflow: 'wait'`, () =>
    withPool(mode, ACTORS, async (pool) => {
      const c = await pool.spawn('Counter', [0], { mailbox: 2 });
      const first = c.call('slowInc', [200]);
      const second = c.call('inc', [1]);
      await rejection(c.call('inc', [1]), 'ERR_TROUPE_ACTOR_MAILBOX_FULL');
      await within(Promise.all([first, second]), 10_000, 'the first two');
      assert.is(await c.call('get'), 2);

      const w = await pool.spawn('Counter', [0], { mailbox: 2, overflow: 'wait' });
      const all = Array.from({ length: 50 }, (_, i) => w.call('inc', [i + 1]));
      await within(Promise.all(all), 10_000, 'fifty calls through a mailbox of two');
      assert.equal(await w.call('log'), Array.from({ length: 50 }, (_, i) => i + 1));
    }));

  test(`${mode}: a worker holds at most 64 actor entries per unit of maxInFlight: more messages wait their turn, in order`, () =>
    withPool(mode, { ...ACTORS, size: 1, maxInFlight: 1 }, async (pool) => {
      const actors = await Promise.all(Array.from({ length: 3 }, () => pool.spawn('Counter', [0])));
      const calls = actors.flatMap((a) => Array.from({ length: 300 }, (_, i) => a.call('inc', [i + 1])));
      await within(Promise.all(calls), 20_000, '900 calls through a credit of 64');
      for (const a of actors) assert.equal(await a.call('log'), Array.from({ length: 300 }, (_, i) => i + 1));
    }));

  test(`${mode}: a call's timeout or signal stops the wait and drops the message if it has not started; the worker goes on`, () =>
    withPool(mode, { ...ACTORS, size: 1 }, async (pool) => {
      const c = await pool.spawn('Counter', [0]);
      const before = await c.call<{ pid: number; threadId: number }>('where');
      const slow = c.call('slowInc', [400]);
      await rejection(c.call('inc', [100], { timeout: 50 }), 'ERR_TROUPE_TIMEOUT');
      const controller = new AbortController();
      const aborted = c.call('inc', [1_000], { signal: controller.signal });
      controller.abort();
      await rejection(aborted, 'ERR_TROUPE_ABORTED');
      await within(slow, 10_000, 'the slow call');
      assert.is(await c.call('get'), 1, 'neither dropped message ran');
      assert.equal(await c.call('where'), before, 'the worker was not replaced');
    }));

  test(`${mode}: tasks and actors call actors by name; a call that would wait on itself rejects at once`, () =>
    withPool(mode, ACTORS, async (pool) => {
      await pool.spawn('Counter', [0], { name: 'counter' });
      const relay = await pool.spawn('Relay', [], { name: 'relay' });
      assert.is(await relay.call('forward', ['counter', 'inc', [5]]), 5);
      assert.is(await pool.run('bump', ['counter', 2]), 7);
      assert.is(await relay.call('tellTo', ['counter', 'inc', [1]]), 'sent');
      assert.is(await relay.call('forward', ['counter', 'get', []]), 8);
      await rejection(relay.call('forward', ['nobody', 'get', []]), 'ERR_TROUPE_ACTOR_NOT_FOUND');
      await rejection(relay.call('self', ['relay']), 'ERR_TROUPE_ACTOR_DEADLOCK');
      await pool.spawn('Ping', [], { name: 'ping' });
      await pool.spawn('Pong', [], { name: 'pong' });
      await rejection(pool.actor('ping').call('ping', ['ping', 'pong']), 'ERR_TROUPE_ACTOR_DEADLOCK');
      assert.is(await pool.actor('ping').call('hello'), 'hello');
    }));

  test(`${mode}: a failed tell is emitted as actorError`, () =>
    withPool(mode, ACTORS, async (pool) => {
      const c = await pool.spawn('Counter', [0], { name: 'teller' });
      const failed = poolEvent(pool, 'actorError', 10_000);
      c.tell('fail', ['told']);
      const [info, failure] = await failed;
      assert.is(info.name, 'teller');
      assert.is(failure.method, 'fail');
      assert.is(failure.error.message, 'told');
      const missing = poolEvent(pool, 'actorError', 10_000);
      pool.actor('nobody').tell('inc');
      assert.is(((await missing)[1].error as Error & { code?: string }).code, 'ERR_TROUPE_ACTOR_NOT_FOUND');
    }));

  test(`${mode}: the stop() hook is awaited; close() drains mailboxes first; destroy() rejects what is pending`, async () => {
    await withPool(mode, { ...ACTORS, size: 1 }, async (pool) => {
      const s = await pool.spawn('Stoppable');
      assert.is(await s.call('ping'), 'pong');
      await s.stop();
      const probe = await pool.spawn('Stoppable');
      assert.is(await probe.call('stops'), 1, 'the hook ran, in the same worker');
    });
    await withPool(mode, ACTORS, async (pool) => {
      const c = await pool.spawn('Counter', [0]);
      const calls = Array.from({ length: 20 }, () => c.call('slowInc', [5]));
      const stops = poolEvent(pool, 'actorStop', 10_000);
      await within(pool.close(), 10_000, 'close()');
      assert.equal(await Promise.all(calls), Array.from({ length: 20 }, (_, i) => i + 1));
      await stops;
      await rejection(pool.spawn('Counter'), 'ERR_TROUPE_CLOSED');
      await rejection(c.call('get'), 'ERR_TROUPE_CLOSED');
    });
    await withPool(mode, ACTORS, async (pool) => {
      const c = await pool.spawn('Counter', [0]);
      const sent = c.call('slowInc', [5_000]);
      await new Promise((resolve) => setImmediate(resolve));
      const unsent = c.call('slowInc', [5_000]);
      const outcomes = [rejection(sent, 'ERR_TROUPE_DESTROYED'), rejection(unsent, 'ERR_TROUPE_DESTROYED')];
      await pool.destroy();
      await Promise.all(outcomes);
    });
  });
}

test.run();
