/**
 * Paths: rebuilding a counterexample from the fingerprints a breadth-first search stored, and
 * re-executing a path given as action keys (trace replay, path shrinking). No state is stored
 * during the search; a path is recovered by re-running the model from an initial state and, at
 * each step, taking the successor whose key matches the next stored fingerprint. Under symmetry
 * the successor found may be a permutation of the one first explored, which is still a real
 * path of the model.
 */
import { AssertionFailure, InputError } from '../../src/core/assert.ts';
import type { FpSet } from './fpset.ts';
import type { StateKey } from './judge.ts';
import type { Model, Path, PathStep } from './model.ts';

/** The path to state `id` of a search's fingerprint set. */
export function rebuildPath<S, A>(model: Model<S, A>, key: StateKey<S, A>, set: FpSet, id: number): Path<S, A> {
  const chain = set.chain(id);
  const lanes = new Int32Array(chain.length * 2);
  chain.forEach((x, k) => {
    lanes[2 * k] = set.laneA(x);
    lanes[2 * k + 1] = set.laneB(x);
  });
  return pathThrough(model, key, lanes);
}

/**
 * The path through the states whose keys are `lanes` (two int32s per state, from an initial
 * state on), found by re-executing the model and taking at each step a successor with the next key.
 */
export function pathThrough<S, A>(model: Model<S, A>, key: StateKey<S, A>, lanes: Int32Array): Path<S, A> {
  const chain = { length: lanes.length >> 1 };
  const fp = new Int32Array(2);
  const matches = (s: S, e: number, k: number) => {
    key.key(s, e, fp);
    return fp[0] === lanes[2 * k] && fp[1] === lanes[2 * k + 1];
  };
  let cur: S | null = null;
  let e = 0;
  for (const s of model.initStates()) {
    const se = key.settle(s, key.ebitsAll);
    if (matches(s, se, 0)) {
      cur = s;
      e = se;
      break;
    }
  }
  if (cur === null) throw new AssertionFailure(`${model.name}: no initial state matches the stored path (a nondeterministic model?)`);
  const init = cur;
  const steps: PathStep<S, A>[] = [];
  const acts: A[] = [];
  for (let k = 1; k < chain.length; k++) {
    acts.length = 0;
    model.actions(cur, acts);
    let found = false;
    for (let i = 0; i < acts.length && !found; i++) {
      const t = model.next(cur, acts[i]!, acts);
      if (t === null) continue;
      const te = key.settle(t, e);
      if (matches(t, te, k)) {
        steps.push({ action: acts[i]!, state: t });
        cur = t;
        e = te;
        found = true;
      }
    }
    if (!found) throw new AssertionFailure(`${model.name}: step ${k} of a stored path cannot be re-executed (a nondeterministic model?)`);
  }
  return { init, steps };
}

/**
 * Takes the action with key `key` from `s`, executing only what is needed: the enabled action
 * with that key, or, for a key that names a branch inside a step ("<action>#<choices>"), the step
 * whose branches include it. Returns null when no enabled action has that key.
 */
export function takeKey<S, A>(model: Model<S, A>, s: S, key: string): PathStep<S, A> | null {
  const acts: A[] = [];
  model.actions(s, acts);
  for (const a of acts) {
    if (model.actionKey(a) !== key) continue;
    const t = model.next(s, a, null);
    if (t !== null) return { action: a, state: t };
  }
  if (!key.includes('#')) return null;
  // A branch: run the steps whose key is a prefix, and follow the forks they report.
  const pending = acts.filter((a) => key.startsWith(`${model.actionKey(a)}#`));
  for (let i = 0; i < pending.length; i++) {
    const a = pending[i]!;
    const forks: A[] = [];
    const t = model.next(s, a, forks);
    if (t !== null && model.actionKey(a) === key) return { action: a, state: t };
    for (const f of forks) if (key === model.actionKey(f) || key.startsWith(`${model.actionKey(f)}.`)) pending.push(f);
    if (pending.length > 10_000) break;
  }
  return null;
}

/**
 * Re-executes a path given as action keys from the `initIndex`-th initial state. Returns null if
 * some key is not enabled where the path needs it.
 */
export function executeKeys<S, A>(model: Model<S, A>, keys: readonly string[], initIndex = 0): Path<S, A> | null {
  const inits = model.initStates();
  if (initIndex < 0 || initIndex >= inits.length) throw new InputError(`${model.name}: the path names initial state ${initIndex}, but the model has ${inits.length}`);
  return executeFrom(model, inits[initIndex] as S, keys);
}

/** Re-executes action keys from a given state; null if some key is not enabled where needed. */
export function executeFrom<S, A>(model: Model<S, A>, init: S, keys: readonly string[]): Path<S, A> | null {
  let cur: S = init;
  const steps: PathStep<S, A>[] = [];
  for (const k of keys) {
    const next = takeKey(model, cur, k);
    if (next === null) return null;
    steps.push(next);
    cur = next.state;
  }
  return { init, steps };
}

/** The last state of a path. */
export function lastState<S, A>(p: Path<S, A>): S {
  return p.steps.length === 0 ? p.init : p.steps[p.steps.length - 1]!.state;
}
