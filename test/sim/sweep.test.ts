/**
 * Methodology: sharding must split any seed range into disjoint shards that cover it exactly
 * (checked as a property over random ranges and shard counts), and running a sweep in worker
 * threads must give the same per-seed results and combined hash as running it in one thread.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shardSeeds } from '../../app/cli/commands/args.ts';
import { sweep } from '../../sim/sweep.ts';

describe('shards', () => {
  it('are disjoint and cover the range', () => {
    fc.assert(
      fc.property(fc.nat(1_000_000), fc.nat(500), fc.integer({ min: 1, max: 40 }), (from, len, n) => {
        const range = { from, to: from + len };
        const seen = new Map<number, number>();
        for (let k = 1; k <= n; k++) {
          for (const s of shardSeeds(range, { k, n })) {
            expect(seen.has(s)).toBe(false);
            seen.set(s, k);
          }
        }
        expect(seen.size).toBe(len + 1);
        for (let s = range.from; s <= range.to; s++) expect(seen.has(s)).toBe(true);
      }),
    );
  });
});

describe('workers', () => {
  it('give the same results as one worker', async () => {
    const seeds = Array.from({ length: 12 }, (_, i) => i + 1);
    const req = { scenario: 'register-partition', sets: [] as [string, unknown][], variant: 'read-one', seeds };
    const one = await sweep({ ...req, workers: 1 });
    const two = await sweep({ ...req, workers: 2 });
    expect(two.traceHash).toBe(one.traceHash);
    expect(two.failingSeeds).toEqual(one.failingSeeds);
    expect(two.perSeed.map((s) => s.traceHash)).toEqual(one.perSeed.map((s) => s.traceHash));
    expect(one.failingSeeds.length).toBeGreaterThan(0);
  });
});
