/**
 * Guided search, for spaces too large to exhaust: seeded walks from an initial state that check
 * every property along the way and count distinct states reached (coverage).
 *
 * - `random`: every step takes an enabled action uniformly at random (Stateright's simulation,
 *   TLC's -simulate).
 * - `pct`: Probabilistic Concurrency Testing (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS
 *   2010). Each "thread" (a node: the actions it takes) gets a random priority; every step runs
 *   the highest-priority thread that can move, and at `pctDepth - 1` random steps the running
 *   thread drops to the lowest priority. A bug that needs d ordering constraints is found with
 *   probability at least 1/(n k^(d-1)) per walk, for n threads and walks of k steps.
 * - `coverage`: coverage-guided walks (AFL's and Antithesis' idea on a model): a corpus keeps the
 *   states at which a walk reached a never-seen fingerprint; each walk restarts from a corpus state
 *   chosen by energy (how productive it has been) and continues at random, so the search keeps
 *   pushing from the frontier of what it has covered instead of re-walking the well-trodden start.
 *
 * Guided search never proves anything: its verdict is `fail` (with the walk that failed, shrunk
 * by `shrinkPath`) or `unknown`. Coverage is counted in a fingerprint set, bounded by the memory
 * budget like the exhaustive searches'.
 */
import { assert, InputError } from '../../src/core/assert.ts';
import { createRng, type Rng } from '../rng.ts';
import { wallNowMs } from '../wallclock.ts';
import { FpSet, FpSetFull } from './fpset.ts';
import { executeFrom } from './path.ts';
import { type Counters, finish, Judge, StateKey } from './judge.ts';
import type { ExploreOptions, ExploreResult, Model, Path, PathStep, PropertyKind } from './model.ts';

/** Walks of guided strategies stop here when no depth bound is given. */
export const WALK_STEPS_DEFAULT = 1000;
const CORPUS_MAX = 4096;
/** Replays spent shrinking a walk's counterexample (each replays the whole candidate path). */
const SHRINK_RUNS_MAX = 400;

interface Seed<S, A> {
  readonly init: S;
  readonly state: S;
  readonly e: number;
  readonly steps: readonly PathStep<S, A>[];
  energy: number;
}

interface Found {
  readonly property: string;
  readonly kind: PropertyKind;
  readonly message: string;
  /** A final property judged at a walk cut by the depth bound rather than at a terminal state. */
  readonly truncated: boolean;
}

