import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IdTable } from '../../lib/scheduler/id-table.js';

function matchesAMap(table: IdTable<number>): void {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const map = new Map<number, number>();
  let next = 1;
  for (let step = 0; step < 200_000; step++) {
    if (random() < 0.52) {
      next += random() < 0.05 ? 1 + Math.floor(random() * 3000) : 1;
      table.set(next, next * 2);
      map.set(next, next * 2);
    } else if (map.size > 0) {
      // Mostly the oldest (in order), sometimes any.
      const keys = [...map.keys()];
      const id = random() < 0.7 ? keys[0] : keys[Math.floor(random() * keys.length)];
      table.delete(id);
      map.delete(id);
    }
    if (step % 997 === 0) {
      assert.is(table.size, map.size);
      for (const [id, value] of map) assert.is(table.get(id), value);
      assert.equal([...table.values()], [...map.values()]);
      assert.is(table.get(next + 1), undefined);
      assert.is(table.get(0), undefined);
    }
  }
}

test('matches a Map under random sets and deletes, in and out of order, across compactions', () => {
  matchesAMap(new IdTable<number>());
});

test('the same with a span of 50, so that entries keep moving to the stragglers', () => {
  matchesAMap(new IdTable<number>(50));
});

test('one entry left behind does not stretch the array: the span stays within maxSpan', () => {
  const table = new IdTable<string>(1_000);
  table.set(1, 'long');
  for (let id = 2; id < 100_000; id++) {
    table.set(id, 'short');
    if (id > 21) table.delete(id - 20);
    assert.ok(table.span <= 1_000, `span ${table.span} at id ${id}`);
  }
  assert.is(table.get(1), 'long');
  assert.is(table.size, 21);
  table.delete(1);
  assert.is(table.get(1), undefined);
  assert.is(table.size, 20);
  assert.equal([...table.values()].length, 20);
});

test.run();
