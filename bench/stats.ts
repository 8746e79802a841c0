/** Order statistics of latency samples; the machine is shared, so medians and tails beat means. */
export interface LatencySummary {
  runs: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array (q in [0, 1]). */
export function percentile(sortedAscending: ArrayLike<number>, q: number): number {
  const n = sortedAscending.length;
  if (n === 0) throw new RangeError("percentile: no samples; run at least one iteration");
  const rank = Math.min(n, Math.max(1, Math.ceil(q * n)));
  return sortedAscending[rank - 1]!;
}

export function summarizeLatencies(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  return {
    runs: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
  };
}

export function median(samples: ArrayLike<number>): number {
  return percentile(Float64Array.from(samples).sort(), 0.5);
}

/** Times `runs` calls of `work` after `warmup` untimed calls; milliseconds per call. */
export async function timeCalls(
  runs: number,
  warmup: number,
  work: () => Promise<unknown> | unknown,
): Promise<Float64Array> {
  for (let i = 0; i < warmup; i++) await work();
  const samples = new Float64Array(runs);
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await work();
    samples[i] = performance.now() - t0;
  }
  return samples;
}