export function guided<S, A>(model: Model<S, A>, opts: ExploreOptions): ExploreResult<S, A> {
  assert(opts.strategy === 'random' || opts.strategy === 'pct' || opts.strategy === 'coverage', 'guided strategies: random, pct, coverage');
  const t0 = wallNowMs();
  const key = new StateKey(model, opts.symmetry);
  const judge = new Judge(model, key, opts.violationsMax);
  const seen = new FpSet(12, opts.memoryBytesMax, false);
  const c: Counters = { statesGenerated: 0, uniqueStates: 0, maxDepth: 0, depthLimitHit: false, bytes: 0 };
  const rng = createRng(opts.seed);
  const fp = new Int32Array(2);
  const raw = new Int32Array(2);
  const walkMax = opts.depthMax >= 1_000_000 ? WALK_STEPS_DEFAULT : opts.depthMax;
  const inits = model.initStates();
  const corpus: Seed<S, A>[] = [];
  const isFault = model.isFault?.bind(model) ?? null;
  let walks = 0;
  let stopReason: string | null = null;
  let coverageFull = false;
  let avgLen = walkMax;

  /** Counts a state into coverage; true when it was never seen. */
  const cover = (s: S, e: number): boolean => {
    if (coverageFull) return false;
    key.key(s, e, fp);
    try {
      if (seen.insert(fp[0]!, fp[1]!, -1) < 0) return false;
    } catch (err) {
      if (!(err instanceof FpSetFull)) throw err;
      coverageFull = true;
      return false;
    }
    c.uniqueStates++;
    return true;
  };

  const record = (f: Found, init: S, steps: readonly PathStep<S, A>[]) => {
    judge.record(f.property, f.kind, f.message, shrinkPath(model, { init, steps: [...steps] }, f, SHRINK_RUNS_MAX));
  };

  try {
    while (!judge.done) {
      if (opts.walks > 0 && walks >= opts.walks) break;
      if (c.statesGenerated >= opts.statesMax) {
        if (opts.walks > 0) stopReason = `reached the limit of ${opts.statesMax} steps`;
        break;
      }
      walks++;
      // Where the walk starts: an initial state, or (coverage) a corpus state chosen by energy.
      let start: Seed<S, A>;
      const fromCorpus = opts.strategy === 'coverage' && corpus.length > 0 && rng.nextFloat() < 0.8;
      if (fromCorpus) start = pickByEnergy(corpus, rng);
      else {
        const s = inits[rng.int(0, inits.length - 1)]!;
        start = { init: s, state: s, e: key.settle(s, key.ebitsAll), steps: [], energy: 1 };
        if (walks <= inits.length) {
          cover(s, start.e);
          const v = judge.checkAlways(s);
          if (v !== null) {
            record({ property: v.property, kind: 'always', message: v.message, truncated: false }, s, []);
            continue;
          }
          judge.checkSometimes(s, () => ({ init: s, steps: [] }));
        }
      }
      const init = start.init;
      const steps: PathStep<S, A>[] = [...start.steps];
      const pct = opts.strategy === 'pct' ? new PctSchedule(rng, opts.pctDepth, Math.max(1, Math.round(avgLen))) : null;
      let s = start.state;
      let e = start.e;
      let gained = false;
      let terminal = false;
      const acts: A[] = [];
      for (let depth = steps.length; depth < walkMax; depth++) {
        acts.length = 0;
        model.actions(s, acts);
        const pick = pct ? pct.order(model, acts, rng) : shuffled(acts, rng);
        let moved: { a: A; t: S } | null = null;
        let progress = false;
        if (pick.length > 0) model.fingerprint(s, raw);
        for (let i = 0; i < pick.length && moved === null; i++) {
          const r = branch(model, s, pick[i]!, rng);
          if (r === null) continue;
          c.statesGenerated++;
          const fault = isFault !== null && isFault(r.a);
          model.fingerprint(r.t, fp);
          const loop = fp[0] === raw[0] && fp[1] === raw[1];
          if (!fault && !loop) progress = true;
          // Self-loops move nothing; keep looking for an action that does.
          if (loop) continue;
          moved = r;
        }
        if (moved === null) {
          terminal = !progress;
          break;
        }
        if (pct) pct.ran(model, moved.a, depth);
        s = moved.t;
        e = key.settle(s, e);
        steps.push({ action: moved.a, state: s });
        if (depth + 1 > c.maxDepth) c.maxDepth = depth + 1;
        const fresh = cover(s, e);
        if (fresh) {
          gained = true;
          if (opts.strategy === 'coverage') addSeed(corpus, { init, state: s, e, steps: [...steps], energy: 2 }, rng);
        }
        const v = judge.checkAlways(s);
        if (v !== null) {
          record({ property: v.property, kind: 'always', message: v.message, truncated: false }, init, steps);
          break;
        }
        judge.checkSometimes(s, () => ({ init, steps: [...steps] }));
        if (c.statesGenerated >= opts.statesMax) break;
      }
      avgLen = avgLen * 0.9 + Math.max(1, steps.length) * 0.1;
      if (fromCorpus) start.energy = gained ? start.energy + 1 : Math.max(0.1, start.energy * 0.7);
      if (judge.done) break;
      if (!terminal && steps.length >= walkMax) c.depthLimitHit = true;
      const f = judge.checkFinal(s, e, !terminal);
      if (f !== null) record({ ...f, truncated: !terminal }, init, steps);
      if (walks % 256 === 0) opts.onProgress?.({ uniqueStates: c.uniqueStates, statesGenerated: c.statesGenerated, depth: c.maxDepth });
    }
  } catch (err) {
    if (err instanceof FpSetFull) stopReason = err.message;
    else throw err;
  }
  if (stopReason === null && judge.violations.length > 0 && judge.done) stopReason = 'stopped at the first violation';
  if (stopReason === null && !judge.done) stopReason = opts.walks > 0 ? `ran ${walks} walks` : `ran ${c.statesGenerated} steps`;
  c.bytes = seen.bytes;
  return finish(model, opts, judge, c, wallNowMs() - t0, stopReason, { walks, exhaustive: false });
}

/**
 * Takes action `a`; when the step branched on a choice inside (forks), follows one branch chosen
 * uniformly at each level.
 */
function branch<S, A>(model: Model<S, A>, s: S, a: A, rng: Rng): { a: A; t: S } | null {
  let forks: A[] = [];
  let t = model.next(s, a, forks);
  let cur = a;
  for (let level = 0; forks.length > 0 && level < 64; level++) {
    const j = rng.int(0, forks.length);
    if (j === 0) break;
    const alt = forks[j - 1]!;
    const more: A[] = [];
    const u = model.next(s, alt, more);
    if (u === null) break;
    cur = alt;
    t = u;
    forks = more;
  }
  return t === null ? null : { a: cur, t };
}

function addSeed<S, A>(corpus: Seed<S, A>[], seed: Seed<S, A>, rng: Rng): void {
  if (corpus.length < CORPUS_MAX) {
    corpus.push(seed);
    return;
  }
  // Evict the weaker of two random seeds (a tournament keeps eviction cheap).
  const i = rng.int(0, corpus.length - 1);
  const j = rng.int(0, corpus.length - 1);
  corpus[corpus[i]!.energy <= corpus[j]!.energy ? i : j] = seed;
}

function pickByEnergy<S, A>(corpus: Seed<S, A>[], rng: Rng): Seed<S, A> {
  // Two-way tournament on energy, with a little pure chance so low-energy seeds still get runs.
  const a = corpus[rng.int(0, corpus.length - 1)]!;
  const b = corpus[rng.int(0, corpus.length - 1)]!;
  if (rng.nextFloat() < 0.1) return a;
  return a.energy >= b.energy ? a : b;
}

