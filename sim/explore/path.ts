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
  const fp = new Int32Array(2);
  const matches = (s: S, e: number, k: number) => {
    key.key(s, e, fp);
    return fp[0] === set.laneA(chain[k]!) && fp[1] === set.laneB(chain[k]!);
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

/** All actions enabled in `s`, forks included, with the states they lead to. */
export function expandAll<S, A>(model: Model<S, A>, s: S): { action: A; state: S }[] {
  const acts: A[] = [];
  model.actions(s, acts);
  const out: { action: A; state: S }[] = [];
  for (let i = 0; i < acts.length; i++) {
    const t = model.next(s, acts[i]!, acts);
    if (t !== null) out.push({ action: acts[i]!, state: t });
  }
  return out;
}

/**
 * Re-executes a path given as action keys from the `initIndex`-th initial state. Returns null if some key is not enabled where the path needs it.
 */
export function executeKeys<S, A>(model: Model<S, A>, keys: readonly string[], initIndex = 0): Path<S, A> | null {
  const inits = model.initStates();
  if (initIndex < 0 || initIndex >= inits.length) throw new InputError(`${model.name}: the path names initial state ${initIndex}, but the model has ${inits.length}`);
  const init: S = inits[initIndex] as S;
  let cur: S = init;
  const steps: PathStep<S, A>[] = [];
  for (const k of keys) {
    const next = expandAll(model, cur).find((x) => model.actionKey(x.action) === k);
    if (next === undefined) return null;
    steps.push(next);
    cur = next.state;
  }
  return { init, steps };
}

/** The last state of a path. */
export function lastState<S, A>(p: Path<S, A>): S {
  return p.steps.length === 0 ? p.init : p.steps[p.steps.length - 1]!.state;
}
