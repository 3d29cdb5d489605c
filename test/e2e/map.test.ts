// pool.map(): ordered and unordered results, errors at their place or as values, lazy input
// in bounded memory, and a clean stop on break or abort.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MapError } from '../../lib/index.js';
import { MODES, within, withPool } from './helpers.js';

/** Numbers a packed chunk must carry exactly. */
const EDGE_NUMBERS = [-0, 0, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, -1.5, 0.1, 2 ** 31, -(2 ** 31) - 1];

async function collect<T>(iterable: AsyncIterable<T>, ms = 20_000): Promise<T[]> {
  return within((async () => {
    const out: T[] = [];
    for await (const value of iterable) out.push(value);
    return out;
  })(), ms, 'map() to finish');
}

for (const mode of MODES) {
  test(`${mode}: map() yields in input order; unordered yields every result once`, async () => {
    await withPool(mode, { size: 2 }, async (pool) => {
      const items = Array.from({ length: 5_000 }, (_, i) => i);
      assert.equal(await collect(pool.map<number>('square', items)), items.map((i) => i * i));
      const unordered = await collect(pool.map<number>('square', items, { ordered: false }));
      assert.equal([...unordered].sort((a, b) => a - b), items.map((i) => i * i));
    });
  });

  test(`${mode}: numbers cross packed and come back exactly (-0, NaN, ±Infinity, 2^53 - 1); other items as they are`, async () => {
    await withPool(mode, { size: 2 }, async (pool) => {
      const numbers = Array.from({ length: 200 }, (_, i) => EDGE_NUMBERS[i % EDGE_NUMBERS.length]);
      const back = await collect(pool.map<number>('echo', numbers, { chunkSize: 50 }));
      assert.ok(back.length === numbers.length && back.every((value, i) => Object.is(value, numbers[i])), 'every number exactly as sent');
      // A chunk with one string in it goes as a plain list; a Float64Array item stays one.
      const mixed = [...numbers.slice(0, 30), 'thirty', new Float64Array([1.5, -0])];
      const mixedBack = await collect(pool.map<unknown>('echo', mixed, { chunkSize: 64 }));
      assert.equal(mixedBack.slice(0, 31), mixed.slice(0, 31));
      assert.ok(mixedBack[31] instanceof Float64Array && Object.is(mixedBack[31][1], -0), 'a Float64Array item comes back as one');
    });
  });

  test(`${mode}: a failed item throws at its place and nothing after it runs`, async () => {
    await withPool(mode, { size: 2 }, async (pool) => {
      const seen: number[] = [];
      let error: unknown;
      try {
        for await (const value of pool.map<number>('squareUnless13', Array.from({ length: 100_000 }, (_, i) => i), { chunkSize: 16, concurrency: 64 })) {
          seen.push(value);
        }
      } catch (caught) {
        error = caught;
      }
      assert.instance(error, RangeError);
      assert.equal(seen, Array.from({ length: 13 }, (_, i) => i * i), 'every result before it, in order');
      await within(pool.onIdle(), 10_000, 'the pool to be idle');
      assert.ok(pool.stats().completed + pool.stats().failed < 1_000, 'what was still queued was dropped, not run');
    });
  });

  test(`${mode}: errors: 'yield' gives a MapError in place and goes on`, async () => {
    await withPool(mode, { size: 2 }, async (pool) => {
      const out = await collect(pool.map<number>('squareUnless13', [12, 13, 14], { errors: 'yield' }));
      assert.is(out[0], 144);
      assert.instance(out[1], MapError);
      assert.is((out[1] as MapError).index, 1);
      assert.instance((out[1] as MapError).error, RangeError);
      assert.is(out[2], 196);
    });
  });

  test(`${mode}: the items of one chunk fail on their own, each in its place`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const out = await collect(pool.map<number>('squareUnless13', [12, 13, 14, 13], { chunkSize: 4, errors: 'yield' }));
      assert.equal(out.map((value) => (value instanceof MapError ? [value.index, value.error.constructor.name] : value)), [
        144, [1, 'RangeError'], 196, [3, 'RangeError'],
      ]);
      assert.is(pool.stats().completed, 1, 'the four items went as one task');
    });
  });

  test(`${mode}: async items of one chunk all settle, failures in place`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const out = await collect(pool.map('rejectOdd', [2, 3, 4, 5, 6], { chunkSize: 5, errors: 'yield' }));
      assert.equal(out.map((value) => (value instanceof MapError ? value.error.message : value)), [4, 'odd 3', 8, 'odd 5', 12]);
    });
  });

  test(`${mode}: chunks are sized by what items cost: tiny ones many to a task, sleeping ones one each`, async () => {
    await withPool(mode, { size: 2 }, async (pool) => {
      const tiny = await collect(pool.map<number>('square', Array.from({ length: 20_000 }, (_, i) => i)));
      assert.is(tiny.length, 20_000);
      const tasks = pool.stats().completed;
      assert.ok(tasks < 1_000, `20,000 tiny items went as ${tasks} tasks`);
      // 5 ms each: about 2 ms of work per chunk means one item per chunk.
      await collect(pool.map('sleep', Array.from({ length: 200 }, () => 5)));
      assert.is(pool.stats().completed - tasks, 200);
    });
  });

  test(`${mode}: a lazy async input is read at most concurrency ahead; break stops it cleanly`, async () => {
    await withPool(mode, { size: 2 }, async (pool) => {
      let produced = 0;
      let consumed = 0;
      let maxAhead = 0;
      let returned = false;
      async function* numbers() {
        try {
          for (let i = 0; i < 1_000_000; i++) {
            produced++;
            maxAhead = Math.max(maxAhead, produced - consumed);
            yield i;
          }
        } finally {
          returned = true;
        }
      }
      await within((async () => {
        for await (const value of pool.map<number>('square', numbers(), { concurrency: 100, chunkSize: 10 })) {
          assert.is(value, consumed * consumed);
          if (++consumed === 20_000) break;
        }
      })(), 60_000, 'the first 20,000 results');
      assert.ok(maxAhead <= 110, `read ${maxAhead} ahead of the loop`);
      assert.ok(returned, 'the input was closed');
      await within(pool.onIdle(), 10_000, 'the pool to be idle after break');
      assert.ok(produced < 20_200, `stopped reading: ${produced}`);
    });
  });

  test(`${mode}: an abort signal stops map() with ERR_TROUPE_ABORTED`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const controller = new AbortController();
      let error: (Error & { code?: string }) | undefined;
      let count = 0;
      try {
        for await (const _ of pool.map('sleep', Array.from({ length: 1_000 }, () => 5), { signal: controller.signal })) {
          if (++count === 3) controller.abort();
        }
      } catch (caught) {
        error = caught as Error;
      }
      assert.is(error?.code, 'ERR_TROUPE_ABORTED');
      await within(pool.onIdle(), 10_000, 'the pool to be idle after abort');
    });
  });

  test(`${mode}: a slow async input: results come back while it is still being read`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      let yielded = 0;
      const seenAt: number[] = [];
      async function* slow() {
        for (let i = 0; i < 6; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          yielded++;
          yield i;
        }
      }
      const results = await collect((async function* () {
        for await (const value of pool.map<number>('square', slow())) {
          seenAt.push(yielded);
          yield value;
        }
      })(), 10_000);
      assert.equal(results, [0, 1, 4, 9, 16, 25]);
      assert.ok(seenAt[0] < 6, `the first result came after ${seenAt[0]} of 6 items were read`);
    });
  });

  test(`${mode}: break waits for the input's own cleanup, also while the input is busy reading`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      let cleanedUp = false;
      async function* slow() {
        try {
          for (let i = 0; ; i++) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            yield i;
          }
        } finally {
          cleanedUp = true;
        }
      }
      await within((async () => {
        for await (const value of pool.map<number>('square', slow())) if (value === 0) break;
      })(), 10_000, 'the loop to break');
      assert.ok(cleanedUp, "the input's finally ran before the loop ended");
    });
  });

  test(`${mode}: an abort stops map() while it waits on an input that yields no more`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      let release = (): void => {};
      const stalled = new Promise<void>((resolve) => (release = resolve));
      async function* stalls() {
        yield 3;
        await stalled;
      }
      const controller = new AbortController();
      const iterator = pool.map<number>('square', stalls(), { signal: controller.signal })[Symbol.asyncIterator]();
      try {
        assert.equal(await within(iterator.next(), 10_000, 'the first result'), { value: 9, done: false });
        const waiting = iterator.next();
        controller.abort();
        const error = await within(waiting.then(() => undefined, (e: Error & { code?: string }) => e), 5_000, 'next() after the abort');
        assert.is(error?.code, 'ERR_TROUPE_ABORTED');
      } finally {
        release();
      }
      await within(pool.onIdle(), 10_000, 'the pool to be idle after abort');
    });
  });

  test(`${mode}: on a pool with maxQueue, map() waits for room instead of failing its items`, async () => {
    await withPool(mode, { size: 1, maxQueue: 2 }, async (pool) => {
      const items = Array.from({ length: 100 }, (_, i) => i);
      const results = await collect(pool.map<number>('square', items, { chunkSize: 1, concurrency: 100 }));
      assert.equal(results, items.map((i) => i * i));
    });
  });

  test(`${mode}: bad map() options are refused, naming the option`, async () => {
    await withPool(mode, { size: 1 }, async (pool) => {
      const cases = [
        [{ concurrency: 0 }, 'options\\.concurrency'], [{ ordered: 'yes' }, 'options\\.ordered'], [{ errors: 'log' }, 'options\\.errors'],
        // A worker takes at most 65,536 items in a chunk: a larger one would fail in every worker.
        [{ chunkSize: 65_537, concurrency: 70_000 }, 'options\\.chunkSize'], [{ chunksize: 100 }, '"chunksize"'],
      ] as const;
      for (const [options, name] of cases) {
        assert.throws(() => pool.map('square', [1], options as never), new RegExp(name));
      }
    });
  });
}

test.run();
