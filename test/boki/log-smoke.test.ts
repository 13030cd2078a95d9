/**
 * Methodology: whole-system runs of the published cluster without faults (scenario log-smoke):
 * every checker must pass on a handful of seeds; a seed must reproduce its trace hash; the
 * calibrated latency model must put the median append near the published ~1 ms (spec §7.3
 * anchor: 0.88-1.10 ms at 300 us cut intervals, accepted here in [0.85, 1.2] ms); and the run
 * report must carry the log figures the CLI prints with --json.
 */
import { describe, expect, it } from 'vitest';
import { runJson } from '../../app/cli/commands/format.ts';
import { runOnce } from '../../sim/run.ts';

interface LogFigures {
  appends: number;
  reads: number;
  discarded: number;
  reconfigurations: number;
  appendLatencyUs: { p50: number; p99: number };
}

describe('log-smoke', () => {
  const runs = [1, 2, 3, 4].map((seed) => runOnce({ scenario: 'log-smoke', seed }));

  it('passes every checker', () => {
    for (const r of runs) {
      expect(r.violations).toEqual([]);
      expect(r.outcome).toBe('done');
    }
  });

  it('is deterministic per seed', () => {
    expect(runOnce({ scenario: 'log-smoke', seed: 2 }).traceHash).toBe(runs[1]!.traceHash);
    expect(runs[0]!.traceHash).not.toBe(runs[1]!.traceHash);
  });

  it('puts the median fault-free append near 1 ms, as measured on the published system', () => {
    const p50s = runs.map((r) => (r.report.log as LogFigures).appendLatencyUs.p50);
    for (const p of p50s) {
      expect(p).toBeGreaterThanOrEqual(850);
      expect(p).toBeLessThanOrEqual(1200);
    }
  });

  it('reports log figures at about 1,000 appends per second', () => {
    const log = runJson(runs[0]!).log as LogFigures;
    expect(log.appends).toBeGreaterThan(700);
    expect(log.appends).toBeLessThan(1300);
    expect(log.reads).toBeGreaterThan(100);
    expect(log.discarded).toBe(0);
    expect(log.reconfigurations).toBe(0);
    expect(log.appendLatencyUs.p99).toBeGreaterThanOrEqual(log.appendLatencyUs.p50);
  });
});
