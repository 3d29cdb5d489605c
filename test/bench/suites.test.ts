// `npm run bench` at tiny sizes (`--tiny`, results in a scratch directory): every suite
// writes JSON with the fields the report reads, and every chart is an SVG that parses
// and has marks. Figures are not checked: no timing is asserted.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runNode } from '../e2e/helpers.js';

const RUN = new URL('../../bench/run.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-suites-'));
let run: Awaited<ReturnType<typeof runNode>>;

const read = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8'));
const finite = (n: unknown) => typeof n === 'number' && Number.isFinite(n);
const hasTaskset = () => process.platform === 'linux' && spawnSync('taskset', ['-V']).status === 0;

test.before(async () => {
  run = await runNode(['--import', 'tsx', RUN, '--tiny', '--results', dir], 170_000);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('the run exits 0', () => {
  assert.is(run.code, 0, run.stderr.slice(-3000));
});

test('every suite writes its JSON with the machine, the load average before and after, and its figures', () => {
  for (const suite of ['cpu', 'payloads', 'startup', 'scale-out', 'actors']) {
    const json = read(`${suite}.json`);
    assert.is(json.suite, suite);
    assert.is(json.profile, 'tiny');
    assert.type(json.machine.node, 'string');
    assert.type(json.machine.commit, 'string');
    assert.is(json.machine.loadavgAtStart.length, 3, `${suite}: load average before`);
    assert.is(json.machine.loadavgAtEnd.length, 3, `${suite}: load average after`);
  }
  const queues = read('seed-queues.json');
  assert.is(queues.suite, 'seed-queues');
  assert.ok(queues.itemsPerSecond['troupe queues'][0] > 0, 'the queues were measured');
  const tiny = read('tiny-tasks.json');
  assert.ok(tiny.throughput.contenders.length >= 3, 'tiny tasks: Troupe and its peers');
  assert.ok(existsSync(join(dir, 'tiny-tasks.md')));
  // A second latency pass on one CPU where taskset exists: its own table and its own target rows.
  const comparisons: string[] = tiny.targets.comparisons.map((c: { mode: string; comparison: string }) => `${c.mode}: ${c.comparison}`);
  if (hasTaskset()) {
    assert.ok(tiny.latencyOneCpu.contenders.length >= 2, 'tiny tasks: latency on one CPU');
    for (const mode of ['thread', 'process']) assert.ok(comparisons.some((c) => c.startsWith(`${mode}: p50 one in flight, on one CPU`)), comparisons.join('; '));
  } else assert.not.ok(comparisons.some((c) => c.includes('on one CPU')), comparisons.join('; '));
  // The old heap is read in a pass of its own: every Troupe contender, its own runs back to back.
  const troupeRates = tiny.throughput.contenders.filter((c: { name: string }) => c.name.startsWith('troupe ')).map((c: { name: string }) => c.name);
  const heap: { name: string; afterEachRunMB: number[]; growthMB: number }[] = tiny.targets.oldHeap;
  assert.equal(heap.map((r) => r.name), troupeRates);
  for (const r of heap) assert.ok(r.afterEachRunMB.length === tiny.options.heapRuns && finite(r.growthMB), `old heap: ${r.name}`);

  const cpu = read('cpu.json');
  const names = cpu.contenders.map((c: { name: string }) => c.name);
  for (const name of ['troupe thread', 'troupe process', 'troupe remote', 'piscina']) assert.ok(names.includes(name), `cpu: ${name}`);
  for (const c of cpu.contenders) {
    assert.equal(c.sizes.map((s: { size: number }) => s.size), cpu.options.sizes);
    for (const s of c.sizes) assert.ok(finite(s.rate.median) && finite(s.speedUp.median), `cpu: ${c.name} size ${s.size}`);
  }

  const payloads = read('payloads.json');
  for (const kind of ['string', 'Buffer', 'ArrayBuffer']) assert.ok(payloads.rows.some((r: { kind: string }) => r.kind === kind), `payloads: ${kind}`);
  for (const r of payloads.rows) assert.ok(finite(r.p50Ms.median) && finite(r.mibPerSecond), `payloads: ${r.contender} ${r.kind} ${r.bytes}`);
  const targeted = payloads.targets.map((t: { contender: string }) => t.contender);
  for (const name of ['troupe process', 'troupe remote', 'troupe thread', 'troupe thread transfer']) assert.ok(targeted.includes(name), `payload target for ${name}`);

  const startup = read('startup.json');
  for (const c of startup.contenders) assert.ok(finite(c.readyMs.median) && finite(c.idleRssPerWorkerMiB.median), `startup: ${c.name}`);
  const pairs = startup.targets.map((t: { contender: string; against: string; figure: string; atMost: number | null }) => `${t.contender} / ${t.against} ${t.figure} ${t.atMost ?? 'reported'}`);
  assert.ok(pairs.includes('troupe thread / piscina readyMs 1.2'), pairs.join('; '));
  assert.ok(pairs.includes('troupe process / raw cluster fork readyMs 1.2'), pairs.join('; '));
  assert.ok(pairs.includes('troupe thread / raw worker_threads readyMs reported'), pairs.join('; '));

  const scale = read('scale-out.json');
  assert.equal(scale.points.map((p: { agents: number }) => p.agents), [1, 2]);
  for (const p of scale.points) {
    assert.ok(finite(p.efficiency.median) && finite(p.schedulerCpuMsPerTask) && finite(p.lagP99Ms), `scale-out: ${p.agents} agents`);
  }
});

test('every chart is an SVG that parses and draws marks', () => {
  const charts = ['tiny-throughput', 'tiny-latency', 'cpu-speedup', 'payloads-string', 'payloads-buffer', 'payloads-arraybuffer', 'startup', 'scale-out', 'actors-throughput'];
  for (const name of charts) {
    const svg = readFileSync(join(dir, 'charts', `${name}.svg`), 'utf8');
    assert.match(svg, /^<svg[^>]+xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, `${name}: an SVG document`);
    const image = new Resvg(svg).render(); // throws on malformed SVG
    assert.ok(image.width > 100 && image.height > 100, `${name}: renders`);
    const marks = (svg.match(/<(path|rect|line|circle)\b/g) ?? []).length;
    assert.ok(marks > 10, `${name}: has marks (${marks})`);
    assert.match(svg, /<text\b/, `${name}: has labels`);
  }
});

test('REPORT.md has a section per suite and links every chart', () => {
  const report = readFileSync(join(dir, 'REPORT.md'), 'utf8');
  for (const heading of ['## 1. Tiny tasks', '## 2. CPU-bound', '## 3. Payloads', '## 4. Startup and footprint', '## 5. Scale-out', '## 6. Actors']) {
    assert.ok(report.includes(heading), heading);
  }
  for (const match of report.matchAll(/\]\((charts\/[\w-]+\.svg)\)/g)) assert.ok(existsSync(join(dir, match[1])), match[1]);
  assert.not.match(report, /Not run yet/);
});

test.run();
