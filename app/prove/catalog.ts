/**
 * The catalog of bounded proofs: each entry is a property (what it states, which checker judges
 * it), a small configuration of a model, and the expected outcome. A proof that is expected to
 * hold is an exhaustive check of its configuration: every reachable state within the bounds is
 * visited, so "holds" means holds for that configuration, not in general. A refutation expects a
 * counterexample: deliberately broken variants, the `unsafe` control and ablations must fail, or
 * the checker that should catch them is not trusted.
 *
 * Groups:
 * - `2pc`: two-phase commit's consistency, with the published state counts pinned, and two bugs;
 * - `register`: the ABD register's linearizability and its invariants under a crash, and every
 *   broken register variant refuted;
 * - `wf`: exactly-once for each Halfmoon protocol on `wf-tiny` (two requests of two operations,
 *   at most one function crash), the unsafe control and every artifact variant refuted, minus the
 *   variants the spec expects to survive (non-findings, reported as such);
 * - `log`: the Boki log's invariants and checks on `log-tiny` (a scripted invocation of eleven
 *   operations, at most one crash and restart; untimed, and timed with a spare sequencer for view
 *   changes), and each Boki variant log-tiny can express refuted, minus the variants it cannot
 *   express (with the reason).
 *
 * `fast` marks the subset CI runs on every change (`halfmoon prove --fast`); the whole catalog runs
 * with `halfmoon prove`.
 */
import type { ExploreOptions } from '../../sim/explore/model.ts';
import { findModel, type Sets } from '../../sim/explore/registry.ts';
import { SYSTEMS } from '../../src/systems/index.ts';
import { protocolByName, protocolNames } from '../../src/halfmoon/protocols.ts';

export interface ProofDef {
  /** Unique, "<group>/<what>". */
  readonly name: string;
  readonly group: string;
  /** The statement proved or refuted, in words. */
  readonly statement: string;
  /** The checkers and invariants that judge it. */
  readonly checker: string;
  readonly model: string;
  readonly sets: Sets;
  readonly variant: string | null;
  /**
   * holds: an exhaustive search proves it for the configuration; refuted: some search finds a
   * counterexample; survives: a guided search of the given budget finds none (evidence, not proof,
   * for configurations too large to exhaust).
   */
  readonly expect: 'holds' | 'refuted' | 'survives';
  /** For refutations: the properties one of which must fail (any property when absent). */
  readonly refutedBy?: readonly string[];
  /** For refutations: a pattern the violation's message must match (which sub-check caught it). */
  readonly refutedMatch?: string;
  /**
   * A known, reported defect makes this proof fail for now: the failure is expected and shown as
   * KNOWN, and the proof coming out as expected is reported so the note gets removed (strict).
   */
  readonly knownIssue?: string;
  readonly options: Partial<ExploreOptions>;
  /** Part of the subset CI runs. */
  readonly fast: boolean;
  /** Pinned unique-state count: a proof whose space changed size fails until re-pinned. */
  readonly states?: number;
  /** Why the proof cannot run in this build (its system is missing), or absent. */
  readonly pending?: string;
}

const BFS: Partial<ExploreOptions> = { strategy: 'bfs' };

// ---------------------------------------------------------------------------------------------
// 2pc

function twoPcProofs(): ProofDef[] {
  const consistent = 'no resource manager commits while another aborts, and both agreements are reachable';
  const checker = "always 'consistent'; sometimes 'abort agreement', 'commit agreement'";
  const base = { group: '2pc', checker, model: '2pc', variant: null, expect: 'holds' as const };
  return [
    { ...base, name: '2pc/consistent-rms3', statement: `${consistent} (3 RMs)`, sets: [['rms', 3]], options: BFS, fast: true, states: 288 },
    { ...base, name: '2pc/consistent-rms5', statement: `${consistent} (5 RMs)`, sets: [['rms', 5]], options: BFS, fast: true, states: 8832 },
    {
      ...base,
      name: '2pc/consistent-rms5-symmetry-sort',
      statement: `${consistent} (5 RMs, Stateright's symmetry reduction in its depth-first order)`,
      sets: [['rms', 5], ['symmetry', 'sort']],
      options: { strategy: 'dfs', symmetry: true },
      fast: true,
      states: 665,
    },
    {
      ...base,
      name: '2pc/consistent-rms5-symmetry-full',
      statement: `${consistent} (5 RMs, one state per orbit under RM permutations)`,
      sets: [['rms', 5]],
      options: { strategy: 'bfs', symmetry: true },
      fast: true,
      states: 314,
    },
    { ...base, name: '2pc/consistent-rms7', statement: `${consistent} (7 RMs)`, sets: [['rms', 7]], options: BFS, fast: false, states: 296_448 },
    ...(['commit-early', 'abort-after-prepare'] as const).flatMap((v) =>
      [
        { tag: '', options: BFS },
        { tag: '-symmetry', options: { strategy: 'bfs' as const, symmetry: true } },
        { tag: '-por', options: { strategy: 'dfs' as const, por: true } },
      ].map((o) => ({
        ...base,
        name: `2pc/${v}-refuted${o.tag}`,
        statement: `the ${v} bug breaks consistency (4 RMs${o.tag ? `, with ${o.tag.slice(1)}` : ''})`,
        sets: [['rms', 4]] as Sets,
        variant: v,
        expect: 'refuted' as const,
        refutedBy: ['consistent'],
        options: o.options,
        fast: true,
      })),
    ),
  ];
}

