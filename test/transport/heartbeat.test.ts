import { execFile } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Heartbeat, type HeartbeatTarget } from '../../lib/transport/heartbeat.js';
import { within } from './helpers.js';

const INTERVAL = 20;
const TIMEOUT = 80;

function fake(onPing: (hb: Heartbeat) => void = () => {}, now?: () => number) {
  let heartbeat!: Heartbeat;
  const calls = { pings: 0, dead: [] as number[], stalls: [] as number[], deadAt: 0 };
  let resolveDead!: () => void;
  const dead = new Promise<void>((resolve) => (resolveDead = resolve));
  const target: HeartbeatTarget = {
    sendPing: () => {
      calls.pings++;
      onPing(heartbeat);
    },
    onDead: (silentMs, ownStallMs) => {
      calls.dead.push(silentMs);
      calls.stalls.push(ownStallMs);
      calls.deadAt = performance.now();
      resolveDead();
    },
  };
  heartbeat = new Heartbeat(target, { intervalMs: INTERVAL, timeoutMs: TIMEOUT, now });
  return { heartbeat, calls, dead };
}

/** Waits for `ms` of heartbeat activity; a bounded observation window, not a synchronisation. */
const observe = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a silent peer is declared dead within timeoutMs (plus timer slack), once', async () => {
  const { heartbeat, calls, dead } = fake();
  const started = performance.now();
  heartbeat.start();
  try {
    await within(dead, TIMEOUT + 200, 'onDead');
    const elapsed = calls.deadAt - started;
    assert.ok(elapsed >= TIMEOUT - 1, `declared dead after only ${elapsed} ms`);
    assert.ok(elapsed < TIMEOUT + 100, `declared dead after ${elapsed} ms`);
    assert.ok(calls.pings >= 2, 'it pinged while waiting');
    await observe(3 * INTERVAL);
    assert.is(calls.dead.length, 1);
    assert.not.ok(heartbeat.running);
  } finally {
    heartbeat.stop();
  }
});

test('a peer that answers pings stays alive across many intervals', async () => {
  const { heartbeat, calls } = fake((hb) => setTimeout(() => hb.touch(), 2));
  heartbeat.start();
  try {
    await observe(TIMEOUT * 4);
    assert.is(calls.dead.length, 0);
    assert.ok(calls.pings >= 8, `only ${calls.pings} pings`);
  } finally {
    heartbeat.stop();
  }
});

test('any arrival counts as life, even without pongs', async () => {
  const { heartbeat, calls } = fake();
  heartbeat.start();
  const traffic = setInterval(() => heartbeat.touch(), INTERVAL / 2);
  try {
    await observe(TIMEOUT * 3);
    assert.is(calls.dead.length, 0);
  } finally {
    clearInterval(traffic);
    heartbeat.stop();
  }
});

test('stop() ends pings and judgement', async () => {
  const { heartbeat, calls } = fake();
  heartbeat.start();
  heartbeat.stop();
  await observe(TIMEOUT * 2);
  assert.is(calls.pings, 0);
  assert.is(calls.dead.length, 0);
});

function block(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test('a stall of this process is not counted as the peer\'s silence', async () => {
  const { heartbeat, calls } = fake();
  heartbeat.start();
  try {
    // The peer's answer is "in the socket" (I/O-phase work) while we block.
    setTimeout(() => setImmediate(() => heartbeat.touch()), 0);
    block(TIMEOUT * 2);
    await observe(INTERVAL);
    assert.is(calls.dead.length, 0);
  } finally {
    heartbeat.stop();
  }
});

test('after a stall, a peer that stays silent is still declared dead, timeoutMs of running time later', async () => {
  const { heartbeat, calls, dead } = fake();
  heartbeat.start();
  try {
    block(TIMEOUT * 2);
    const resumed = performance.now();
    await within(dead, TIMEOUT + 200, 'onDead');
    assert.ok(calls.pings >= 1, 'it pinged after the stall');
    assert.ok(calls.deadAt - resumed < TIMEOUT + 100, `dead ${calls.deadAt - resumed} ms after the stall`);
  } finally {
    heartbeat.stop();
  }
});

/**
 * A clock that runs with real time plus whatever a test adds: adding is this process
 * "having stalled" between two heartbeat wake-ups, without blocking the test's own loop.
 */
function stallingClock() {
  const clock = { skew: 0, now: () => performance.now() + clock.skew };
  return clock;
}

test('many stalls each shorter than an interval still move the deadline: the peer is judged on time we ran', async () => {
  const clock = stallingClock();
  // at every ping, pretend our loop had been half an interval late
  const { heartbeat, calls, dead } = fake(() => (clock.skew += INTERVAL * 0.5), clock.now);
  const started = performance.now();
  heartbeat.start();
  try {
    await within(dead, TIMEOUT * 4, 'onDead');
    const ranMs = calls.deadAt - started;
    assert.ok(ranMs >= TIMEOUT - 1, `declared dead after ${ranMs} ms of running time (skew ${clock.skew} ms)`);
    assert.is(calls.stalls[0], 0, 'no single stall of a full interval');
  } finally {
    heartbeat.stop();
  }
});

test('a long stall is reported with the death that follows it, and by ownStallMs() for a while', async () => {
  const clock = stallingClock();
  let stalled = false;
  const { heartbeat, calls, dead } = fake(() => {
    if (!stalled) clock.skew += TIMEOUT * 3;
    stalled = true;
  }, clock.now);
  heartbeat.start();
  try {
    await within(dead, TIMEOUT * 4, 'onDead');
    assert.ok(calls.stalls[0] >= TIMEOUT * 3 - INTERVAL, `ownStallMs ${calls.stalls[0]}`);
    assert.ok(heartbeat.ownStallMs() >= TIMEOUT * 3 - INTERVAL, 'still remembered right after');
    clock.skew += TIMEOUT + INTERVAL + 1;
    assert.is(heartbeat.ownStallMs(), 0, 'forgotten a timeout and an interval later');
  } finally {
    heartbeat.stop();
  }
});

test('without stalls, ownStallMs() is 0', async () => {
  const { heartbeat } = fake((hb) => hb.touch());
  heartbeat.start();
  try {
    await observe(INTERVAL * 3);
    assert.is(heartbeat.ownStallMs(), 0);
  } finally {
    heartbeat.stop();
  }
});

test('its timers do not keep the process alive', async () => {
  const script = `
    import { Heartbeat } from './lib/transport/heartbeat.ts';
    new Heartbeat({ sendPing() {}, onDead() {} }, { intervalMs: 10_000, timeoutMs: 60_000 }).start();
  `;
  const started = performance.now();
  await within(
    new Promise<void>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], (err) => (err ? reject(err) : resolve())),
    ),
    8000,
    'the child to exit',
  );
  assert.ok(performance.now() - started < 8000);
});

test.run();
