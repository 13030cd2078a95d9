/**
 * The explorer's model interface: a transition system the searches in `search.ts` and
 * `guided.ts` walk. Two kinds of models implement it: hand-written ones whose states are packed
 * into numbers for speed (`models/twopc.ts`), and the adapter that turns any `SystemInstance`
 * into a model (`world.ts`), so the machines the simulator runs are the machines the explorer
 * checks.
 *
 * Semantics, in the vocabulary of Stateright and Antithesis:
 * - `always` properties must hold in every reachable state; a state where one fails is a
 *   counterexample.
 * - `sometimes` properties must hold in at least one reachable state; a complete search that never
 *   finds one fails (the model is vacuous: the property it was meant to exercise never happens).
 * - `eventually` properties must hold somewhere along every path that ends in a terminal state.
 *   Honest limits: a path that loops forever without reaching a terminal state is never judged
 *   (there is no lasso detection), and a depth-limited path is not judged either.
 * - `final` properties judge terminal states (and, with `truncated` set, states cut off by the
 *   depth limit): that is where a system's checkers run on the finished history.
 *
 * A *terminal* state is one where no non-fault action leads to a different state: nothing is left
 * to happen except faults and self-loops (a retransmission timer that resends what is in flight).
 */

/** Two 32-bit lanes of a 64-bit fingerprint, written by a model into a caller-owned array. */
export type Fp = Int32Array;

export type Property<S> =
  | { readonly kind: 'always'; readonly name: string; check(s: S): string | null }
  | { readonly kind: 'sometimes'; readonly name: string; holds(s: S): boolean }
  | { readonly kind: 'eventually'; readonly name: string; holds(s: S): boolean }
  | { readonly kind: 'final'; readonly name: string; check(s: S, truncated: boolean): string | null };

export type PropertyKind = Property<unknown>['kind'];

/** One node of a model as the trace viewer draws it. */
export interface TraceNode {
  readonly id: string;
  readonly role: string;
  readonly driver: boolean;
}

/** What a model contributes to a counterexample trace (records in `sim/trace.ts` format). */
export interface TraceAdapter<S, A> {
  nodes(): readonly TraceNode[];
  /**
   * Records describing an initial state (typically one `boot` record per node). Called first for
   * every path, so an adapter may reset per-path bookkeeping (message ids) here.
   */
  boot(s: S): Record<string, unknown>[];
  /** Records for one step `prev --a--> next`, the i-th of the path. */
  step(prev: S, a: A, next: S, i: number): Record<string, unknown>[];
}

export interface Model<S, A> {
  readonly name: string;
  /** Parameters that rebuild this model (written into trace headers for replay). */
  readonly params: Readonly<Record<string, unknown>>;
  initStates(): readonly S[];
  /** Pushes every action enabled in `s` onto `out` (which the caller has emptied). */
  actions(s: S, out: A[]): void;
  /**
   * The state `a` leads to from `s`, or null when `a` turns out to be disabled. `s` is never
   * modified. When `forks` is given, a model whose action made a nondeterministic choice inside
   * (a machine's `ctx.maybe`) pushes the sibling actions that take the other branches; the search
   * explores them like any other action.
   */
  next(s: S, a: A, forks: A[] | null): S | null;
  /** Writes the state's 64-bit fingerprint. Equal states must give equal fingerprints. */
  fingerprint(s: S, out: Fp): void;
  /**
   * Symmetry reduction: the fingerprint of a representative of `s`'s equivalence class under
   * permutations of interchangeable nodes. Absent when the model declares no symmetry.
   */
  readonly symmetry: { readonly name: string; canonicalFingerprint(s: S, out: Fp): void } | null;
  readonly properties: readonly Property<S>[];
  /** Stable identity of an action in a state, for traces, replay, sleep sets and path shrinking. */
  actionKey(a: A): string;
  /** Readable one-line description of an action taken from `s`. */
  describeAction(a: A, s: S): string;
  /** Plain-data rendering of a state for people and traces. */
  describeState(s: S): unknown;
  /**
   * Partial-order reduction: do `a` and `b` (both taken from the same state) commute, and does
   * neither enable or disable the other? Only called with actions that were already executed by
   * `next`. Absent: every pair is dependent, and `por` changes nothing.
   */
  independent?(a: A, b: A): boolean;
  /** Fault actions (crash, drop, ...) do not make a state non-terminal. */
  isFault?(a: A): boolean;
  /** The "thread" an action belongs to (a node), for PCT priority schedules. */
  thread?(a: A): number;
  /** Records for counterexample traces; absent: a generic one-node rendering. */
  readonly trace?: TraceAdapter<S, A>;
}

