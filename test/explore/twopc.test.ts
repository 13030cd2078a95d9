/**
 * Methodology: the explorer is pinned against published numbers. Two-phase commit (TLA+ TwoPhase,
 * as Stateright's examples/2pc.rs models it) has 288 reachable states with 3 resource managers
 * and 8,832 with 5, and 665 under Stateright's symmetry reduction in its depth-first order; our
 * full canonical form (one state per orbit) is pinned too. Both deliberate bugs must be refuted by
 * every strategy and under every reduction, with a shortest counterexample from bfs. The
 * reductions are compared on verdicts and on the states they visit.
 */
import { describe, expect, it } from 'vitest';
import { explore } from '../../sim/explore/index.ts';
import type { ExploreOptions } from '../../sim/explore/model.ts';
import { TwoPcModel, type TwoPcVariant } from '../../sim/explore/models/twopc.ts';

const model = (rms: number, variant: TwoPcVariant | null = null, symmetry: 'sort' | 'full' = 'full') => new TwoPcModel({ rms, variant, symmetry });

/** Every reachable state, by a plain worklist over the packed numbers (an independent oracle). */
function reachable(m: TwoPcModel): Set<number> {
  const seen = new Set<number>(m.initStates());
  const todo = [...seen];
  const acts: number[] = [];
  while (todo.length > 0) {
    const s = todo.pop()!;
    acts.length = 0;
    m.actions(s, acts);
    for (const a of acts) {
      const t = m.next(s, a, null);
      if (!seen.has(t)) {
        seen.add(t);
        todo.push(t);
      }
    }
  }
  return seen;
}

describe('2pc state counts', () => {
  it('has 288 unique states with 3 RMs (bfs) and 8,832 with 5 (bfs and dfs)', () => {
    expect(explore(model(3), { strategy: 'bfs' }).uniqueStates).toBe(288);
    expect(explore(model(5), { strategy: 'bfs' }).uniqueStates).toBe(8832);
    expect(explore(model(5), { strategy: 'dfs' }).uniqueStates).toBe(8832);
    expect(reachable(model(5)).size).toBe(8832);
  });

  it("has 665 unique states with 5 RMs under Stateright's symmetry reduction (dfs)", () => {
    const r = explore(model(5, null, 'sort'), { strategy: 'dfs', symmetry: true });
    expect(r.uniqueStates).toBe(665);
    expect(r.verdict).toBe('pass');
  });

  it('visits one state per orbit with the full canonical form, whatever the order', () => {
    const m = model(5);
    const orbits = new Set<string>();
    const fp = new Int32Array(2);
    for (const s of reachable(m)) {
      m.symmetry!.canonicalFingerprint(s, fp);
      orbits.add(`${fp[0]},${fp[1]}`);
    }
    expect(orbits.size).toBe(314);
    expect(explore(m, { strategy: 'bfs', symmetry: true }).uniqueStates).toBe(314);
    expect(explore(m, { strategy: 'dfs', symmetry: true }).uniqueStates).toBe(314);
  });

  it('has 296,448 states with 7 RMs and reaches both agreements', () => {
    const r = explore(model(7), { strategy: 'bfs' });
    expect(r.uniqueStates).toBe(296_448);
    expect(r.verdict).toBe('pass');
    expect(r.witnesses['abort agreement']).not.toBeNull();
    expect(r.witnesses['commit agreement']!.path.steps.length).toBe(22);
  });

  it('generates fewer transitions with sleep sets and still visits every state', () => {
    const plain = explore(model(5), { strategy: 'dfs' });
    const por = explore(model(5), { strategy: 'dfs', por: true });
    expect(por.uniqueStates).toBe(plain.uniqueStates);
    expect(por.statesGenerated).toBeLessThan(plain.statesGenerated);
    expect(por.verdict).toBe('pass');
  });
});

describe('2pc bugs', () => {
  const strategies: Partial<ExploreOptions>[] = [
    { strategy: 'bfs' },
    { strategy: 'dfs' },
    { strategy: 'bfs', symmetry: true },
    { strategy: 'dfs', symmetry: true },
    { strategy: 'dfs', por: true },
    { strategy: 'dfs', por: true, symmetry: true },
    { strategy: 'random', seed: 7, statesMax: 200_000 },
    { strategy: 'pct', seed: 7, statesMax: 200_000 },
    { strategy: 'coverage', seed: 7, statesMax: 200_000 },
  ];
  for (const variant of ['commit-early', 'abort-after-prepare'] as const) {
    for (const sym of ['sort', 'full'] as const) {
      it(`${variant} is refuted by every strategy and reduction (${sym} symmetry)`, () => {
        for (const o of strategies) {
          const r = explore(model(4, variant, sym), o);
          expect(r.verdict, JSON.stringify(o)).toBe('fail');
          expect(r.violations[0]!.property).toBe('consistent');
          // The counterexample really is one: replay it and check the last state.
          const m = model(4, variant, sym);
          let s = r.violations[0]!.path.init;
          for (const st of r.violations[0]!.path.steps) {
            const acts: number[] = [];
            m.actions(s, acts);
            expect(acts).toContain(st.action);
            s = m.next(s, st.action, null);
            expect(s).toBe(st.state);
          }
          expect(m.properties.find((p) => p.name === 'consistent')!.kind).toBe('always');
          expect((m.properties.find((p) => p.name === 'consistent') as { check(s: number): string | null }).check(s)).not.toBeNull();
        }
      });
    }
  }

  it('gives the shortest counterexample with bfs', () => {
    // commit-early: prepare one RM, the TM hears it and commits, the RM learns it, another aborts.
    expect(explore(model(3, 'commit-early'), { strategy: 'bfs' }).violations[0]!.path.steps.length).toBe(5);
    // abort-after-prepare: every RM prepares, the TM hears all and commits, one RM aborts anyway
    // while another commits: 3 + 3 + 1 + 1 + 1 steps with 3 RMs.
    expect(explore(model(3, 'abort-after-prepare'), { strategy: 'bfs' }).violations[0]!.path.steps.length).toBe(9);
  });

  it('reports a vacuous model: a sometimes property never reached fails a complete search', () => {
    // Within one step nothing can commit: the bounded search is complete, and a sometimes
    // property it never reached makes it fail rather than pass vacuously.
    const r = explore(model(1), { strategy: 'bfs', depthMax: 1 });
    expect(r.complete).toBe(true);
    expect(r.depthLimitHit).toBe(true);
    expect(r.verdict).toBe('fail');
    expect(r.stopReason).toContain('commit agreement');
  });

  it('stops with an honest reason when the memory budget is too small', () => {
    const r = explore(model(7), { strategy: 'bfs', memoryBytesMax: 256 * 1024 });
    expect(r.verdict).toBe('unknown');
    expect(r.stopReason).toContain('memory budget');
  });
});
