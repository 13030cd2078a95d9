/**
 * Methodology: the scripted workload the explorer's log-tiny runs (params.workload 'script') is
 * run in the simulator on the published cluster, so the two agree on what it does: it completes
 * with every check passing, gets the answers it was written to provoke (three appends succeed, the
 * stale and the gapped conditional appends fail, the reads find the records), and the variants it
 * exposes in the explorer are caught here too. The default workload is unaffected by the new key.
 */
import { describe, expect, it } from 'vitest';
import { runOnce } from '../../sim/run.ts';
import { callsAndReturns } from '../../proofs/liveness.ts';
import type { LogReply, LogRequest } from '../../src/boki/api.ts';
import { SCRIPT } from '../../src/boki/driver.ts';

const script = (variant: string | null = null) => runOnce({ scenario: 'log-smoke', seed: 1, sets: [['workload', 'script']], variant });

/** The run's operations and their answers, in call order. */
function answers(): { op: string; code: string | undefined }[] {
  const r = runOnce({
    scenario: 'log-smoke',
    seed: 1,
    sets: [['workload', 'script']],
    analyze: (run) => callsAndReturns(run.history).map((o) => ({ op: (o.input as LogRequest).op, code: (o.output as LogReply | undefined)?.code })),
  });
  expect(r.violations).toEqual([]);
  return r.report.analysis as { op: string; code: string | undefined }[];
}

describe('the scripted workload', () => {
  it('completes with every check passing, one answer per scripted operation', () => {
    const r = script();
    expect(r.violations).toEqual([]);
    expect(r.outcome).toBe('done');
    const ops = answers();
    expect(ops.map((o) => o.op)).toEqual([...SCRIPT]);
    expect(ops.map((o) => o.code)).toEqual(['OK', 'APPEND_OK', 'APPEND_OK', 'COND_FAILED', 'COND_FAILED', 'APPEND_OK', 'READ_OK', 'READ_OK', 'READ_OK', 'TRIM_OK', 'OK']);
  });

  it('catches bug-cond-ge and gapped-condpos-crash, as the explorer does', () => {
    expect(script('bug-cond-ge').violations.map((v) => v.invariant)).toContain('log-cond-decisions');
    expect(script('gapped-condpos-crash').violations.map((v) => v.invariant)).toContain('fatal');
  });

  it('rejects an unknown workload', () => {
    expect(() => runOnce({ scenario: 'log-smoke', seed: 1, sets: [['workload', 'bursty']] })).toThrow(/params.workload: must be 'mixed' or 'script'/);
  });
});
