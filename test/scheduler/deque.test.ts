import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Deque } from '../../lib/scheduler/deque.js';

function drain<T>(d: Deque<T>): T[] {
  const out: T[] = [];
  for (let item = d.shift(); item !== undefined; item = d.shift()) out.push(item);
  return out;
}

test('an empty deque has length 0 and shift/peek give undefined', () => {
  const d = new Deque<number>();
  assert.is(d.length, 0);
  assert.is(d.shift(), undefined);
  assert.is(d.peek(), undefined);
});

test('push/shift is first in, first out; peek does not remove', () => {
  const d = new Deque<number>();
  d.push(1);
  d.push(2);
  d.push(3);
  assert.is(d.length, 3);
  assert.is(d.peek(), 1);
  assert.is(d.length, 3);
  assert.equal(drain(d), [1, 2, 3]);
  assert.is(d.length, 0);
});

test('unshift puts items at the front, on an empty deque too', () => {
  const d = new Deque<string>();
  d.unshift('b');
  d.unshift('a');
  d.push('c');
  assert.is(d.peek(), 'a');
  assert.equal(drain(d), ['a', 'b', 'c']);
});

test('push past the initial capacity grows and keeps order', () => {
  const d = new Deque<number>();
  for (let i = 0; i < 100; i++) d.push(i);
  assert.is(d.length, 100);
  assert.equal(drain(d), Array.from({ length: 100 }, (_, i) => i));
});

test('unshift past the initial capacity grows and keeps order', () => {
  const d = new Deque<number>();
  for (let i = 0; i < 40; i++) d.unshift(i);
  assert.is(d.length, 40);
  assert.equal(drain(d), Array.from({ length: 40 }, (_, i) => 39 - i));
});

test('wrap-around: items stored across the end of the ring come out in order, and survive a grow', () => {
  const d = new Deque<number>();
  for (let i = 0; i < 10; i++) d.push(i);
  for (let i = 0; i < 8; i++) assert.is(d.shift(), i);
  // head is at 8 of 16: these wrap past the end of the ring.
  for (let i = 10; i < 24; i++) d.push(i);
  assert.is(d.length, 16);
  // Full and wrapped: the next push grows, which must unwrap in order.
  d.push(24);
  d.unshift(7);
  assert.equal(drain(d), Array.from({ length: 18 }, (_, i) => i + 7));
});

test('unshift wraps below index 0 and grows when full', () => {
  const d = new Deque<number>();
  for (let i = 1; i <= 16; i++) d.push(i); // full, head 0
  d.unshift(0); // grows, then wraps the head to the end of the new ring
  d.unshift(-1);
  assert.is(d.length, 18);
  assert.equal(drain(d), Array.from({ length: 18 }, (_, i) => i - 1));
});

test('clear empties it and returns the items in order; it stays usable', () => {
  const d = new Deque<number>();
  for (let i = 0; i < 20; i++) d.push(i);
  d.unshift(-1);
  assert.equal(d.clear(), Array.from({ length: 21 }, (_, i) => i - 1));
  assert.is(d.length, 0);
  d.push(5);
  assert.is(d.shift(), 5);
});

test('matches an array under a long random mix of push/unshift/shift', () => {
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const d = new Deque<number>();
  const model: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const r = random();
    if (r < 0.4) {
      d.push(i);
      model.push(i);
    } else if (r < 0.6) {
      d.unshift(i);
      model.unshift(i);
    } else {
      assert.is(d.shift(), model.shift());
    }
    assert.is(d.length, model.length);
    assert.is(d.peek(), model[0]);
  }
  assert.equal(d.clear(), model);
});

test('take(i) leaves a hole that keeps other indices valid; shift, peek and trim skip holes', () => {
  const d = new Deque<number>();
  for (let i = 0; i < 6; i++) d.push(i);
  assert.is(d.take(2), 2);
  assert.is(d.take(0), 0);
  assert.is(d.at(3), 3, 'indices unchanged by the holes');
  assert.is(d.at(2), undefined);
  d.trim();
  assert.is(d.peek(), 1);
  assert.equal(drain(d), [1, 3, 4, 5]);
});

test('compact keeps what it is told to, in order, and drops the holes', () => {
  const d = new Deque<number>();
  for (let i = 0; i < 40; i++) d.push(i);
  for (let i = 0; i < 40; i += 3) d.take(i);
  d.compact((n) => n % 2 === 0);
  assert.equal(drain(d), Array.from({ length: 40 }, (_, i) => i).filter((n) => n % 3 !== 0 && n % 2 === 0));
});

test.run();
