/**
 * Methodology: in failure-free `wf-rw` runs every request's successful records must equal the
 * spec's per-protocol formula exactly (the system's P1 check fails the run otherwise, and we
 * recompute the published per-request targets here independently), and the Halfmoon protocols
 * must append fewer records than Boki at every read ratio. The targets are the spec's §9.1 table
 * (R/W = 1/9, 3/7, 5/5, 7/3, 9/1).
 */
import { describe, expect, it } from 'vitest';
import { runOnce } from '../../sim/run.ts';

const published: Record<string, number[]> = {
  boki: [21, 19, 17, 15, 13],
  'hm-read': [20, 16, 12, 8, 4],
  'hm-write': [3, 5, 7, 9, 11],
};
const ratios = [0.1, 0.3, 0.5, 0.7, 0.9];

function appendsPerRequest(protocol: string, readRatio: number): { perRequest: number; violations: string[] } {
  const r = runOnce({ scenario: 'wf-rw', seed: 7, sets: [['protocol', protocol], ['readRatio', readRatio], ['requests', 40]] });
  const log = r.report.log as { appendsPerRequest: number };
  return { perRequest: log.appendsPerRequest, violations: r.violations.map((v) => `${v.invariant}: ${v.message}`) };
}

describe('failure-free record counts', () => {
  it.each(Object.keys(published))('%s matches the published per-request targets', (protocol) => {
    ratios.forEach((ratio, i) => {
      const got = appendsPerRequest(protocol, ratio);
      expect(got.violations).toEqual([]);
      expect(got.perRequest).toBe(published[protocol]![i]);
    });
  });

  it('transitional logs both sides and unsafe only intents and invocations', () => {
    for (const ratio of ratios) {
      const r = Math.floor(10 * ratio + 1e-9);
      const w = 10 - r;
      expect(appendsPerRequest('transitional', ratio).perRequest).toBe(2 + r + 2 * w);
      expect(appendsPerRequest('unsafe', ratio).perRequest).toBe(2);
    }
  });

  it('hm-read and hm-write append fewer records than boki at every read ratio', () => {
    for (let ratio = 0.1; ratio < 0.95; ratio += 0.1) {
      const boki = appendsPerRequest('boki', ratio).perRequest;
      expect(appendsPerRequest('hm-read', ratio).perRequest).toBeLessThan(boki);
      expect(appendsPerRequest('hm-write', ratio).perRequest).toBeLessThan(boki);
    }
  });

  it('the better Halfmoon protocol logs min(R, W) data operations (log-optimality)', () => {
    for (const ratio of ratios) {
      const r = Math.floor(10 * ratio + 1e-9);
      const w = 10 - r;
      // HM-R logs 2 records per write and HM-W 1 per read, plus Intent and Done.
      const hmr = (appendsPerRequest('hm-read', ratio).perRequest - 2) / 2;
      const hmw = appendsPerRequest('hm-write', ratio).perRequest - 2;
      expect(Math.min(hmr, hmw)).toBe(Math.min(r, w));
    }
  });

  it('singleop matches its published targets (Boki 9, HM-R 6, HM-W 5)', () => {
    const got: Record<string, number> = {};
    for (const p of ['boki', 'hm-read', 'hm-write']) {
      const r = runOnce({ scenario: 'wf-singleop', seed: 1, sets: [['protocol', p], ['requests', 20]] });
      expect(r.violations).toEqual([]);
      got[p] = (r.report.log as { appendsPerRequest: number }).appendsPerRequest;
    }
    expect(got).toEqual({ boki: 9, 'hm-read': 6, 'hm-write': 5 });
  });
});
