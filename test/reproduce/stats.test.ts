/**
 * The reproduction's statistics: quantiles as numpy's default (linear) interpolation computes them
 * (the artifact's scripts use np.percentile), confidence intervals from Student's t, and the
 * crossover of two sampled curves, checked on hand-computed cases and, for the crossover, as a
 * property over random straight lines whose intersection is known exactly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crossover, modelCrossover, quantile, summarize } from '../../app/reproduce/stats.ts';

describe('quantile', () => {
  it('interpolates linearly between order statistics, as np.percentile does', () => {
    // np.percentile([1, 2, 3, 4], 50) == 2.5; np.percentile([1, 2, 3, 4], 99) == 3.97
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.99)).toBeCloseTo(3.97, 12);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([1, 10], 0)).toBe(1);
    expect(quantile([1, 10], 1)).toBe(10);
  });
});

describe('summarize', () => {
  it('gives the mean and the 95% t-interval half-width', () => {
    const s = summarize([1, 2, 3]);
    expect(s.mean).toBe(2);
    expect(s.sd).toBe(1);
    expect(s.ci95).toBeCloseTo((4.303 * 1) / Math.sqrt(3), 9);
    expect(summarize([5]).ci95).toBe(0);
  });
});

describe('crossover', () => {
  it('finds where the first curve stops being above the second, by linear interpolation', () => {
    // HM-R minus HM-W of the spec §9.4 early data: 15.9, 10.4, 4.1, 0.1, -3.8 at 0.1..0.9.
    const r = [0.1, 0.3, 0.5, 0.7, 0.9];
    const x = crossover(r, [56.5, 50.6, 41.6, 36.1, 29.8], [40.6, 40.2, 37.5, 36.0, 33.6]);
    expect(x).toBeCloseTo(0.7 + (0.2 * 0.1) / 3.9, 9);
    expect(crossover(r, [1, 1, 1, 1, 1], [0, 0, 0, 0, 0])).toBeNull();
    expect(crossover([0, 1], [1, 0], [0, 0])).toBe(1);
  });

  it('recovers the intersection of two straight lines', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.05, max: 0.95, noNaN: true }), fc.double({ min: 1, max: 50, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), (xStar, slope, level) => {
        const xs = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
        const a = xs.map((x) => level - slope * (x - xStar));
        const b = xs.map(() => level);
        const got = crossover(xs, a, b);
        expect(got).not.toBeNull();
        expect(got!).toBeCloseTo(xStar, 6);
      }),
      { seed: 20261123, numRuns: 200 },
    );
  });

  it('matches the spec §8.1 cost-model crossover of the fit', () => {
    expect(modelCrossover(0.89, 0.18)).toBeCloseTo(0.715, 3); // spec §8.1: r* ≈ 0.71
    expect(modelCrossover(1, 0)).toBeCloseTo(2 / 3, 12);
  });
});
