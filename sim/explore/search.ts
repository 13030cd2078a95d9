/**
 * Exhaustive search: breadth-first (shortest counterexamples, level by level) and depth-first
 * (small frontier, optional sleep-set partial-order reduction). Both deduplicate on 64-bit
 * fingerprints in a typed-array set (`fpset.ts`), optionally of a canonical representative under
 * symmetry, and generate successors lazily, one action at a time.
 *
 * Partial-order reduction (dfs, `por`): sleep sets in the stateful form of Godefroid's thesis
 * ("Partial-Order Methods for the Verification of Concurrent Systems", LNCS 1032, ch. 5). After
 * exploring `a` from a state, `a` is put to sleep for the siblings explored next and stays asleep
 * in their successors as long as the actions taken are independent of it, because the
 * interleaving that takes `a` first reaches the same states. Each visited state remembers the
 * sleep set it was first explored with; reaching it again with a sleep set that is not a superset
 * re-explores it with the smaller one. Sleep sets remove redundant transitions, never states: every
 * reachable state is still visited, so every state property keeps its verdict, and the saving
 * shows as fewer states generated.
 *
 * Depth bounds with depth-first search: a state first reached deep and later reached by a shorter
 * path is re-expanded, so a depth-bounded dfs visits the same states as a depth-bounded bfs.
 */
import { wallNowMs } from '../wallclock.ts';
import { ChunkQueue, FpSet, FpSetFull } from './fpset.ts';
import { type Counters, finish, Judge, StateKey, vacuityMessage } from './judge.ts';
import type { ExploreOptions, ExploreResult, Model, Path } from './model.ts';
import { rebuildPath } from './path.ts';

const PROGRESS_EVERY = 1 << 16;

class Stop extends Error {
  constructor(readonly reason: string | null) {
    super(reason ?? 'stop');
  }
}