// ---------------------------------------------------------------------------------------------
// Register

const EVERY_LIN = ['linearizability (every state)', 'linearizability'];

/**
 * How each broken register variant is exposed in the explorer: the smallest configuration and
 * budget that does. One client suffices for all of them (its operations are sequential, and the
 * bug shows between them); `checkers: every` judges linearizability in every state, so the search
 * stops at the first stale answer instead of draining the network first.
 */
export const REGISTER_REFUTATIONS: Readonly<Record<string, { sets: Sets; refutedBy: readonly string[]; fast: boolean; why: string }>> = {
  'no-retransmit': { sets: [['clients', 1], ['drops', 2]], refutedBy: ['liveness'], fast: true, why: 'two dropped messages stall an operation that never resends' },
  'count-acks': { sets: [['clients', 1], ['opsPerClient', 2], ['duplicates', 1], ['checkers', 'every']], refutedBy: EVERY_LIN, fast: false, why: 'a duplicated acknowledgement fakes a quorum' },
  'no-ts-compare': { sets: [['clients', 1], ['opsPerClient', 2]], refutedBy: ['replica-timestamp-monotonic', 'linearizability'], fast: true, why: 'a late older put overwrites a newer value' },
  'ack-before-sync': { sets: [['clients', 1], ['crashes', 1], ['restarts', 1]], refutedBy: ['replica-timestamp-monotonic', 'linearizability'], fast: true, why: 'a crash loses an acknowledged, unsynced write' },
  'volatile-state': { sets: [['clients', 1], ['crashes', 1], ['restarts', 1]], refutedBy: ['replica-timestamp-monotonic', 'linearizability'], fast: true, why: 'a restart forgets the register' },
  'read-one': { sets: [['clients', 1], ['opsPerClient', 2], ['checkers', 'every']], refutedBy: EVERY_LIN, fast: true, why: 'a read trusts one replica and skips the write-back' },
  'expire-old-puts': { sets: [['clients', 1], ['opsPerClient', 2], ['timeStepUs', 5000], ['checkers', 'every']], refutedBy: EVERY_LIN, fast: false, why: 'a put delayed past 20 ms is acknowledged but ignored (timed model: 5 ms per step)' },
  'timeout-commit': { sets: [['clients', 1], ['opsPerClient', 2], ['drops', 2], ['checkers', 'every']], refutedBy: EVERY_LIN, fast: true, why: 'a client that gives up reports success without a quorum' },
  'wallclock-ts': { sets: [['clients', 1], ['opsPerClient', 3], ['checkers', 'every']], refutedBy: EVERY_LIN, fast: true, why: 'timestamps from clocks (all zero untimed) order a client\'s own writes wrongly' },
};

