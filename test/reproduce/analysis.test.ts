/**
 * The per-run measurements' request filters, as the artifact's compute_latency.py applies them:
 * warm-up requests are left out, then the first sixth of the rest, and latencies above 30× the
 * median are dropped as outliers; checked on a synthetic history whose answer is known.
 */
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/core/system.ts';
import { latencyMeasures, measuredRequests } from '../../app/reproduce/analysis.ts';

function history(latUs: readonly number[]): HistoryEvent[] {
  const ev: HistoryEvent[] = [];
  latUs.forEach((lat, k) => {
    ev.push({ kind: 'call', t: k * 1000, reqId: `q${k}`, client: 'driver', node: 'eng0', body: null });
    ev.push({ kind: 'ret', t: k * 1000 + lat, reqId: `q${k}`, client: 'driver', node: 'eng0', body: null });
  });
  ev.push({ kind: 'call', t: 5, reqId: 'coord:1', client: 'driver', node: 'eng0', body: null });
  return ev.sort((a, b) => a.t - b.t);
}

describe('measured requests', () => {
  it('leaves out warm-up requests, then the first sixth, and coordinator requests', () => {
    const h = history(Array.from({ length: 18 }, () => 100));
    expect([...measuredRequests(h, 0).ids]).toEqual(Array.from({ length: 15 }, (_, i) => `q${i + 3}`));
    expect([...measuredRequests(h, 6).ids]).toEqual(Array.from({ length: 10 }, (_, i) => `q${i + 8}`));
  });

  it('drops latencies above 30 times the median and interpolates quantiles', () => {
    // After dropping q0 (the first sixth of 6), latencies 10..14 ms and one 1 s outlier.
    const h = history([9_000, 10_000, 11_000, 12_000, 13_000, 1_000_000]);
    const m = latencyMeasures(measuredRequests(h, 0));
    expect(m.completed).toBe(5);
    expect(m.outliers).toBe(1);
    expect(m.p50Ms).toBe(11.5);
    expect(m.meanMs).toBe(11.5);
  });
});