/** Breadth-first search; violations come with a shortest path. */
export function bfs<S, A>(model: Model<S, A>, opts: ExploreOptions): ExploreResult<S, A> {
  const t0 = wallNowMs();
  const key = new StateKey(model, opts.symmetry);
  const judge = new Judge(model, key, opts.violationsMax);
  const set = new FpSet(16, opts.memoryBytesMax, true);
  const c: Counters = { statesGenerated: 0, uniqueStates: 0, maxDepth: 0, depthLimitHit: false, bytes: 0 };
  const fp = new Int32Array(2);
  const raw = new Int32Array(2);
  const rawNext = new Int32Array(2);
  const useE = key.ebitsAll !== 0;
  const finals = judge.hasFinals;
  const isFault = model.isFault?.bind(model) ?? null;
  const pathTo = (id: number): Path<S, A> => rebuildPath(model, key, set, id);
  let cur = { s: new ChunkQueue<S>(), id: new ChunkQueue<number>(), e: new ChunkQueue<number>() };
  let nxt = { s: new ChunkQueue<S>(), id: new ChunkQueue<number>(), e: new ChunkQueue<number>() };
  let frontierPeak = 0;
  let stopReason: string | null = null;

  // Judges a newly discovered state; returns false when it must not be expanded.
  const discovered = (t: S, id: number): boolean => {
    c.uniqueStates++;
    const v = judge.checkAlways(t);
    if (v !== null) {
      judge.record(v.property, 'always', v.message, pathTo(id));
      if (judge.done) throw new Stop('stopped at the first violation');
      return false;
    }
    judge.checkSometimes(t, () => pathTo(id));
    if (c.uniqueStates >= opts.statesMax) throw new Stop(`reached the limit of ${opts.statesMax} states`);
    return true;
  };

  try {
    for (const s of model.initStates()) {
      const e = useE ? key.settle(s, key.ebitsAll) : 0;
      key.key(s, e, fp);
      const r = set.insert(fp[0]!, fp[1]!, -1);
      if (r < 0) continue;
      if (!discovered(s, r)) continue;
      cur.s.push(s);
      cur.id.push(r);
      if (useE) cur.e.push(e);
    }
    const acts: A[] = [];
    let depth = 0;
    while (cur.s.size > 0) {
      frontierPeak = Math.max(frontierPeak, cur.s.size);
      while (cur.s.size > 0) {
        const s = cur.s.shift()!;
        const id = cur.id.shift()!;
        const e = useE ? cur.e.shift()! : 0;
        if (depth >= opts.depthMax) {
          c.depthLimitHit = true;
          if (finals) {
            const f = judge.checkFinal(s, e, true);
            if (f !== null) {
              judge.record(f.property, f.kind, f.message, pathTo(id));
              if (judge.done) throw new Stop('stopped at the first violation');
            }
          }
          continue;
        }
        acts.length = 0;
        model.actions(s, acts);
        let progress = !finals;
        if (finals) model.fingerprint(s, raw);
        // The state's own key: a successor with it is a self-loop, known without a probe.
        const sa = set.laneA(id);
        const sb = set.laneB(id);
        for (let i = 0; i < acts.length; i++) {
          const a = acts[i]!;
          const t = model.next(s, a, acts);
          if (t === null) continue;
          c.statesGenerated++;
          if ((c.statesGenerated & (PROGRESS_EVERY - 1)) === 0) opts.onProgress?.({ uniqueStates: c.uniqueStates, statesGenerated: c.statesGenerated, depth });
          if (!progress && (isFault === null || !isFault(a))) {
            model.fingerprint(t, rawNext);
            progress = rawNext[0] !== raw[0] || rawNext[1] !== raw[1];
          }
          const te = useE ? key.settle(t, e) : 0;
          key.key(t, te, fp);
          if (fp[0] === sa && fp[1] === sb) continue;
          const r = set.insert(fp[0]!, fp[1]!, id);
          if (r < 0) continue;
          if (!discovered(t, r)) continue;
          nxt.s.push(t);
          nxt.id.push(r);
          if (useE) nxt.e.push(te);
        }
        if (!progress) {
          const f = judge.checkFinal(s, e, false);
          if (f !== null) {
            judge.record(f.property, f.kind, f.message, pathTo(id));
            if (judge.done) throw new Stop('stopped at the first violation');
          }
        }
      }
      depth++;
      if (nxt.s.size > 0) c.maxDepth = depth;
      const tmp = cur;
      cur = nxt;
      nxt = tmp;
    }
  } catch (e) {
    if (e instanceof Stop) stopReason = e.reason;
    else if (e instanceof FpSetFull) stopReason = e.message;
    else throw e;
  }
  c.bytes = set.bytes + frontierPeak * (useE ? 24 : 16);
  return finishExhaustive(model, opts, judge, c, t0, stopReason);
}

function finishExhaustive<S, A>(model: Model<S, A>, opts: ExploreOptions, judge: Judge<S, A>, c: Counters, t0: number, stopReason: string | null): ExploreResult<S, A> {
  const r = finish(model, opts, judge, c, wallNowMs() - t0, stopReason, { exhaustive: true });
  if (r.verdict === 'fail' && r.violations.length === 0) {
    return { ...r, stopReason: vacuityMessage(judge.unwitnessed(), r.uniqueStates) };
  }
  return r;
}

const NO_SLEEP: readonly never[] = [];

/**
 * Depth-first search in Stateright's form: pop the newest state, generate all its successors in
 * action order and push the new ones (so the last action's successor is explored next), with
 * optional sleep-set partial-order reduction. Violations come with the path through the states'
 * first-reached parents, which is valid but not necessarily shortest.
 */