function registerProofs(): ProofDef[] {
  const lin = 'every history is linearizable, every operation completes at a terminal state, and no replica timestamp goes back';
  const checker = 'linearizability, liveness, replica-timestamp-monotonic; sometimes workload completes';
  const base = { group: 'register', checker, model: 'register', variant: null, expect: 'holds' as const };
  const sym = { strategy: 'bfs' as const, symmetry: true };
  const out: ProofDef[] = [
    { ...base, name: 'register/abd-1x2', statement: `${lin} (3 replicas, 1 client x 2 operations)`, sets: [['clients', 1], ['opsPerClient', 2]], options: sym, fast: true, states: 15_545 },
    { ...base, name: 'register/abd-1x1-crash-restart', statement: `${lin} (3 replicas, 1 client x 1 operation, <= 1 crash and 1 restart)`, sets: [['clients', 1], ['crashes', 1], ['restarts', 1]], options: sym, fast: true, states: 1_605 },
    { ...base, name: 'register/abd-1x1-drop-duplicate', statement: `${lin} (3 replicas, 1 client x 1 operation, <= 1 drop and 1 duplicate)`, sets: [['clients', 1], ['drops', 1], ['duplicates', 1]], options: sym, fast: true, states: 2_017 },
    { ...base, name: 'register/abd-1x2-crash', statement: `${lin} (3 replicas, 1 client x 2 operations, <= 1 replica crash)`, sets: [['clients', 1], ['opsPerClient', 2], ['crashes', 1]], options: sym, fast: false, states: 34_453 },
    { ...base, name: 'register/abd-1x2-crash-restart', statement: `${lin} (3 replicas, 1 client x 2 operations, <= 1 crash and 1 restart)`, sets: [['clients', 1], ['opsPerClient', 2], ['crashes', 1], ['restarts', 1]], options: sym, fast: false, states: 294_725 },
    { ...base, name: 'register/abd-2x1', statement: `${lin} (3 replicas, 2 concurrent clients x 1 operation)`, sets: [], options: sym, fast: false, states: 389_457 },
    { ...base, name: 'register/abd-2x1-crash', statement: `${lin} (3 replicas, 2 concurrent clients x 1 operation, <= 1 replica crash)`, sets: [['crashes', 1]], options: sym, fast: false, states: 908_058 },
  ];
  for (const [variant, r] of Object.entries(REGISTER_REFUTATIONS)) {
    out.push({
      ...base,
      name: `register/${variant}-refuted`,
      statement: `the ${variant} variant is caught: ${r.why}`,
      checker: r.refutedBy.join(' or '),
      sets: r.sets,
      variant,
      expect: 'refuted',
      refutedBy: r.refutedBy,
      options: { strategy: 'bfs', symmetry: true },
      fast: r.fast,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Halfmoon workflows

/** Protocols that must be exactly-once, and the control that must not be. */
export const WF_PROTOCOLS = ['boki', 'hm-read', 'hm-write', 'transitional'] as const;

/**
 * wf-tiny is too large to exhaust (the adapter visits about 30,000 states before the first request
 * completes), so its group runs coverage-guided searches: refutations must find their
 * counterexample within the budget, canonical protocols must survive it.
 */
const WF_SEARCH = { strategy: 'coverage' as const, statesMax: 100_000, seed: 1 };
/** Refutations keep searching past violations that are not the one expected (up to ten). */
const WF_REFUTE = { ...WF_SEARCH, violationsMax: 10 };
/** Plain random walks: some refutations need one crash at a particular point, which coverage
 * guidance steers away from while it chases new states. */
const WF_REFUTE_RANDOM = { strategy: 'random' as const, statesMax: 300_000, seed: 1, violationsMax: 10 };
/** PCT walks: priority schedules reach a crash deep in one request while another runs to the end. */
const WF_REFUTE_PCT = { strategy: 'pct' as const, statesMax: 300_000, seed: 1, violationsMax: 10 };
/*
 * History: this catalog's coverage search found that a restarted function node redrew the same
 * execution keys (the explorer derives ctx.randomU32 from a node's own state, identical after a
 * restart), so two incarnations' executions merged in the checker and C2 fired falsely. The
 * runtime now keys executions by a synced incarnation counter.
 */

/**
 * How each artifact variant is exposed on wf-tiny: the protocol, extra settings, and the sub-check
 * expected to catch it. Variants not listed are run on hm-write with the default programs.
 */
/** A variant the guided search does not expose within its budget: a reportable finding (spec §7.4). */
const NOT_EXPOSED = 'no counterexample within the budget on wf-tiny: a reportable non-finding until a schedule that exposes it is added';

const SYNC_INVOKE = [[{ call: [{ w: 'k0', v: 'c' }] }, { r: 'k0' }], [{ r: 'k0' }]];

export const WF_VARIANT_SETUPS: Readonly<Record<string, { protocol: string; sets?: Sets; match?: string; knownIssue?: string; random?: boolean }>> = {
  'invoke-result-unwrapped': { protocol: 'hm-write', sets: [['programs', SYNC_INVOKE]], match: 'C4', knownIssue: NOT_EXPOSED },
  // Concurrent duplicate executions: one retry may fire while the first execution is running.
  'advisory-exit': { protocol: 'hm-write', sets: [['earlyTimers', 1]] },
  'gapped-condpos-crash': { protocol: 'hm-write', sets: [['earlyTimers', 1]], match: 'C4', knownIssue: NOT_EXPOSED },
  'eventual-store-reads': { protocol: 'hm-write', match: 'C6-read-consistency' },
  'step-hash-collision-fatal': { protocol: 'hm-write', match: 'C4-no-fatal: .*foreign record' },
  'random-top-level-id': { protocol: 'hm-write', match: 'P2-fault-bound|C3|C4' },
  // One request reading then writing: a crash right after the logged read, then a replay.
  'postread-untyped': { protocol: 'hm-write', sets: [['programs', [[{ r: 'k0' }, { w: 'k0', v: 'a' }]]], ['requests', 1]], match: 'C4-no-fatal: .*replay mismatch', random: true },
  // Concurrent duplicate executions both reaching Done.
  'done-plain-append': { protocol: 'hm-write', sets: [['earlyTimers', 1]], match: 'C4-one-completion', random: true },
  'hmw-version-tie': { protocol: 'hm-write', sets: [['programs', [[{ w: 'k0', v: 'a' }, { w: 'k0', v: 'b' }], [{ r: 'k0' }]]]], match: 'C1|C6' },
  'hmw-caller-write-dropped': {
    protocol: 'hm-write',
    sets: [['programs', [[{ call: [{ w: 'k0', v: 'c' }] }, { w: 'k0', v: 'p' }], [{ r: 'k0' }]]]],
    match: 'C1',
  },
  'hmr-caller-misses-callee-writes': { protocol: 'hm-read', sets: [['programs', [[{ call: [{ w: 'k0', v: 'c' }] }, { r: 'k0' }], [{ r: 'k0' }]]]], match: 'C6' },
  // A read concurrent with a write of its key, by the other request.
  'hmr-read-past-cursor': { protocol: 'hm-read', sets: [['programs', [[{ r: 'k0' }, { r: 'k0' }], [{ w: 'k0', v: 'a' }]]]], match: 'C6-read-past-cursor', random: true },
  'hmr-empty-snapshot-reads-latest': { protocol: 'hm-read', sets: [['programs', [[{ r: 'k0' }, { r: 'k0' }], [{ w: 'k0', v: 'a' }]]]], match: 'C6-read-witness' },
  // A crash after Done, then the retry that replays it (caught on wf-storm-ref, test/halfmoon/one-sided.test.ts).
  'done-replay-drops-output': { protocol: 'hm-write', match: 'C5-stable-output', random: true, knownIssue: NOT_EXPOSED },
  // One request reading one key twice: the repeat goes unlogged.
  'hmw-reread-unlogged': { protocol: 'hm-write', sets: [['programs', [[{ r: 'k0' }, { r: 'k0' }], [{ w: 'k0', v: 'a' }]]]], match: 'P5-unlogged-op' },
};

/**
 * Variants the spec expects to survive a bounded search (reportable non-findings), and variants
 * the tiny configuration cannot expose, with the reason.
 */
export const WF_NOT_EXPECTED: Readonly<Record<string, string>> = {
  'hmr-no-postwrite-skip': 'no violation expected without GC (spec §10.2): the re-put writes the same row again',
  'version-float64': 'needs seqnums beyond 2^53, unreachable in a tiny log',
  'keytag-xor-symmetric': 'needs rows (a, b) and (b, a) of two tables; the tiny programs use one table (caught in test/halfmoon/variants.test.ts)',
  'readprev-pending-hang': 'a Boki engine variant; wf-tiny runs on the reference log, which has no index (caught by the log scenario log-variant-readprev-pending-hang)',
  'switch-no-reconciliation': 'needs protocol switching, which wf-tiny does not run (caught in test/halfmoon/switching.test.ts)',
  'transitional-early-commit': 'needs switching eras and crashes (caught in test/halfmoon/switching.test.ts)',
  'switch-drain-never-starts': 'needs protocol switching, which wf-tiny does not run (caught by switch-liveness in test/halfmoon/one-sided.test.ts)',
  'transitional-dual-order': 'needs two transitional writers with crossing orders under store jitter (caught in test/halfmoon/switching.test.ts)',
};

function wfProofs(): ProofDef[] {
  const entry = findModel('wf-tiny');
  const pending = entry.unavailable() ?? undefined;
  const checker = 'exactly-once (C1-C6), log accounting, liveness';
  const base = { group: 'wf', checker, model: 'wf-tiny', options: WF_SEARCH, fast: false, ...(pending ? { pending } : {}) };
  const out: ProofDef[] = [];
  for (const p of WF_PROTOCOLS) {
    out.push({
      ...base,
      name: `wf/${p}-exactly-once`,
      statement: `${p} runs every request exactly once: no counterexample in ${WF_SEARCH.statesMax} coverage-guided steps (2 requests x 2 operations, 2 function nodes, <= 1 function crash)`,
      sets: [['protocol', p]],
      variant: null,
      expect: 'survives',
    });
  }
  // Protocols registered beyond the built-ins (plugins: defineProtocol) claim exactly-once too.
  for (const p of protocolNames()) {
    if ((WF_PROTOCOLS as readonly string[]).includes(p) || p === 'unsafe' || protocolByName(p)?.adaptive === true) continue;
    out.push({
      ...base,
      name: `wf/${p}-exactly-once`,
      statement: `the registered protocol ${p} runs every request exactly once: no counterexample in ${WF_SEARCH.statesMax} coverage-guided steps (2 requests x 2 operations, 2 function nodes, <= 1 function crash)`,
      sets: [['protocol', p]],
      variant: null,
      expect: 'survives',
    });
  }
  out.push({
    ...base,
    name: 'wf/unsafe-refuted',
    statement: 'the unsafe control (unlogged reads and writes) is not exactly-once: the reader crashes after a read, the writer commits, the re-execution reads the new value (P6)',
    sets: [['protocol', 'unsafe']],
    variant: null,
    expect: 'refuted',
    refutedBy: ['exactly-once'],
    refutedMatch: 'C1|C2-replay: .* as (read|write)',
    options: WF_REFUTE_RANDOM,
  });
  for (const v of SYSTEMS.halfmoon?.variants ?? []) {
    if (WF_NOT_EXPECTED[v.name] !== undefined || v.name.startsWith('ablate-')) continue;
    const setup = WF_VARIANT_SETUPS[v.name] ?? { protocol: 'hm-write' };
    out.push({
      ...base,
      name: `wf/${v.name}-refuted`,
      statement: `the ${v.name} variant is caught: ${v.description}`,
      sets: [['protocol', setup.protocol], ...(setup.sets ?? [])],
      variant: v.name,
      expect: 'refuted',
      ...(setup.match ? { refutedMatch: setup.match } : {}),
      options: setup.random ? WF_REFUTE_RANDOM : WF_REFUTE,
      ...(setup.knownIssue ? { knownIssue: setup.knownIssue } : {}),
    });
  }
  for (const a of WF_ABLATIONS) {
    const v = SYSTEMS.halfmoon?.variants.find((d) => d.name === a.variant);
    if (!v) throw new Error(`catalog: ablation ${a.variant} is not a halfmoon variant`);
    const refute = a.expect === 'refuted';
    out.push({
      ...base,
      name: `wf/ablation-${a.protocol}-${a.variant.slice('ablate-'.length)}-${refute ? 'refuted' : 'survives'}`,
      statement: refute
        ? `${a.protocol} without its ${a.record} record is not exactly-once (${a.why})`
        : `expected non-finding: ${a.protocol} without its ${a.record} record survives the search (${a.why})`,
      sets: [['protocol', a.protocol], ...(a.sets ?? [])],
      variant: a.variant,
      expect: a.expect,
      ...(refute ? { refutedBy: ['exactly-once'], refutedMatch: a.match ?? 'C[1-5]' } : {}),
      options: refute ? (a.search === 'pct' ? WF_REFUTE_PCT : a.search === 'random' ? WF_REFUTE_RANDOM : WF_REFUTE) : WF_SEARCH,
      fast: a.fast === true,
    });
  }
  return out;
}

/**
 * Log-optimality ablations (spec §7.4): for each protocol and record kind it logs, the protocol
 * without that record. Refutations are judged by exactly-once alone (C1-C5; counting properties
 * are off for ablations); the kinds the spec expects to be redundant for safety are run as well and
 * reported as non-findings.
 */
interface Ablation {
  readonly protocol: string;
  readonly variant: string;
  /** The record kind removed, in the protocol's own words. */
  readonly record: string;
  readonly expect: 'refuted' | 'survives';
  readonly why: string;
  readonly sets?: Sets;
  readonly match?: string;
  /** The refutation's search (default coverage-guided). */
  readonly search?: 'random' | 'pct';
  /** In the CI subset: refuted failure-free within a few thousand states. */
  readonly fast?: boolean;
}

const ASYNC_SHARED_CURSOR = [[{ call: [{ w: 'k0', v: 'c' }], async: true }, { w: 'k0', v: 'p' }], [{ r: 'k0' }]];
const CALLEE_AFTER_CALLER_WRITES = [[{ w: 'k0', v: 'p' }, { w: 'k0', v: 'q' }, { call: [{ w: 'k0', v: 'c' }] }], [{ r: 'k0' }]];
const TWO_WRITES = [[{ w: 'k0', v: 'a' }, { w: 'k0', v: 'b' }], [{ r: 'k0' }]];

export const WF_ABLATIONS: readonly Ablation[] = [
  { protocol: 'hm-read', variant: 'ablate-intent', record: 'Intent', expect: 'refuted', why: 'read, crash; a concurrent write commits; the re-execution starts at a newer cursor and reads a newer snapshot (C2)', match: 'C2', search: 'pct' },
  { protocol: 'hm-read', variant: 'ablate-prewrite', record: 'PreWrite', expect: 'refuted', why: 'an async callee and its caller write one key at their shared cursor and clobber one version row, which a read exposes (C6) or the final state (C1)', sets: [['programs', ASYNC_SHARED_CURSOR]], match: 'C1|C6' },
  { protocol: 'hm-read', variant: 'ablate-postwrite', record: 'PostWrite', expect: 'refuted', why: 'failure-free: writes never commit, so they never become visible (C1)', match: 'C1', fast: true },
  { protocol: 'hm-read', variant: 'ablate-preinvoke', record: 'PreInvoke', expect: 'refuted', why: 'the caller crashes after its callee finished; the re-execution creates a second callee that writes again (C3/C4)', sets: [['programs', SYNC_INVOKE]], match: 'C3|C4', search: 'pct' },
  { protocol: 'hm-read', variant: 'ablate-invokeresult', record: 'InvokeResult', expect: 'survives', why: 'without GC the callee replays deterministically from its own step stream', sets: [['programs', SYNC_INVOKE]] },
  { protocol: 'hm-read', variant: 'ablate-done', record: 'Done', expect: 'survives', why: 'a retry replays every logged step to the same output' },
  { protocol: 'hm-write', variant: 'ablate-intent', record: 'Intent', expect: 'refuted', why: 'write, crash; a newer write lands; the re-execution re-applies the old write with a higher version (C3)', match: 'C1|C3', search: 'pct' },
  { protocol: 'hm-write', variant: 'ablate-postread', record: 'PostRead', expect: 'refuted', why: 'reads are unlogged, as in the unsafe control: a re-execution reads a newer value (C2)', match: 'C1|C2', search: 'pct' },
  // Failure-free in HM-W: without a PreInvoke the callee starts at the caller's cursor with a fresh
  // write counter, so its write versions fall below the caller's earlier writes at that cursor.
  { protocol: 'hm-write', variant: 'ablate-preinvoke', record: 'PreInvoke', expect: 'refuted', why: 'the callee starts at the caller\'s cursor with a fresh write counter, so its write of a key the caller wrote twice versions below the caller\'s and is dropped (C1, failure-free)', sets: [['programs', CALLEE_AFTER_CALLER_WRITES]], match: 'C1|C3|C4', fast: true },
  { protocol: 'hm-write', variant: 'ablate-invokeresult', record: 'InvokeResult', expect: 'survives', why: 'without GC the callee replays deterministically from its own step stream', sets: [['programs', SYNC_INVOKE]] },
  { protocol: 'hm-write', variant: 'ablate-done', record: 'Done', expect: 'survives', why: 'a retry replays every logged step to the same output' },
  { protocol: 'boki', variant: 'ablate-postread', record: 'Read', expect: 'refuted', why: 'reads are unlogged, as in the unsafe control (C2)', match: 'C1|C2', search: 'random' },
  { protocol: 'boki', variant: 'ablate-prewrite', record: 'PreWrite', expect: 'refuted', why: 'two writes to one key with no step between share a version, so the second is dropped (C1)', sets: [['programs', TWO_WRITES]], match: 'C1', fast: true },
  { protocol: 'boki', variant: 'ablate-postwrite', record: 'PostWrite', expect: 'survives', why: 'the replayed condUpdate is a no-op under the Thomas rule' },
  // A crash of the caller is recovered only by the client's retry, which the explorer fires at
  // quiescence among the always-armed recovery timers (PCT seed 5 needs 358,000 steps); one early
  // retry, a duplicate concurrent execution (within the §7.4 bounds), exposes it at once.
  { protocol: 'boki', variant: 'ablate-preinvoke', record: 'PreInvoke', expect: 'refuted', why: 'a duplicate execution of the caller creates a second callee that writes again (C3)', sets: [['programs', SYNC_INVOKE], ['earlyTimers', 1]], match: 'C3|C4' },
  { protocol: 'boki', variant: 'ablate-invokeresult', record: 'InvokeResult', expect: 'survives', why: 'without GC the callee replays deterministically from its own step stream', sets: [['programs', SYNC_INVOKE]] },
  // Safe but not free: recovery cannot tell a finished async callee from an abandoned one without
  // its Done marker, so every recovery round re-runs every finished callee (replaying its logged
  // steps) and the system never settles; the simulator's ablation test pins it.
  { protocol: 'boki', variant: 'ablate-done', record: 'Done marker', expect: 'survives', why: 'a retry replays every logged step to the same output (recovery then re-runs finished async callees in every round: a cost, not a safety finding)' },
  { protocol: 'boki', variant: 'ablate-callee-markers', record: 'callee Intent and Done markers', expect: 'survives', why: 'Halfmoon drops them; the caller\'s PreInvoke names the callee', sets: [['programs', SYNC_INVOKE]] },
  { protocol: 'boki', variant: 'ablate-intent', record: 'Intent marker', expect: 'survives', why: 'not in the spec table: Boki logs every read, so the start cursor does not decide what a replay sees' },
];

// ---------------------------------------------------------------------------------------------
// Boki log

/**
 * log-tiny runs the driver's scripted workload (one invocation: begin, two appends, three
 * conditional appends, readPrev, readNext, checkTail, trim, end) on 2 sequencers, 1 engine and 2
 * storage nodes, with at most one crash and one restart; a run ends when the script is answered.
 * A walk completes in about 500 steps, and the space is far too large to exhaust, so the group
 * runs guided searches like wf: the canonical log must survive the budget, a refutation must find
 * its counterexample within it. Untimed, no ZooKeeper session ever expires, so there are no view
 * changes; the timed setup (LOG_TIMED) adds them for the variants that need one.
 */
const LOG_SEARCH = { strategy: 'coverage' as const, statesMax: 100_000, seed: 1 };
/**
 * Refutations walk at random and stop at the first violation, which must be the expected one:
 * each counterexample found is shrunk by replaying its path, about 5 s for a 500-step walk (and
 * coverage walks restart deep in the corpus: their longer paths take ten times as long).
 */
const LOG_REFUTE = { strategy: 'random' as const, statesMax: 100_000, seed: 1 };

/** A variant log-tiny can express whose counterexample the search does not find (yet). */
const LOG_NOT_EXPOSED_NOTE = 'no counterexample within the budget on log-tiny: a reportable non-finding until a setup that exposes it is added';

/**
 * Timed, with a spare sequencer: each step advances the clock by 1 us and a timer fires at its
 * deadline (the clock jumps there), so ZooKeeper sessions of crashed nodes expire and the
 * controller reconfigures onto the spare (about half the walks change views). Untimed, no session
 * ever expires and no elapsed-time resend ever fires.
 */
const LOG_TIMED: Sets = [['timeStepUs', 1], ['spareSequencers', 1]];

/**
 * The log-history audit's completeness check (log-no-lost-ack, checkComplete in
 * proofs/log/audit.ts) also judges walks cut at the depth bound, and a walk cut right after the
 * primary commits an entry, with the entry still in flight to every storage node, is reported as
 * a lost position. Reported, not changed here.
 */
const LOG_AUDIT_TRUNCATED = 'log-no-lost-ack reports a walk cut at the depth bound right after a commit, the entry still in flight to every storage node (the audit judges truncated runs as settled)';

/** A variant a hand-forced schedule exposes on log-tiny, which the guided search misses. */
const LOG_CRASH_TIMING = 'reachable on log-tiny (test/explore/log-tiny.test.ts forces the schedule), but the guided walks spend their one crash in the first steps and miss the moment it needs: a reportable non-finding of the search';

/** How each Boki variant log-tiny can express is exposed: the property and message expected. */
export const LOG_VARIANT_SETUPS: Readonly<Record<string, { refutedBy: readonly string[]; match?: string; sets?: Sets; fast?: boolean; knownIssue?: string }>> = {
  // Failure-free: the script's trim and its condAppend beyond the stream's end abort the engine.
  'trim-unimplemented': { refutedBy: ['fatal'], match: 'trim is NOT_IMPLEMENTED', fast: true },
  'gapped-condpos-crash': { refutedBy: ['fatal'], match: 'gapped condPos' },
  // Failure-free: the second condAppend at position 0 succeeds on a stream of length 1.
  'bug-cond-ge': { refutedBy: ['log-history'], match: 'log-cond-decisions', fast: true },
  // A read right after the invocation's own append, answered by an index that has not caught up
  // with it. Found in the timed setup (around a crash and its recovery), not in the untimed one.
  'bug-no-progress': { refutedBy: ['log-history'], match: 'log-read-your-writes', sets: LOG_TIMED },
  // Metalog messages reaching the backup out of order. The primary cuts again only once its last
  // entry is replicated, so this needs its repair resend, which only fires timed (elapsed-time
  // check), and premature timers to fire it while an acknowledgement is in flight.
  'bug-backup-reorders': { refutedBy: ['log-metalog-agreement'], sets: [...LOG_TIMED, ['earlyTimers', 2]], knownIssue: LOG_NOT_EXPOSED_NOTE },
  // A storage node crash-restarts between reporting a record and the cut that covers it.
  'storage-restart-abort': { refutedBy: ['fatal'], match: 'lacks', knownIssue: LOG_CRASH_TIMING },
  // A primary crashes with its last cut unacknowledged, restarts, and reads a finalize record one
  // entry short of what it holds; it keeps the entry.
  'finalize-ahead-by-one': { refutedBy: ['log-metalog-agreement'], match: 'finalized logspace .* but the published final position', sets: LOG_TIMED },
  // The primary crashes after replicating its last cut but before the acknowledgements; finalize
  // must answer the covered appends, not discard them (or forget uncovered ones).
  'bug-discard-covered': { refutedBy: ['log-history'], match: 'log-discarded-invisible', sets: LOG_TIMED, knownIssue: LOG_CRASH_TIMING },
  'bug-lost-discard': { refutedBy: ['log-history', 'log-liveness'], sets: LOG_TIMED, knownIssue: LOG_NOT_EXPOSED_NOTE },
  // A member more than one entry behind at finalize.
  'finalize-no-catchup': { refutedBy: ['fatal'], sets: [...LOG_TIMED, ['sealTailEntries', 1]], knownIssue: LOG_NOT_EXPOSED_NOTE },
  // The primary cuts as soon as one storage node reports a record (timers fire at any moment, so
  // the cut need not wait for the other's report); the other applies the entry before the record
  // arrives and aborts. The canonical log shows no such fatal in the same search.
  'bug-cut-skips-min': { refutedBy: ['fatal'], match: 'covers localid .* which this storage lacks', sets: [['timers', 'unordered']] },
  // One storage node holding every record loses its unsynced, already ordered records in a crash.
  'storage-lazy-unsynced': { refutedBy: ['log-history'], match: 'log-no-lost-ack|log-read-validity', sets: [['storages', 1], ['userlogReplicas', 1]], knownIssue: LOG_CRASH_TIMING },
};

/** Runs end when the script is answered; a stuck run never ends, and liveness is judged at ends. */
const LIVENESS = 'a hang (liveness): a stuck log-tiny run never ends, and the explorer judges liveness only where a run ends';

/** Variants log-tiny cannot express, with the reason (each is caught by its log scenario). */
export const LOG_NOT_EXPECTED: Readonly<Record<string, string>> = {
  'seal-only-from-view-0': 'needs two view changes (the second seal is the one that fails); log-tiny has one crash and restart',
  'continuation-flag': 'needs a remote index (an engine that does not index the log; log-tiny\'s one engine does) across a view change',
  'metalog-single-replica-stall': `${LIVENESS} (with one metalog replica nothing commits)`,
  'localid-reuse-after-restart': 'needs appends on an engine after it restarts: the scripted invocation dies with its engine',
  'manual-reconfig-only': `${LIVENESS} (no view replaces a crashed node)`,
  'reconfig-keeps-dead-nodes': `${LIVENESS} (a view that keeps a dead storage node stalls its reads)`,
  'read-no-timeout': `${LIVENESS} (a read waiting on a dead storage node)`,
  'lazy-blocking-timeout': `${LIVENESS}; the script issues no blocking read`,
  'readprev-pending-hang': `${LIVENESS} (a parked readPrev)`,
  'bug-seqnum-shard-order': 'needs two engines\' shards in one cut; log-tiny has one engine',
  'bug-blocking-no-wait': 'the script issues no blocking read (caught by log-blocking-read-early on log-variant-lazy-blocking-timeout)',
};

function logProofs(): ProofDef[] {
  const entry = findModel('log-tiny');
  const pending = entry.unavailable() ?? undefined;
  const def = SYSTEMS.boki;
  const checker = "the Boki system's invariants (metalog prefix agreement, identical conditional decisions), the log history checks and liveness";
  const base = { group: 'log', model: 'log-tiny', sets: [] as Sets, options: LOG_SEARCH, fast: false, checker, ...(pending ? { pending } : {}) };
  const out: ProofDef[] = [
    {
      ...base,
      name: 'log/invariants-one-crash',
      statement: `the scripted workload completes and the log's invariants and checks hold: no counterexample in ${LOG_SEARCH.statesMax} coverage-guided steps (2 sequencers, 1 engine, 2 storage nodes, <= 1 crash and 1 restart)`,
      variant: null,
      expect: 'survives',
    },
    {
      ...base,
      name: 'log/invariants-view-change',
      statement: `as above with view changes (timed, a spare sequencer: crashed nodes' sessions expire and the controller reconfigures): no counterexample in ${LOG_SEARCH.statesMax} coverage-guided steps`,
      sets: LOG_TIMED,
      variant: null,
      expect: 'survives',
      knownIssue: LOG_AUDIT_TRUNCATED,
    },
  ];
  for (const v of def?.variants ?? []) {
    if (LOG_NOT_EXPECTED[v.name] !== undefined) continue;
    const setup = LOG_VARIANT_SETUPS[v.name];
    out.push({
      ...base,
      name: `log/${v.name}-refuted`,
      statement: `the ${v.name} variant is caught: ${v.description}`,
      checker: setup ? setup.refutedBy.join(' or ') : checker,
      sets: setup?.sets ?? [],
      variant: v.name,
      expect: 'refuted',
      ...(setup ? { refutedBy: setup.refutedBy } : {}),
      ...(setup?.match !== undefined ? { refutedMatch: setup.match } : {}),
      options: LOG_REFUTE,
      fast: setup?.fast === true,
      ...(setup === undefined ? { knownIssue: LOG_NOT_EXPOSED_NOTE } : setup.knownIssue !== undefined ? { knownIssue: setup.knownIssue } : {}),
    });
  }
  return out;
}

/** The whole catalog, in a stable order. */
export function catalog(): ProofDef[] {
  const all = [...twoPcProofs(), ...registerProofs(), ...wfProofs(), ...logProofs()];
  const names = new Set<string>();
  for (const p of all) {
    if (names.has(p.name)) throw new Error(`catalog: two proofs named ${p.name}`);
    names.add(p.name);
  }
  return all;
}
