// `troupe/worker` is imported by task code in every worker: it must stay tiny, so its
// import graph (followed through the built files) reaches neither the scheduler, nor
// piscina, nor the transport, nor the backends.
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
/** Statements at the start of a line, as tsc emits them; dynamic imports of a literal anywhere. */
const IMPORT = /^(?:import|export)\b[^'";]*?from\s*['"]([^'"]+)['"]|(?<!typeof )\bimport\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm;

/** Every module `file` reaches by static or literal dynamic imports: relative ones as dist paths, others as specifiers. */
function graph(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  for (const match of source.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (specifier.startsWith('.')) graph(join(dirname(file), specifier), seen);
    else seen.add(specifier);
  }
  return seen;
}

test('troupe/worker pulls in no scheduler, piscina, transport or backend', () => {
  const reached = [...graph(join(DIST, 'worker/index.js'))].map((f) => (f.startsWith(DIST) ? relative(DIST, f) : f));
  const forbidden = reached.filter((f) => /^(scheduler|transport|backends|agent)\/|^piscina|^eventemitter3|^node:(net|tls|cluster)$/.test(f));
  assert.equal(forbidden, [], `troupe/worker reaches: ${reached.join(', ')}`);
  assert.ok(reached.length <= 8, `troupe/worker stays small: ${reached.join(', ')}`);
});

test('the graph walk sees what the pool pulls in (the check can fail)', () => {
  const reached = [...graph(join(DIST, 'index.js'))].map((f) => (f.startsWith(DIST) ? relative(DIST, f) : f));
  assert.ok(reached.includes('scheduler/scheduler.js'), reached.join(', '));
  assert.ok(reached.includes('piscina'), reached.join(', '));
});

test.run();