export function dfs<S, A>(model: Model<S, A>, opts: ExploreOptions): ExploreResult<S, A> {
  const t0 = wallNowMs();
  const key = new StateKey(model, opts.symmetry);
  const judge = new Judge(model, key, opts.violationsMax);
  const set = new FpSet(16, opts.memoryBytesMax, true);
  const c: Counters = { statesGenerated: 0, uniqueStates: 0, maxDepth: 0, depthLimitHit: false, bytes: 0 };
  const por = opts.por && model.independent !== undefined;
  const indep = por ? model.independent!.bind(model) : null;
  const fp = new Int32Array(2);
  const raw = new Int32Array(2);
  const rawNext = new Int32Array(2);
  const useE = key.ebitsAll !== 0;
  const finals = judge.hasFinals;
  const isFault = model.isFault?.bind(model) ?? null;
  const pathTo = (id: number): Path<S, A> => rebuildPath(model, key, set, id);
  /** Shallowest depth each state was reached at, so a shorter path re-expands it. */
  let depthOf = new Int32Array(1 << 12);
  /**
   * Sleep sets each state was explored with (por), per frame. Under symmetry one search state
   * stands for every permutation of a concrete state, and action keys name concrete nodes, so a
   * sleep set only means something for the permutation it was computed on: each concrete state
   * (its raw fingerprint) is a frame of its own. A permutation reached for the first time is
   * explored again with its own sleep set, at most once per permutation and sleep set shrinking.
   */
  const sleepOf = new Map<number, Map<string, ReadonlySet<string>>>();
  const symOn = opts.symmetry && model.symmetry !== null;
  const frameFp = new Int32Array(2);
  const frameOf = (s: S): string => {
    if (!symOn) return '';
    model.fingerprint(s, frameFp);
    return `${frameFp[0]}:${frameFp[1]}`;
  };
  const stS: S[] = [];
  const stId: number[] = [];
  const stDepth: number[] = [];
  const stE: number[] = [];
  const stSleep: (readonly A[])[] = [];
  let stackPeak = 0;
  let stopReason: string | null = null;

  const setDepth = (id: number, d: number) => {
    if (id >= depthOf.length) {
      const n = new Int32Array(Math.max(depthOf.length * 2, id + 1));
      n.set(depthOf);
      depthOf = n;
    }
    depthOf[id] = d;
  };
  const violation = (property: string, kind: Parameters<Judge<S, A>['record']>[1], message: string, id: number) => {
    judge.record(property, kind, message, pathTo(id));
    if (judge.done) throw new Stop('stopped at the first violation');
  };
  const push = (s: S, id: number, depth: number, e: number, sleep: readonly A[]) => {
    stS.push(s);
    stId.push(id);
    stDepth.push(depth);
    stE.push(e);
    stSleep.push(sleep);
    if (stS.length > stackPeak) stackPeak = stS.length;
    setDepth(id, depth);
    if (por) {
      let frames = sleepOf.get(id);
      if (frames === undefined) sleepOf.set(id, (frames = new Map()));
      frames.set(frameOf(s), new Set(sleep.map((x) => model.actionKey(x))));
    }
  };
  // Judges a newly discovered state; returns false when it must not be expanded.
  const discovered = (t: S, id: number, d: number, e: number): boolean => {
    c.uniqueStates++;
    if (d > c.maxDepth) c.maxDepth = d;
    const v = judge.checkAlways(t);
    if (v !== null) {
      violation(v.property, 'always', v.message, id);
      return false;
    }
    judge.checkSometimes(t, () => pathTo(id));
    if (c.uniqueStates >= opts.statesMax) throw new Stop(`reached the limit of ${opts.statesMax} states`);
    if (d < opts.depthMax) return true;
    c.depthLimitHit = true;
    setDepth(id, d);
    if (finals) {
      const f = judge.checkFinal(t, e, true);
      if (f !== null) violation(f.property, f.kind, f.message, id);
    }
    return false;
  };

  try {
    for (const s of model.initStates()) {
      const e = useE ? key.settle(s, key.ebitsAll) : 0;
      key.key(s, e, fp);
      const r = set.insert(fp[0]!, fp[1]!, -1);
      if (r >= 0 && discovered(s, r, 0, e)) push(s, r, 0, e, NO_SLEEP);
    }
    const acts: A[] = [];
    while (stS.length > 0) {
      const s = stS.pop()!;
      const id = stId.pop()!;
      const depth = stDepth.pop()!;
      const e = stE.pop()!;
      const sleep = stSleep.pop()!;
      const sleepKeys = sleep.length === 0 ? null : new Set(sleep.map((x) => model.actionKey(x)));
      acts.length = 0;
      model.actions(s, acts);
      let progress = !finals;
      if (finals) model.fingerprint(s, raw);
      const explored: A[] = [];
      let forked: Set<string> | null = null;
      for (let i = 0; i < acts.length; i++) {
        const a = acts[i]!;
        const asleep = sleepKeys !== null && sleepKeys.has(model.actionKey(a));
        // An asleep action is not explored here; it is only run when it could decide terminality.
        if (asleep && (progress || (isFault !== null && isFault(a)))) continue;
        const before = acts.length;
        const t = model.next(s, a, acts);
        if (indep !== null && acts.length > before) {
          // An action that branched on a choice inside is never put to sleep, nor are its
          // siblings: skipping it would also skip discovering the branches.
          forked ??= new Set();
          forked.add(model.actionKey(a));
          for (let j = before; j < acts.length; j++) forked.add(model.actionKey(acts[j]!));
        }
        if (t === null) continue;
        if (!progress && (isFault === null || !isFault(a))) {
          model.fingerprint(t, rawNext);
          progress = rawNext[0] !== raw[0] || rawNext[1] !== raw[1];
        }
        if (asleep) continue;
        c.statesGenerated++;
        if ((c.statesGenerated & (PROGRESS_EVERY - 1)) === 0) opts.onProgress?.({ uniqueStates: c.uniqueStates, statesGenerated: c.statesGenerated, depth });
        let childSleep: readonly A[] = NO_SLEEP;
        if (indep !== null) {
          const cs: A[] = [];
          const aForked = forked !== null && forked.has(model.actionKey(a));
          if (!aForked) {
            for (const u of sleep) if (indep(u, a)) cs.push(u);
            for (const u of explored) if (indep(u, a)) cs.push(u);
            explored.push(a);
          }
          childSleep = cs;
        }
        const te = useE ? key.settle(t, e) : 0;
        key.key(t, te, fp);
        const r = set.insert(fp[0]!, fp[1]!, id);
        const d = depth + 1;
        if (r >= 0) {
          if (discovered(t, r, d, te)) push(t, r, d, te, childSleep);
          continue;
        }
        const old = -r - 1;
        const again = revisit(old, d, childSleep, t);
        if (again !== null) push(t, old, d, te, again);
      }
      if (!progress) {
        const f = judge.checkFinal(s, e, false);
        if (f !== null) violation(f.property, f.kind, f.message, id);
      }
    }
  } catch (e) {
    if (e instanceof Stop) stopReason = e.reason;
    else if (e instanceof FpSetFull) stopReason = e.message;
    else throw e;
  }
  c.bytes = set.bytes + depthOf.byteLength + stackPeak * 48;
  return finishExhaustive(model, opts, judge, c, t0, stopReason);

  /**
   * Whether a visited state must be explored again, and with which sleep set: when it is reached
   * by a shorter path in a search that cut paths at the depth bound, or (por) with an action
   * awake that was asleep before. It is then explored with what is asleep on both visits.
   */
  function revisit(id: number, d: number, sleep: readonly A[], t: S): readonly A[] | null {
    const shallower = c.depthLimitHit && d < depthOf[id]! && d < opts.depthMax;
    if (!por) return shallower ? NO_SLEEP : null;
    const stored = sleepOf.get(id)?.get(frameOf(t));
    // A permutation never explored: explore it with the sleep set it arrived with.
    if (stored === undefined) return sleep;
    const both = sleep.filter((x) => stored.has(model.actionKey(x)));
    const woke = both.length < stored.size;
    return shallower || woke ? both : null;
  }
}
