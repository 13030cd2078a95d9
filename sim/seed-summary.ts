/**
 * What a sweep keeps of one seed's run: small enough to cross a worker thread. Apart from
 * sweep.ts so that the sweep worker's bundle (sweep-entry.ts) holds the run and this, nothing of
 * the thread pool.
 */
import type { Violation } from '../src/core/system.ts';
import type { Outcome, RunResult } from './simulator.ts';

export interface SeedSummary {
  readonly seed: number;
  readonly outcome: Outcome;
  readonly traceHash: string;
  readonly events: number;
  readonly simulatedTimeUs: number;
  readonly violations: readonly Violation[];
  readonly faults: Readonly<Record<string, number>>;
  readonly replay: string;
}

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
