/**
 * What a sweep keeps of one seed's run: small enough to cross a worker thread. Apart from
 * sweep.ts so that the sweep worker's bundle (sweep-entry.ts) holds the run and this, nothing of
 * the thread pool.
 */
import type { RunResult } from './simulator.ts';

/** The fields of a run a sweep keeps, as the run has them. */
export type SeedSummary = Pick<RunResult, 'seed' | 'outcome' | 'traceHash' | 'events' | 'simulatedTimeUs' | 'violations' | 'faults' | 'replay'>;

export function summarize(r: RunResult): SeedSummary {
  return {
    seed: r.seed,
    outcome: r.outcome,
    traceHash: r.traceHash,
    events: r.events,
    simulatedTimeUs: r.simulatedTimeUs,
    violations: r.violations,
    faults: r.faults,
    replay: r.replay,
  };
}