function shuffled<A>(acts: readonly A[], rng: Rng): A[] {
  const out = acts.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const x = out[i]!;
    out[i] = out[j]!;
    out[j] = x;
  }
  return out;
}

/** One PCT walk's priorities and change points. */
class PctSchedule {
  private readonly prio = new Map<number, number>();
  private readonly changes: number[];
  private next = 0;
  constructor(
    private readonly rng: Rng,
    private readonly d: number,
    k: number,
  ) {
    this.changes = Array.from({ length: Math.max(0, d - 1) }, () => rng.int(1, Math.max(1, k))).sort((a, b) => a - b);
  }
  private priority(t: number): number {
    let p = this.prio.get(t);
    if (p === undefined) {
      // Fresh threads get distinct priorities above every change-point priority.
      p = this.d + this.rng.nextFloat() * 1e6;
      this.prio.set(t, p);
    }
    return p;
  }
  /** Actions of the highest-priority thread first (random within it), then the rest by priority. */
  order<S, A>(model: Model<S, A>, acts: readonly A[], rng: Rng): A[] {
    const th = model.thread?.bind(model) ?? (() => 0);
    return shuffled(acts, rng)
      .map((a) => ({ a, p: this.priority(th(a)) }))
      .sort((x, y) => y.p - x.p)
      .map((x) => x.a);
  }
  ran<S, A>(model: Model<S, A>, a: A, step: number): void {
    while (this.next < this.changes.length && this.changes[this.next]! <= step) {
      const th = model.thread?.(a) ?? 0;
      this.prio.set(th, this.next + 1 - this.d);
      this.next++;
    }
  }
}

/**
 * Shrinks a failing path (delta debugging on its actions, replayed by action key): drops chunks of
 * steps while the rest still replays and still fails the same property. Walks are long and full of
 * detours; BFS gives shortest counterexamples, and this gives guided search short ones.
 */
export function shrinkPath<S, A>(model: Model<S, A>, path: Path<S, A>, f: Found, runsMax = 2000): Path<S, A> {
  let best = path;
  let keys = path.steps.map((s) => model.actionKey(s.action));
  let runs = 0;
  for (let chunk = Math.max(1, keys.length >> 1); chunk >= 1 && runs < runsMax; chunk = chunk >> 1) {
    let i = 0;
    while (i < keys.length && runs < runsMax) {
      const cand = [...keys.slice(0, i), ...keys.slice(i + chunk)];
      runs++;
      const p = executeFrom(model, path.init, cand);
      if (p !== null && fails(model, p, f)) {
        keys = cand;
        best = p;
      } else i += chunk;
    }
  }
  return best;
}

/** Rebuilds what a recorded discovery found, to shrink its path. */
export function guidedFound<S, A>(property: string, kind: string, model: Model<S, A>, p: Path<S, A>): Found {
  const prop = model.properties.find((x) => x.name === property);
  if (prop === undefined) throw new InputError(`the model has no property '${property}'`);
  const last = p.steps.length === 0 ? p.init : p.steps[p.steps.length - 1]!.state;
  const truncated = prop.kind === 'final' && !isTerminal(model, last);
  const message = prop.kind === 'always' ? (prop.check(last) ?? '') : prop.kind === 'final' ? (prop.check(last, truncated) ?? '') : '';
  return { property, kind: prop.kind === 'sometimes' ? 'sometimes' : (kind as PropertyKind), message, truncated };
}

/** Does the path end in (or pass through) the same kind of failure? */
function fails<S, A>(model: Model<S, A>, p: Path<S, A>, f: Found): boolean {
  const prop = model.properties.find((x) => x.name === f.property);
  if (prop === undefined) return false;
  const states = [p.init, ...p.steps.map((x) => x.state)];
  switch (prop.kind) {
    case 'always':
      return states.some((s) => prop.check(s) !== null);
    case 'final': {
      const last = states[states.length - 1]!;
      if (!f.truncated && !isTerminal(model, last)) return false;
      return prop.check(last, f.truncated) !== null;
    }
    case 'eventually':
      return !states.some((s) => prop.holds(s)) && isTerminal(model, states[states.length - 1]!);
    case 'sometimes':
      return false;
  }
}

function isTerminal<S, A>(model: Model<S, A>, s: S): boolean {
  const acts: A[] = [];
  model.actions(s, acts);
  const raw = new Int32Array(2);
  const fp = new Int32Array(2);
  model.fingerprint(s, raw);
  for (let i = 0; i < acts.length; i++) {
    const a = acts[i]!;
    if (model.isFault?.(a)) continue;
    const t = model.next(s, a, acts);
    if (t === null) continue;
    model.fingerprint(t, fp);
    if (fp[0] !== raw[0] || fp[1] !== raw[1]) return false;
  }
  return true;
}
