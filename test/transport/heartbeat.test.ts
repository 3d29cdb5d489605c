import { execFile } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Heartbeat, type HeartbeatTarget } from '../../lib/transport/heartbeat.js';
import { within } from './helpers.js';

const INTERVAL = 20;
const TIMEOUT = 80;

function fake(onPing: (hb: Heartbeat) => void = () => {}) {
  let heartbeat!: Heartbeat;
  const calls = { pings: 0, dead: [] as number[], deadAt: 0 };
  let resolveDead!: () => void;
  const dead = new Promise<void>((resolve) => (resolveDead = resolve));
  const target: HeartbeatTarget = {
    sendPing: () => {
      calls.pings++;
      onPing(heartbeat);
    },
    onDead: (silentMs) => {
      calls.dead.push(silentMs);
      calls.deadAt = performance.now();
      resolveDead();
    },
  };
  heartbeat = new Heartbeat(target, { intervalMs: INTERVAL, timeoutMs: TIMEOUT });
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
