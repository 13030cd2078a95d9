/**
 * Small statistics for the reproduction: quantiles as numpy computes them (the artifact's
 * scripts use `np.percentile`, linear interpolation), summaries across seeds with a Student-t
 * confidence interval, and the crossover of two curves.
 */
import { assert } from '../../src/core/assert.ts';

/** The q-quantile (0..1) of unsorted values, linear interpolation between order statistics. */
export function quantile(values: readonly number[], q: number): number {
  assert(values.length > 0, 'quantile of no values');
  assert(q >= 0 && q <= 1, 'quantile level in [0, 1]');
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export function mean(values: readonly number[]): number {
  assert(values.length > 0, 'mean of no values');
  let t = 0;
  for (const v of values) t += v;
  return t / values.length;
}

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom (beyond: normal). */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export interface Summary {
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (0 for one value). */
  readonly sd: number;
  /** Half-width of the 95% confidence interval of the mean (0 for one value). */
  readonly ci95: number;
  readonly min: number;
  readonly max: number;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  assert(n > 0, 'summary of no values');
  const m = mean(values);
  let ss = 0;
  for (const v of values) ss += (v - m) * (v - m);
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  const t = n > 1 ? (T975[n - 2] ?? 1.96) : 0;
  return { n, mean: m, sd, ci95: (t * sd) / Math.sqrt(n), min: Math.min(...values), max: Math.max(...values) };
}

/**
 * Where curve a stops being above curve b (a - b changes sign from positive to non-positive),
 * by linear interpolation between the sampled x values; null when it never does in the range.
 * With a = HM-R latency and b = HM-W latency over read ratios, this is the read ratio above which
 * HM-R is the better protocol.
 */
export function crossover(xs: readonly number[], a: readonly number[], b: readonly number[]): number | null {
  assert(xs.length === a.length && a.length === b.length, 'crossover: series of equal length');
  for (let i = 0; i + 1 < xs.length; i++) {
    const d0 = a[i]! - b[i]!;
    const d1 = a[i + 1]! - b[i + 1]!;
    if (d0 > 0 && d1 <= 0) return xs[i]! + ((xs[i + 1]! - xs[i]!) * d0) / (d0 - d1);
  }
  return null;
}

/**
 * The §8.1 cost model's crossover: HM-R pays R·t_rp + 2W·t_ca in log operations, HM-W pays
 * R·t_ca, and both pay the same store operations (a get per read, one store write per write), so
 * HM-R wins iff R·(t_ca − t_rp) > 2W·t_ca, that is for read ratios above 2·t_ca / (3·t_ca − t_rp).
 */
export function modelCrossover(tCa: number, tRp: number): number {
  assert(3 * tCa - tRp > 0, 'modelCrossover: 3·t_ca must exceed t_rp');
  return (2 * tCa) / (3 * tCa - tRp);
}
