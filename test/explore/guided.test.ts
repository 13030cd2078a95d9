/**
 * Methodology: guided search is judged on models whose answer is known. A combination lock (a
 * counter that one action advances and several actions reset) hides its violation at depth 20:
 * uniform random walks essentially never get there, coverage-guided walks must, because they
 * restart from the deepest states they have covered. Every strategy must find the 2pc bugs with a
 * fixed seed, report the same thing for the same seed, never claim a proof, and shrink the walk it
 * failed on to a short path that still fails.
 */
import { describe, expect, it } from 'vitest';
import { explore } from '../../sim/explore/index.ts';
import type { Model } from '../../sim/explore/model.ts';
import { TwoPcModel } from '../../sim/explore/models/twopc.ts';

const DEPTH = 20;
const lock: Model<number, number> = {
  name: 'lock',
  params: {},
  initStates: () => [0],
  actions: (s, out) => {
    if (s < DEPTH) out.push(0);
    for (let r = 1; r <= 4; r++) out.push(r);
  },
  next: (s, a) => (a === 0 ? s + 1 : 0),
  fingerprint: (s, out) => {
    out[0] = s;
    out[1] = 0;
  },
  symmetry: null,
  properties: [{ kind: 'always', name: 'locked', check: (s) => (s === DEPTH ? 'the lock opened' : null) }],
  actionKey: (a) => (a === 0 ? 'advance' : `reset ${a}`),
  describeAction: (a) => (a === 0 ? 'advance' : `reset ${a}`),
  describeState: (s) => s,
};

describe('guided search', () => {
  it('coverage feedback opens the combination lock where uniform random walks do not', () => {
    const budget = { statesMax: 200_000, depthMax: 100, seed: 3 };
    const random = explore(lock, { strategy: 'random', ...budget });
    expect(random.verdict).toBe('unknown');
    expect(random.uniqueStates).toBeLessThan(DEPTH);
    const coverage = explore(lock, { strategy: 'coverage', ...budget });
    expect(coverage.verdict).toBe('fail');
    expect(coverage.uniqueStates).toBe(DEPTH + 1);
    // The walk that opened it wandered; shrunk, it is the 20 advances and nothing else.
    const path = coverage.violations[0]!.path;
    expect(path.steps.map((s) => s.action)).toEqual(new Array(DEPTH).fill(0));
  });

  it('finds the 2pc bug with every strategy, deterministically per seed, and shrinks the walk', () => {
    for (const strategy of ['random', 'pct', 'coverage'] as const) {
      const run = () => explore(new TwoPcModel({ rms: 5, variant: 'commit-early', symmetry: 'full' }), { strategy, seed: 11, statesMax: 100_000 });
      const a = run();
      const b = run();
      expect(a.verdict, strategy).toBe('fail');
      expect(a.violations[0]!.property).toBe('consistent');
      expect(a.statesGenerated).toBe(b.statesGenerated);
      expect(a.violations[0]!.path.steps.map((s) => s.action)).toEqual(b.violations[0]!.path.steps.map((s) => s.action));
      // No step of the shrunk path can be dropped: it is at most a few steps over the shortest (5).
      expect(a.violations[0]!.path.steps.length).toBeLessThanOrEqual(8);
    }
  });

  it('never claims a proof: a correct model ends unknown with the walks it ran', () => {
    const r = explore(new TwoPcModel({ rms: 3, variant: null, symmetry: 'full' }), { strategy: 'pct', walks: 50, seed: 1 });
    expect(r.verdict).toBe('unknown');
    expect(r.walks).toBe(50);
    expect(r.stopReason).toBe('ran 50 walks');
    expect(r.uniqueStates).toBeGreaterThan(10);
  });
});
