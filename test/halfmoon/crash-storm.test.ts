/**
 * Methodology: the canonical protocols must keep exactly-once (C1-C6), the fault bound on log
 * records (P2) and liveness under function crashes at every kind of point, function-node crashes
 * and retries (`wf-crash-storm`), and under concurrent duplicate executions (`wf-duplicates`).
 * The negative control `unsafe` (HM-R reads with HM-W writes) passes failure-free runs and must be
 * caught under the same faults. The seed counts here keep CI fast; HALFMOON_LONG=1 sweeps 2,000.
 */
import { describe, expect, it } from 'vitest';
import { runOnce } from '../../sim/run.ts';
import { sweep } from '../../sim/sweep.ts';

const LONG = process.env.HALFMOON_LONG === '1';
const seeds = (n: number) => Array.from({ length: LONG ? 2000 : n }, (_, i) => i + 1);

describe.each(['boki', 'hm-read', 'hm-write', 'transitional'])('%s', (protocol) => {
  it('holds under wf-crash-storm (the Boki log, with log faults)', async () => {
    const r = await sweep({ scenario: 'wf-crash-storm', sets: [['protocol', protocol]], variant: null, seeds: seeds(3), workers: LONG ? 2 : 1 });
    expect(r.failures.map((f) => `${f.seed}: ${f.violations[0]?.invariant}: ${f.violations[0]?.message}`)).toEqual([]);
    expect(r.faults.crash ?? 0).toBeGreaterThan(0);
  });
  it('holds under wf-storm-ref (the reference log, more seeds)', async () => {
    const r = await sweep({ scenario: 'wf-storm-ref', sets: [['protocol', protocol]], variant: null, seeds: seeds(12), workers: LONG ? 2 : 1 });
    expect(r.failures.map((f) => `${f.seed}: ${f.violations[0]?.invariant}: ${f.violations[0]?.message}`)).toEqual([]);
  });
  it('holds under wf-duplicates', async () => {
    const r = await sweep({ scenario: 'wf-duplicates', sets: [['protocol', protocol]], variant: null, seeds: seeds(6), workers: LONG ? 2 : 1 });
    expect(r.failures.map((f) => `${f.seed}: ${f.violations[0]?.invariant}: ${f.violations[0]?.message}`)).toEqual([]);
  });
});

// Seeds on which sweeps found log bugs under Halfmoon workloads, kept as regressions: 299 (a
// restarted engine reused query ids, so an answer to its previous incarnation's query of another
// stream reached a new readNext), 661 and 1814 (hm-read: a read below minSeq, an append acked with
// a lower seqnum after an engine restart), 197 (hm-write: a reconfiguration that never completed).
describe.each([
  [299, 'hm-read'],
  [661, 'hm-read'],
  [1814, 'hm-read'],
  [197, 'hm-write'],
])('wf-crash-storm seed %i under %s', (seed, protocol) => {
  it('holds every invariant and checker', () => {
    const r = runOnce({ scenario: 'wf-crash-storm', seed, sets: [['protocol', protocol]] });
    expect(r.violations.map((v) => `${v.invariant}: ${v.message}`)).toEqual([]);
    expect(r.outcome).toBe('done');
  });
});

describe('the unsafe negative control', () => {
  it('passes failure-free runs (the checker does not fail trivially)', () => {
    for (const ratio of [0.2, 0.8]) {
      const r = runOnce({ scenario: 'wf-rw', seed: 3, sets: [['protocol', 'unsafe'], ['readRatio', ratio], ['requests', 40]] });
      expect(r.violations).toEqual([]);
      expect(r.report.exactlyOnce).toBe(true);
    }
  });
  it('is caught under crashes', () => {
    const caught = new Set<string>();
    for (let seed = 1; seed <= 5; seed++) {
      for (const v of runOnce({ scenario: 'wf-storm-ref', seed, sets: [['protocol', 'unsafe']] }).violations) caught.add(v.invariant);
    }
    expect([...caught].some((c) => c.startsWith('C1') || c.startsWith('C2'))).toBe(true);
  });
});
