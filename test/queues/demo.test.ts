// The origin's demo redone (demos/task-master.ts, demos/task-worker.ts): a master and two
// workers in processes of their own on 127.0.0.1 under the demo key.
import * as net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Scope, waitFor } from './helpers.js';

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('the master prints 10 results squared by the workers; all three exit 0 once the master closes its queues', async () => {
  const scope = new Scope();
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, TROUPE_ADDRESS: `127.0.0.1:${await freePort()}` };
    delete env.TROUPE_AUTHKEY;
    const master = scope.node(['--import', 'tsx', 'demos/task-master.ts'], env);
    await waitFor(() => master.stdout.includes('master listening') || master.exited, 20_000, 'the master to listen', () => master.describe());
    const workers = [0, 1].map(() => scope.node(['--import', 'tsx', 'demos/task-worker.ts'], env));
    assert.is((await master.waitExit(30_000)).code, 0, master.describe());
    const results = master.stdout.split('\n').filter((line) => line.startsWith('Result: '));
    assert.is(results.length, 10, master.stdout);
    for (const line of results) {
      const [, n, again, r] = /^Result: (\d+) \* (\d+) = (\d+)$/.exec(line) ?? [];
      assert.ok(n === again && Number(r) === Number(n) ** 2, line);
    }
    assert.match(master.stderr, /TROUPE_AUTHKEY is not set/);
    // A worker that connected before the end saw its loop end; its pid appears in the master's log.
    for (const worker of workers.filter((w) => master.stdout.includes(`:${w.pid} connected`))) {
      assert.is((await worker.waitExit(10_000)).code, 0, worker.describe());
      assert.match(worker.stdout, /worker exit\./);
    }
  } finally {
    await scope.close();
  }
});

test.run();
