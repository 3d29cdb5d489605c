import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FailureLimiter, addressKey } from '../../lib/transport/failure-limiter.js';

function limiter(options: ConstructorParameters<typeof FailureLimiter>[0] = {}) {
  const clock = { now: 0 };
  return { clock, limiter: new FailureLimiter({ now: () => clock.now, ...options }) };
}

test('the first failures are free, then each attempt waits twice as long as the last', () => {
  const { limiter: l } = limiter({ freeFailures: 3, baseDelayMs: 100, maxDelayMs: 1000 });
  const delays: Array<number | undefined> = [];
  for (let i = 0; i < 9; i++) {
    const admission = l.admit('10.0.0.1');
    delays.push(admission?.delayMs);
    admission?.done();
    l.recordFailure('10.0.0.1');
  }
  assert.equal(delays, [0, 0, 0, 100, 200, 400, 800, undefined, undefined]);
  assert.is(l.admit('10.0.0.2')?.delayMs, 0, 'other addresses are unaffected');
});

test('only one throttled attempt per address at a time', () => {
  const { limiter: l } = limiter({ freeFailures: 1 });
  l.recordFailure('10.0.0.1');
  const first = l.admit('10.0.0.1');
  assert.is(first?.delayMs, 250);
  assert.is(l.admit('10.0.0.1'), undefined);
  first!.done();
  first!.done(); // idempotent: must not free a second slot
  const second = l.admit('10.0.0.1');
  assert.ok(second);
  assert.is(l.admit('10.0.0.1'), undefined);
});

test('an address quiet for the window starts afresh', () => {
  const { clock, limiter: l } = limiter({ freeFailures: 1, windowMs: 1000 });
  l.recordFailure('10.0.0.1');
  l.recordFailure('10.0.0.1');
  assert.is(l.admit('10.0.0.1')?.delayMs, 500);
  clock.now = 1001;
  assert.is(l.admit('10.0.0.1')?.delayMs, 0);
  assert.is(l.size, 0);
});

test('memory stays bounded: the oldest addresses are dropped first', () => {
  const { clock, limiter: l } = limiter({ maxAddresses: 100 });
  for (let i = 0; i < 10_000; i++) {
    clock.now = i;
    l.recordFailure(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  }
  assert.is(l.size, 100);
});

test('IPv4-mapped addresses count as IPv4, IPv6 by its /64', () => {
  assert.is(addressKey('::ffff:127.0.0.1'), '127.0.0.1');
  assert.is(addressKey('127.0.0.1'), '127.0.0.1');
  assert.is(addressKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.is(addressKey('2001:db8:1:2::ff'), '2001:db8:1:2::/64');
  assert.is(addressKey('2001:DB8::1%eth0'), '2001:db8:0:0::/64');
  assert.is(addressKey('::1'), '0:0:0:0::/64');
  const { limiter: l } = limiter({ freeFailures: 1 });
  l.recordFailure('2001:db8:1:2::1');
  assert.is(l.admit('2001:db8:1:2::2')?.delayMs, 250, 'a neighbour in the same /64 shares the count');
});

test.run();
