import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IdTable } from '../../lib/scheduler/id-table.js';

test('matches a Map under random sets and deletes, in and out of order, across compactions', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const table = new IdTable<number>();
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
});

test.run();
