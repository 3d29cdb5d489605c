// `npm run bench:actors` at tiny sizes (`--tiny`, results in a scratch directory): every mode
// measures Troupe's actors, a Troupe task, Comedy's actors (or says why not) and the raw
// medium, and the report shows them with their targets. Figures are not checked: no
// timing is asserted.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { actorsSection } from '../../bench/report/report.js';
import { runNode } from '../e2e/helpers.js';

const ENTRY = new URL('../../bench/actors.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-actors-'));
let run: Awaited<ReturnType<typeof runNode>>;

const finite = (n: unknown) => typeof n === 'number' && Number.isFinite(n);

test.before(async () => {
  run = await runNode(['--import', 'tsx', ENTRY, '--tiny', '--results', dir], 120_000);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('the run exits 0 and leaves nothing running', () => {
  assert.is(run.code, 0, run.stderr.slice(-3000));
  assert.not.match(run.stderr, /still running after teardown/);
});

test('actors.json: per mode, Troupe actors (many and one), a Troupe task, Comedy or its reason, the raw medium', () => {
  const json = JSON.parse(readFileSync(join(dir, 'actors.json'), 'utf8'));
  assert.is(json.suite, 'actors');
  assert.is(json.profile, 'tiny');
  assert.is(json.machine.loadavgAtStart.length, 3);
  assert.equal(json.modes.map((m: { mode: string }) => m.mode), ['thread', 'process', 'remote']);
  const n = json.options.actors;
  for (const m of json.modes) {
    const rates = new Map<string, { median: number }>(m.throughput.map((t: { name: string; rate: { median: number } }) => [t.name, t.rate]));
    const p50s = new Map<string, { median: number }>(m.latency.map((l: { name: string; p50Us: { median: number } }) => [l.name, l.p50Us]));
    for (const name of [`troupe actors ×${n}`, 'troupe actor ×1', 'troupe task run()']) assert.ok(finite(rates.get(name)?.median), `${m.mode}: ${name} calls/s`);
    for (const name of ['troupe actor', 'troupe task run()']) assert.ok(finite(p50s.get(name)?.median), `${m.mode}: ${name} p50`);
    assert.ok(m.throughput.some((t: { name: string }) => t.name.startsWith('raw')), `${m.mode}: a raw batched baseline`);
    assert.ok(m.latency.some((l: { name: string }) => l.name.startsWith('raw')), `${m.mode}: a raw round trip`);
    const comedySkipped = m.skipped.find((s: { name: string }) => s.name === 'comedy');
    if (comedySkipped) assert.type(comedySkipped.reason, 'string');
    else {
      assert.ok(finite(rates.get(`comedy actors ×${n}`)?.median) && finite(rates.get('comedy actor ×1')?.median), `${m.mode}: comedy calls/s`);
      assert.ok(finite(p50s.get('comedy actor')?.median), `${m.mode}: comedy p50`);
    }
    assert.is(m.targets.length, 3, `${m.mode}: two targets against Comedy, one against the task`);
    for (const t of m.targets) {
      if (t.skipped) assert.ok(comedySkipped, `${m.mode}: ${t.comparison} skipped only when comedy is`);
      else assert.ok(finite(t.ratio.median) && typeof t.met === 'boolean', `${m.mode}: ${t.comparison}`);
    }
    assert.is(m.loadavgBefore.length, 3);
  }
});

test('REPORT.md has the actors section with each mode', () => {
  const report = readFileSync(join(dir, 'REPORT.md'), 'utf8');
  assert.ok(report.includes('## 6. Actors'));
  for (const mode of ['thread', 'process', 'remote']) assert.ok(report.includes(`### ${mode}`), mode);
  assert.match(report, /≥ 10×/);
  assert.match(report, /≤ 1\.2×/);
});

test('a mode where Comedy did not run says why in its target rows', () => {
  const spread = { median: 2, min: 1, max: 3 };
  const lines = actorsSection({
    options: { actors: 2 },
    modes: [
      {
        mode: 'remote',
        throughput: [{ name: 'troupe actors ×2', rate: spread }],
        latency: [],
        skipped: [{ name: 'comedy', reason: 'setup failed: comedy-node exited (1)' }],
        targets: [{ comparison: 'troupe actors ×2 ÷ comedy actors ×2, calls/s', ratio: { median: NaN }, target: '≥ 10×', met: null, skipped: 'comedy skipped: setup failed: comedy-node exited (1)' }],
        contenders: [],
      },
    ],
    machine: {},
  }).join('\n');
  assert.match(lines, /\| troupe actors ×2 ÷ comedy actors ×2, calls\/s \| comedy skipped: setup failed: comedy-node exited \(1\) \|/);
  assert.match(lines, /- comedy skipped: setup failed/);
});

test.run();
