/**
 * A consumer host's program for the queues scenario: the origin's worker. It connects to the
 * scheduler, takes ints from "tasks" and puts { n, square, host } into "results" until the
 * queue is closed and drained. With a third argument, it stops in the loop body at that int,
 * holding it, and says so (the scenario then SIGKILLs it).
 *
 *   args: host port [holdAt]      events: { ev: 'connected' } { ev: 'holding', n } { ev: 'drained', count }
 */
import { connect } from '../../lib/index.js';

const [host, port, holdAt] = [process.argv[2], process.argv[3], process.argv[4]];
const name = process.env.TROUPE_HOST ?? 'consumer';

function emit(ev: string, data: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ ev, t: Date.now(), ...data })}\n`);
}

const hub = await connect({ address: `${host}:${port}`, authkey: process.env.TROUPE_HOSTS_KEY!, prefetch: 8 });
emit('connected');
const results = hub.queue<{ n: number; square: number; host: string }>('results');
let count = 0;
for await (const n of hub.queue<number>('tasks')) {
  if (holdAt !== undefined && n === Number(holdAt)) {
    emit('holding', { n });
    await new Promise(() => {});
  }
  await results.put({ n, square: n * n, host: name });
  count++;
}
emit('drained', { count });
await hub.close();
process.exit(0);
