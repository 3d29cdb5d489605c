// Small statistics shared by `troupe bench` and the reference suites.

export const median = (samples: readonly number[]): number => {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** Nearest-rank percentile. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/** Per-round ratios a[r] / b[r], for the rounds where both exist. */
export function ratios(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  for (let r = 0; r < Math.min(a.length, b.length); r++) if (b[r] > 0 && Number.isFinite(a[r])) out.push(a[r] / b[r]);
  return out;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export const spread = (samples: readonly number[]): Spread => ({
  median: median(samples),
  min: samples.length ? Math.min(...samples) : NaN,
  max: samples.length ? Math.max(...samples) : NaN,
});

/** Round r starts at item r (rotation), so each contender takes each position alike. */
export function rotation<T>(items: readonly T[], round: number): T[] {
  const k = items.length === 0 ? 0 : ((round % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
