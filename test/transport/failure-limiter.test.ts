import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FailureLimiter, addressKey, type Admission } from '../../lib/transport/failure-limiter.js';

function limiter(options: ConstructorParameters<typeof FailureLimiter>[0] = {}) {
  const clock = { now: 0 };
  return { clock, limiter: new FailureLimiter({ now: () => clock.now, ...options }) };
}

test('the first failures are free, then each attempt waits twice as long, up to maxDelayMs, never refused', () => {
  const { clock, limiter: l } = limiter({ freeFailures: 3, baseDelayMs: 100, maxDelayMs: 1000 });
  const delays: Array<number | undefined> = [];
  for (let i = 0; i < 10; i++) {
    const admission = l.admit('10.0.0.1');
    delays.push(admission?.delayMs);
    clock.now += admission?.delayMs ?? 0; // the attempt is answered, then fails
    admission?.done();
    l.recordFailure('10.0.0.1');
  }
  assert.equal(delays, [0, 0, 0, 100, 200, 400, 800, 1000, 1000, 1000]);
  assert.is(l.admit('10.0.0.2')?.delayMs, 0, 'other addresses are unaffected');
});

test('one address guessing as fast as it may: one guess per maxDelayMs, as before', () => {
  const { clock, limiter: l } = limiter();
  let guesses = 0;
  while (clock.now < 600_000) {
    const admission = l.admit('10.0.0.1');
    if (!admission) {
      clock.now += 1;
      continue;
    }
    clock.now += admission.delayMs + 1;
    guesses++;
    admission.done();
    l.recordFailure('10.0.0.1');
  }
  // 5 free, then 250 + 500 + 1000 + 2000 ms, then one per 4 s
  assert.ok(guesses <= 5 + 4 + 600_000 / 4000, `${guesses} guesses in 10 minutes`);
});

test('the wait counts from the last failure: a good key behind a guessing address gets in within maxDelayMs of the guessing stopping', () => {
  const { clock, limiter: l } = limiter();
  for (let i = 0; i < 10; i++) {
    const admission = l.admit('127.0.0.1')!;
    clock.now += admission.delayMs + 5;
    admission.done();
    l.recordFailure('127.0.0.1');
  }
  const rightAway = l.admit('127.0.0.1')!;
  assert.ok(rightAway.delayMs <= 4000, `waits ${rightAway.delayMs} ms`);
  rightAway.done();
  clock.now += 3000;
  const later = l.admit('127.0.0.1')!;
  assert.ok(later.delayMs <= 1000, `waits ${later.delayMs} ms after 3 s of quiet`);
  later.done();
  clock.now += 1000;
  assert.is(l.admit('127.0.0.1')?.delayMs, 0);
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
  l.admit('10.0.0.1')!.done();
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

const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/**
 * Many addresses guessing in turn, 4000 attempts a second, each answered as soon as the
 * limiter lets it, for `seconds`; returns the guesses per second let through after the
 * first `warmup` seconds (in which each address may have its free attempts).
 */
function spread(l: FailureLimiter, clock: { now: number }, addresses: number, seconds: number, warmup: number) {
  let guesses = 0;
  const waiting: { at: number; address: string; admission: Admission }[] = [];
  for (let i = 0; clock.now < seconds * 1000; i++) {
    clock.now += 0.25; // 4000 attempts a second offered
    while (waiting.length > 0 && waiting[0].at <= clock.now) {
      const w = waiting.shift()!;
      w.admission.done();
      l.recordFailure(w.address);
      if (clock.now > warmup * 1000) guesses++;
    }
    const address = ip(i % addresses);
    const admission = l.admit(address);
    if (!admission) continue;
    waiting.push({ at: clock.now + admission.delayMs, address, admission });
    waiting.sort((a, b) => a.at - b.at);
  }
  return guesses / (seconds - warmup);
}

test('a global budget caps guesses from many addresses, also past the table size', () => {
  for (const addresses of [2048, 8192]) {
    const { clock, limiter: l } = limiter({ maxAddresses: 4096 });
    const perSecond = spread(l, clock, addresses, 40, 20);
    console.log(`${addresses} addresses: ${perSecond.toFixed(1)} guesses/s once each had its free attempts`);
    assert.ok(perSecond <= 21, `${addresses} addresses: ${perSecond} guesses/s`);
  }
});

test('addresses that never failed are not charged, even while the budget is spent', () => {
  const { clock, limiter: l } = limiter();
  for (let i = 0; i < 500; i++) l.recordFailure(ip(i));
  let closed = 0;
  for (let i = 0; i < 500; i++) if (!l.admit(ip(i))) closed++;
  assert.ok(closed > 300, `only ${closed} of 500 suspect attempts closed`);
  for (let i = 0; i < 100; i++) assert.is(l.admit(ip(10_000 + i))?.delayMs, 0);
  clock.now += 5000;
  assert.ok(l.admit(ip(1)), 'the budget refills');
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
