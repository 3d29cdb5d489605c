/** Suite 6, named queues: bench/seed-queues.ts with the profile's sizes, writing seed-queues.{json,md}. */
import type { SuiteContext } from '../lib/results.js';
import { runQueuesBench } from '../seed-queues.js';

export async function queuesSuite(ctx: SuiteContext): Promise<void> {
  await runQueuesBench(ctx.profile.queues, ctx.dir);
}
