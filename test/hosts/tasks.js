// Task module of the multi-host suite (test/hosts): the scheduler's own workers and every
// agent load it. TROUPE_HOST names the host a result came from.
const host = () => process.env.TROUPE_HOST ?? 'scheduler';

export function echo(i) {
  return { i, host: host() };
}

export async function nap(i, ms) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { i, host: host() };
}

/** Holds its worker's CPU for `ms`. */
export function spin(i, ms) {
  const until = performance.now() + ms;
  while (performance.now() < until);
  return { i, host: host() };
}
