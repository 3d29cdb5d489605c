// pool.map() on a pure scheduler whose only workers are behind a CLI agent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Scope, within } from './helpers.js';

test('map() over an agent: ordered results, a lazy input read in bounded steps, break drops the rest', async () => {
  const scope = new Scope();
  try {
    const { pool } = await scope.schedulerWithAgent();
    const squares = await within((async () => {
      const out: number[] = [];
      for await (const value of pool.map<number>('square', Array.from({ length: 3_000 }, (_, i) => i))) out.push(value);
      return out;
    })(), 30_000, 'map() over the agent');
    assert.equal(squares, Array.from({ length: 3_000 }, (_, i) => i * i));

    // Chunks of numbers cross packed, through the agent to its workers and back, exactly.
    const edges = [-0, NaN, -Infinity, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, 0.1];
    const numbers = Array.from({ length: 120 }, (_, i) => edges[i % edges.length]);
    const echoed = await within((async () => {
      const out: number[] = [];
      for await (const value of pool.map<number>('echo', numbers, { chunkSize: 40 })) out.push(value);
      return out;
    })(), 30_000, 'map() of numbers over the agent');
    assert.ok(echoed.length === numbers.length && echoed.every((value, i) => Object.is(value, numbers[i])), 'every number exactly as sent');

    let produced = 0;
    function* forever() {
      for (;;) yield produced++;
    }
    let taken = 0;
    await within((async () => {
      for await (const value of pool.map<number>('square', forever(), { concurrency: 50, chunkSize: 10 })) {
        assert.is(value, taken * taken);
        if (++taken === 500) break;
      }
    })(), 30_000, 'the first 500 of an endless input');
    assert.ok(produced <= 560, `read ${produced} items for 500 taken`);
    await within(pool.onIdle(), 10_000, 'the pool to be idle');
  } finally {
    await scope.close();
  }
});

test.run();
