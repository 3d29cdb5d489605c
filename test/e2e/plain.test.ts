// Plain JavaScript, no loader: the built package, imported by its own name.
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, ROOT, runNode } from './helpers.js';

test('plain `node` (no TypeScript loader) imports the built package as "troupe", runs a task in both modes, exits 0', async () => {
  assert.ok(existsSync(`${ROOT}dist/index.js`), 'dist/ is missing: run `npm run build` first');
  const result = await runNode([fixture('e2e-dist.mjs').pathname, 'tasks.js', 'square', '[7]'], 30_000, {
    ...process.env,
    NODE_OPTIONS: '',
  });
  assert.is(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, { result: number; who: { pid: number; threadId: number } }> & { entry: string };
  assert.is(report.entry, new URL('dist/index.js', `file://${ROOT}`).href, 'resolved through the exports map to dist/');
  assert.is(report.thread.result, 49);
  assert.ok(report.thread.who.threadId > 0, 'ran on a worker thread');
  assert.is(report.process.result, 49);
  assert.is(report.process.who.threadId, 0, 'ran on the main thread of a worker process');
});

test.run();
