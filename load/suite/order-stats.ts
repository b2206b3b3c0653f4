/**
 * How one order of things relates to another (join order against admission order, for the drop
 * scenario): Spearman's rank correlation, ties given their average rank, and the inversions of a
 * sequence (pairs that a later one came strictly before).
 */

/** 1-based ranks of `values`, ties sharing the average of the ranks they span. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]?.[0] === order[start]?.[0]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[(order[k] as readonly [number, number])[1]] = rank;
    start = end + 1;
  }
  return ranks;
}

/** Spearman's ρ of paired samples (Pearson's correlation of their average ranks); null under 3 pairs. */
export function spearman(xs: readonly number[], ys: readonly number[]): number | null {
  const n = xs.length;
  if (n !== ys.length) throw new Error(`spearman of ${n} and ${ys.length} values`);
  if (n < 3) return null;
  const rx = averageRanks(xs);
  const ry = averageRanks(ys);
  const mean = (n + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (rx[i] as number) - mean;
    const dy = (ry[i] as number) - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? 0 : sxy / Math.sqrt(sxx * syy);
}

/**
 * The bound |ρ| is held to over `n` pairs of independent orders: `bound`, or, where `n` is too small
 * for it to mean anything, 4 standard errors (ρ's is about 1/√(n−1) under independence), which an
 * independent order exceeds about once in 16,000 runs.
 */
export const spearmanBound = (n: number, bound: number) => Math.max(bound, 4 / Math.sqrt(Math.max(1, n - 1)));

/** Pairs i < j with `values[i] > values[j]` (ties are no inversion). */
export function inversions(values: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    for (let j = i + 1; j < values.length; j++) if ((values[i] as number) > (values[j] as number)) n++;
  }
  return n;
}
