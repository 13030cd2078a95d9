/**
 * Methodology: the log's fault scenarios, a few seeds each in CI (every checker must pass: total
 * order, durability of acknowledged appends, DISCARDED invisibility, read validity, decisions,
 * read-your-writes, metalog agreement, liveness after faults stop, probes), plus what each
 * scenario must have exercised: a reconfiguration after the primary's crash, five chained views,
 * an under-provisioned period that ends. Set HALFMOON_LONG=1 to sweep 2,000 seeds per scenario.
 */
import { describe, expect, it } from 'vitest';
import { runOnce } from '../../sim/run.ts';
import { sweep } from '../../sim/sweep.ts';

const LONG = process.env.HALFMOON_LONG === '1';

function pass(scenario: string, seeds: number[]) {
  return seeds.map((seed) => {
    const r = runOnce({ scenario, seed });
    expect(r.violations, `${scenario} seed ${seed}: ${r.violations[0]?.message}`).toEqual([]);
    return r;
  });
}

const reconfigs = (r: { report: Record<string, unknown> }) => (r.report.log as { reconfigurations: number }).reconfigurations;

describe('fault scenarios (canonical build)', () => {
  it('log-sequencer-failover: a spare takes over and the log continues', () => {
    for (const r of pass('log-sequencer-failover', [1, 2])) expect(reconfigs(r)).toBeGreaterThanOrEqual(1);
  });

  it('log-reconfig-chain: views 0 -> 1 -> ... -> 5', () => {
    for (const r of pass('log-reconfig-chain', [1])) expect(reconfigs(r)).toBeGreaterThanOrEqual(5);
  });

  it('log-storage-crash, log-engine-crash, log-partition', () => {
    pass('log-storage-crash', [1, 2]);
    pass('log-engine-crash', [1, 2]);
    pass('log-partition', [1]);
  });

  it('log-chaos', () => {
    pass('log-chaos', [1, 2, 3]);
  });

  it('two physical logs with 2 index replicas each (remote indexes and stream lookups across views)', () => {
    const sets: [string, unknown][] = [
      ['numPhylogs', 2],
      ['indexReplicas', 2],
    ];
    for (const scenario of ['log-sequencer-failover', 'log-reconfig-chain', 'log-chaos']) {
      const r = runOnce({ scenario, seed: 1, sets });
      expect(r.violations, `${scenario}: ${r.violations[0]?.message}`).toEqual([]);
    }
  });
});

describe.runIf(LONG)('2,000-seed sweeps (HALFMOON_LONG=1)', () => {
  for (const scenario of ['log-smoke', 'log-sequencer-failover', 'log-storage-crash', 'log-engine-crash', 'log-partition', 'log-reconfig-chain', 'log-chaos']) {
    it(scenario, { timeout: 4 * 3600_000 }, async () => {
      const r = await sweep({ scenario, sets: [], variant: null, seeds: Array.from({ length: 2000 }, (_, i) => i + 1), workers: 2 });
      expect(r.failingSeeds).toEqual([]);
    });
  }
});
