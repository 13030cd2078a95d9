/**
 * Latency distributions, each sampled from exactly one uniform draw (inverse transform), so a
 * decision log has one entry per sample and a zero draw gives the smallest value.
 */
import type { Dist } from '../src/scenario/scenario.ts';

// Acklam's coefficients, built once (not per sample: every random link latency samples this).
const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

/** Inverse CDF of the standard normal (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalInv(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - pl) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** Integer microseconds from a uniform u in [0, 1). */
export function sampleDist(d: Dist, u: number): number {
  switch (d.dist) {
    case 'constant':
      return d.us;
    case 'uniform':
      return d.minUs + Math.floor(u * (d.maxUs - d.minUs + 1));
    case 'exponential':
      return Math.min(d.capUs, Math.round(-d.meanUs * Math.log(1 - u)));
    case 'lognormal': {
      if (u === 0) return 0;
      return Math.min(d.capUs, Math.round(d.medianUs * Math.exp(d.sigma * normalInv(u))));
    }
  }
}

/** Does sampling this distribution need a draw at all? */
export function isRandom(d: Dist): boolean {
  return d.dist !== 'constant';
}
