/**
 * The parallel explorer (`--workers n`) against the sequential bfs: the same unique states,
 * transitions, depth and verdict on 2pc and on models through the system adapter (the register,
 * wf-tiny), with and without symmetry; and on broken models, violations of the same property at
 * the same (shortest) depth whose counterexamples replay in a freshly built model, in one thread,
 * to a state that violates the property. A deliberately wrong path (the sequential one cut short)
 * must fail the same replay check, so the check can fail.
 */
import { describe, expect, it } from 'vitest';
import { explore } from '../../sim/explore/index.ts';
import type { ExploreOptions, ExploreResult, Model, Path } from '../../sim/explore/model.ts';
import { exploreParallel } from '../../sim/explore/parallel.ts';
import { executeKeys, lastState } from '../../sim/explore/path.ts';
import { buildModel, type Sets } from '../../sim/explore/registry.ts';
import { ownerOf } from '../../sim/explore/parallel-search.ts';

type Spec = { model: string; sets: Sets; variant: string | null };

const seq = (s: Spec, o: Partial<ExploreOptions>) => explore(buildModel(s.model, s.sets, s.variant), { strategy: 'bfs', ...o }) as ExploreResult<unknown, unknown>;
const par = (s: Spec, o: Partial<ExploreOptions>, n: number) => exploreParallel(s, { strategy: 'bfs', ...o }, n);

const summary = (r: ExploreResult<unknown, unknown>) => ({
  uniqueStates: r.uniqueStates,
  statesGenerated: r.statesGenerated,
  maxDepth: r.maxDepth,
  verdict: r.verdict,
  complete: r.complete,
  depthLimitHit: r.depthLimitHit,
  witnesses: Object.fromEntries(Object.entries(r.witnesses).map(([k, v]) => [k, v === null ? null : v.path.steps.length])),
});

/** Whether a path, given as action keys, replays in a fresh model to a state failing `property`. */
function replaysToViolation(spec: Spec, path: Path<unknown, unknown>, found: Model<unknown, unknown>, property: string): boolean {
  const fresh = buildModel(spec.model, spec.sets, spec.variant) as Model<unknown, unknown>;
  const keys = path.steps.map((st) => found.actionKey(st.action));
  const again = executeKeys(fresh, keys);
  if (again === null) return false;
  const end = lastState(again);
  const p = fresh.properties.find((x) => x.name === property);
  if (p === undefined) return false;
  if (p.kind === 'always') return p.check(end) !== null;
  if (p.kind === 'final') return p.check(end, false) !== null;
  return false;
}

describe('parallel explorer', () => {
  it('spreads fingerprints over the workers', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[ownerOf(i, 0, 3)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });

  it('2pc rms=5: 8,832 states with 1, 2 and 3 workers, every figure the sequential one', async () => {
    const spec: Spec = { model: '2pc', sets: [['rms', 5]], variant: null };
    const one = seq(spec, {});
    expect(one.uniqueStates).toBe(8_832);
    for (const n of [2, 3]) expect(summary(await par(spec, {}, n))).toEqual(summary(one));
    // Symmetry and a depth bound too.
    const sym = seq(spec, { symmetry: true });
    expect(summary(await par(spec, { symmetry: true }, 2))).toEqual(summary(sym));
    const bounded = seq(spec, { depthMax: 7 });
    expect(bounded.depthLimitHit).toBe(true);
    expect(summary(await par(spec, { depthMax: 7 }, 2))).toEqual(summary(bounded));
  }, 60_000);

  it('the register and wf-tiny through the adapter: the same states as one thread', async () => {
    const cases: [Spec, Partial<ExploreOptions>][] = [
      [{ model: 'register', sets: [['clients', 1]], variant: null }, {}],
      [{ model: 'register', sets: [['clients', 1], ['crashes', 1], ['restarts', 1]], variant: null }, { symmetry: true }],
      [{ model: 'register', sets: [], variant: null }, { depthMax: 9 }],
      [{ model: 'wf-tiny', sets: [['protocol', 'hm-read']], variant: null }, { depthMax: 10 }],
    ];
    for (const [spec, o] of cases) {
      const one = seq(spec, o);
      expect(one.uniqueStates).toBeGreaterThan(500);
      expect(summary(await par(spec, o, 2)), JSON.stringify([spec, o])).toEqual(summary(one));
    }
    // The pinned wf-tiny count (test/arch/pinned-hashes.test.ts).
    expect((await par({ model: 'wf-tiny', sets: [['protocol', 'hm-read']], variant: null }, { depthMax: 10 }, 2)).uniqueStates).toBe(1_041);
  }, 120_000);

  it('broken models: the same property at the same depth, and a counterexample that replays in one thread', async () => {
    const cases: Spec[] = [
      { model: '2pc', sets: [['rms', 4]], variant: 'commit-early' },
      { model: '2pc', sets: [['rms', 4]], variant: 'abort-after-prepare' },
      { model: 'register', sets: [['clients', 1], ['opsPerClient', 2], ['checkers', 'every']], variant: 'read-one' },
      { model: 'register', sets: [['clients', 1], ['crashes', 1], ['restarts', 1]], variant: 'volatile-state' },
    ];
    for (const spec of cases) {
      const model = buildModel(spec.model, spec.sets, spec.variant) as Model<unknown, unknown>;
      const one = explore(model, { strategy: 'bfs' });
      const two = await par(spec, {}, 2);
      const where = JSON.stringify(spec);
      expect(one.verdict, where).toBe('fail');
      expect(two.verdict, where).toBe('fail');
      const v1 = one.violations[0]!;
      const v2 = two.violations[0]!;
      expect(v2.property, where).toBe(v1.property);
      expect(v2.path.steps.length, where).toBe(v1.path.steps.length);
      // The parallel counterexample is a path of the model (rebuilt in the main thread's model).
      expect(replaysToViolation(spec, v2.path, buildModel(spec.model, spec.sets, spec.variant) as Model<unknown, unknown>, v2.property), where).toBe(true);
      expect(replaysToViolation(spec, v1.path, model, v1.property), where).toBe(true);
      // The check can fail: the path without its last step does not reach the violation.
      const cut = { init: v2.path.init, steps: v2.path.steps.slice(0, -1) };
      expect(replaysToViolation(spec, cut, model, v2.property), where).toBe(false);
    }
  }, 120_000);

  it('a vacuous sometimes property fails as in one thread, and --max-states stops the search', async () => {
    const spec: Spec = { model: 'register', sets: [], variant: null };
    const one = seq(spec, { depthMax: 6 });
    const two = await par(spec, { depthMax: 6 }, 2);
    expect(two.verdict).toBe('fail');
    expect(two.stopReason).toBe(one.stopReason);
    const cut = await par({ model: '2pc', sets: [['rms', 6]], variant: null }, { statesMax: 5_000 }, 2);
    expect(cut.verdict).toBe('unknown');
    expect(cut.complete).toBe(false);
    expect(cut.uniqueStates).toBeLessThanOrEqual(5_000);
    expect(cut.uniqueStates).toBeGreaterThan(4_000);
  }, 60_000);

  it('refuses what it cannot run in parallel', async () => {
    const spec: Spec = { model: '2pc', sets: [['rms', 3]], variant: null };
    await expect(par(spec, { strategy: 'dfs' }, 2)).rejects.toThrow(/breadth-first/);
    await expect(exploreParallel(spec, { strategy: 'bfs' }, 1)).rejects.toThrow(/--workers/);
    await expect(exploreParallel({ model: 'nope', sets: [], variant: null }, { strategy: 'bfs' }, 2)).rejects.toThrow(/unknown model/);
  });
});
