/**
 * Methodology (issue 15, item 9): every checker direction is trusted only once a deliberately
 * broken variant shows it failing, and a direction is a real one only if the other checks would
 * pass that very run. For each direction the audit added (or made observable), its variant runs on
 * seeds the canonical build passes, and the set of violated invariant names must be exactly that
 * direction's: the rest of the checkers, run on the same history, find nothing.
 *
 *   C6-read-witness        an HM-R read that names INIT (no version at or below its cursor) must
 *                          return INIT's value; the stale and past-cursor directions cannot see a
 *                          read that names no version at all (hmr-empty-snapshot-reads-latest)
 *   P5-unlogged-op         every read (HM-W) or write (HM-R) is logged by some execution; the old
 *                          P5 compared a formula with itself and could not fail, and P4 only
 *                          judges appends that happen (hmw-reread-unlogged)
 *   log-blocking-read-early a blocking readNext that finds nothing waits out its timeout; the
 *                          bound of log-blocking-read only judges the late side (bug-blocking-no-wait)
 *   switch-liveness        a switch that began ends; the transitional mode is safe, so a
 *                          coordinator stuck in it passed every check (switch-drain-never-starts)
 *   C5-stable-output       no variant reached it before: every response to a request carries
 *                          Done's output, also a retry's that only replays Done (done-replay-drops-output;
 *                          C2 compares only executions that ran the function)
 *   C6-read-past-cursor    (earlier work, in test/halfmoon/read-dependence.test.ts)
 */
import { describe, expect, it } from 'vitest';
import { runOnce } from '../../sim/run.ts';

type Sets = [string, unknown][];

const FAILURE_FREE: Sets = [['crashProbability', 0], ['faults.random', null]];

const CASES: readonly { variant: string; scenario: string; sets: Sets; seeds: readonly number[]; invariant: string }[] = [
  { variant: 'hmr-empty-snapshot-reads-latest', scenario: 'wf-storm-ref', sets: [['protocol', 'hm-read'], ...FAILURE_FREE], seeds: [2, 3], invariant: 'C6-read-witness' },
  { variant: 'hmw-reread-unlogged', scenario: 'wf-storm-ref', sets: [['protocol', 'hm-write'], ...FAILURE_FREE], seeds: [1, 2], invariant: 'P5-unlogged-op' },
  { variant: 'done-replay-drops-output', scenario: 'wf-storm-ref', sets: [['protocol', 'hm-write']], seeds: [1, 2], invariant: 'C5-stable-output' },
  { variant: 'bug-blocking-no-wait', scenario: 'log-variant-lazy-blocking-timeout', sets: [], seeds: [1, 2], invariant: 'log-blocking-read-early' },
  {
    variant: 'switch-drain-never-starts',
    scenario: 'wf-switching',
    sets: [['protocol', 'hm-write'], ['durationUs', 3_500_000], ['phaseUs', 0], ['switchEveryUs', 1_000_000], ['keys', 50], ['livenessBoundUs', 2_000_000]],
    seeds: [1],
    invariant: 'switch-liveness',
  },
];

describe('each added checker direction is the only one that catches its variant', () => {
  for (const c of CASES) {
    it(`${c.variant} is caught by ${c.invariant} alone on ${c.scenario}; the canonical build passes`, { timeout: 120_000 }, () => {
      for (const seed of c.seeds) {
        const good = runOnce({ scenario: c.scenario, seed, sets: c.sets });
        expect(good.violations.map((v) => `${v.invariant}: ${v.message}`), `canonical seed ${seed}`).toEqual([]);
        const bad = runOnce({ scenario: c.scenario, seed, sets: c.sets, variant: c.variant });
        expect([...new Set(bad.violations.map((v) => v.invariant))], `${c.variant} seed ${seed}: ${bad.violations[0]?.message}`).toEqual([c.invariant]);
      }
    });
  }
});