/** A step of a path: the action taken and the state it led to. */
export interface PathStep<S, A> {
  readonly action: A;
  readonly state: S;
}

export interface Path<S, A> {
  readonly init: S;
  readonly steps: readonly PathStep<S, A>[];
}

export type Strategy = 'bfs' | 'dfs' | 'random' | 'pct' | 'coverage';
export const STRATEGIES: readonly Strategy[] = ['bfs', 'dfs', 'random', 'pct', 'coverage'];

export interface Discovery<S, A> {
  readonly property: string;
  readonly kind: PropertyKind;
  /** What went wrong (violations) or what was witnessed (sometimes). */
  readonly message: string;
  readonly path: Path<S, A>;
}

export interface ExploreStats {
  /** Successor states computed (transitions taken), duplicates included. */
  readonly statesGenerated: number;
  /** Distinct states (after symmetry reduction) stored. */
  readonly uniqueStates: number;
  readonly maxDepth: number;
  readonly wallMs: number;
  readonly statesPerSecond: number;
  /** Bytes of the fingerprint set and frontier per unique state. */
  readonly bytesPerState: number;
}

export type Verdict = 'pass' | 'fail' | 'unknown';

export interface ExploreResult<S, A> extends ExploreStats {
  readonly model: string;
  readonly strategy: Strategy;
  readonly symmetry: boolean;
  readonly por: boolean;
  /**
   * pass: the (bounded) space was explored completely and every property held;
   * fail: a violation was found, or a `sometimes` property never held in a complete search;
   * unknown: a limit stopped the search before either.
   */
  readonly verdict: Verdict;
  /** Whether every reachable state within the depth bound was explored. */
  readonly complete: boolean;
  /** Whether some path was cut at the depth limit (a complete search is then a bounded proof). */
  readonly depthLimitHit: boolean;
  readonly stopReason: string | null;
  /** Violations found (the search stops at the first unless asked to collect more). */
  readonly violations: readonly Discovery<S, A>[];
  /** Per `sometimes` property: its first witness, or null. */
  readonly witnesses: Readonly<Record<string, Discovery<S, A> | null>>;
  /** Guided strategies: walks run. */
  readonly walks?: number;
}

export interface ExploreOptions {
  readonly strategy: Strategy;
  /** Maximum path length explored (actions from an initial state). */
  readonly depthMax: number;
  /** Stop after this many distinct states (exhaustive) or steps (guided). */
  readonly statesMax: number;
  /** Stop when the fingerprint set and frontier would exceed this many bytes. */
  readonly memoryBytesMax: number;
  readonly symmetry: boolean;
  /** Sleep-set partial-order reduction (dfs only). */
  readonly por: boolean;
  /** Keep searching after the first violation, up to this many. */
  readonly violationsMax: number;
  /** Guided strategies: seed of the walk generator. */
  readonly seed: number;
  /** Guided strategies: number of walks (0: until statesMax steps). */
  readonly walks: number;
  /** PCT: number of priority change points. */
  readonly pctDepth: number;
  /** Called now and then with progress figures. */
  readonly onProgress?: ((s: { uniqueStates: number; statesGenerated: number; depth: number }) => void) | null;
}

export const DEFAULT_OPTIONS: ExploreOptions = {
  strategy: 'bfs',
  depthMax: 1_000_000,
  statesMax: 50_000_000,
  memoryBytesMax: 4 * 1024 * 1024 * 1024,
  symmetry: false,
  por: false,
  violationsMax: 1,
  seed: 1,
  walks: 0,
  pctDepth: 3,
  onProgress: null,
};
