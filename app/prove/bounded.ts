/**
 * Runs the proofs of the catalog: builds each model, explores it exhaustively with the proof's
 * options, and compares the verdict with the expectation. A proof's outcome:
 *
 *   proved         expected to hold, and held in every reachable state of its configuration
 *   refuted        expected to fail, and a counterexample was found for an expected property
 *   survived       a guided search of the given budget found no counterexample (not a proof)
 *   pending        its model cannot be built in this build (its system does not exist yet)
 *   violated       expected to hold, but a property failed (a bug, or a vacuous model)
 *   not-refuted    expected to fail, but every property held: the checker or the variant is
 *                  broken, or the bounds are too small to expose it (a reportable finding)
 *   inconclusive   a limit stopped the search before a verdict
 *   count-changed  held, but the number of reachable states differs from the pinned count
 *
 * A proof with a `knownIssue` that fails is reported as known (ok, marked KNOWN); one that comes
 * out as expected despite the note is not ok, so the note is removed once the defect is fixed.
 */
import { explore } from '../../sim/explore/index.ts';
import type { Discovery, ExploreResult, Model } from '../../sim/explore/model.ts';
import { buildModel } from '../../sim/explore/registry.ts';
import { describePath } from '../../sim/explore/index.ts';
import type { ProofDef } from './catalog.ts';

export type ProofOutcome = 'proved' | 'refuted' | 'survived' | 'pending' | 'violated' | 'not-refuted' | 'inconclusive' | 'count-changed';

export interface ProofResult {
  readonly name: string;
  readonly group: string;
  readonly statement: string;
  readonly checker: string;
  readonly expect: ProofDef['expect'];
  readonly outcome: ProofOutcome;
  /** Whether the outcome is the expected one (pending counts as ok: nothing to run yet). */
  readonly ok: boolean;
  /** The proof failed as its known issue says it does. */
  readonly known: boolean;
  readonly uniqueStates: number;
  readonly statesGenerated: number;
  readonly maxDepth: number;
  readonly wallMs: number;
  readonly message: string;
  /** The failing property and its counterexample, for refutations and violations. */
  readonly property: string | null;
  readonly counterexample: readonly string[] | null;
}

/** Default bounds of a proof: generous, but a proof never runs away with the machine. */
export const PROOF_STATES_MAX = 20_000_000;
export const PROOF_MEMORY_BYTES_MAX = 2 * 1024 * 1024 * 1024;

export interface ProofRun {
  readonly result: ProofResult;
  /** The model and discovery behind a counterexample, for writing its trace. */
  readonly model: Model<unknown, unknown> | null;
  readonly discovery: Discovery<unknown, unknown> | null;
}

export function runProof(p: ProofDef): ProofRun {
  const base = { name: p.name, group: p.group, statement: p.statement, checker: p.checker, expect: p.expect };
  if (p.pending !== undefined) {
    return { result: { ...base, outcome: 'pending', ok: true, known: false, uniqueStates: 0, statesGenerated: 0, maxDepth: 0, wallMs: 0, message: p.pending, property: null, counterexample: null }, model: null, discovery: null };
  }
  const model = buildModel(p.model, p.sets, p.variant) as Model<unknown, unknown>;
  const r = explore(model, { statesMax: PROOF_STATES_MAX, memoryBytesMax: PROOF_MEMORY_BYTES_MAX, ...p.options });
  const { outcome, message, discovery } = judge(p, r);
  const expected = outcome === 'proved' || outcome === 'refuted' || outcome === 'survived';
  const known = p.knownIssue !== undefined && !expected;
  const ok = p.knownIssue === undefined ? expected : !expected;
  return {
    result: {
      ...base,
      outcome,
      ok,
      known,
      message: known ? `known issue: ${p.knownIssue} (${message})` : p.knownIssue !== undefined ? `came out as expected despite the known issue '${p.knownIssue}': remove the note` : message,
      uniqueStates: r.uniqueStates,
      statesGenerated: r.statesGenerated,
      maxDepth: r.maxDepth,
      wallMs: r.wallMs,
      property: discovery?.property ?? null,
      counterexample: discovery ? describePath(model, discovery.path) : null,
    },
    model,
    discovery,
  };
}

function judge(p: ProofDef, r: ExploreResult<unknown, unknown>): { outcome: ProofOutcome; message: string; discovery: Discovery<unknown, unknown> | null } {
  const v = r.violations[0] ?? null;
  const bound = r.depthLimitHit ? ` within depth ${r.maxDepth}` : '';
  if (p.expect === 'survives') {
    if (v !== null) return { outcome: 'violated', message: `${v.property}: ${v.message}`, discovery: v };
    if (r.verdict === 'fail') return { outcome: 'violated', message: r.stopReason ?? 'a sometimes property was never reached', discovery: null };
    return { outcome: 'survived', message: `no counterexample in ${r.statesGenerated} steps (${r.uniqueStates} states covered)`, discovery: null };
  }
  if (p.expect === 'holds') {
    if (v !== null) return { outcome: 'violated', message: `${v.property}: ${v.message}`, discovery: v };
    if (r.verdict === 'fail') return { outcome: 'violated', message: r.stopReason ?? 'a sometimes property was never reached', discovery: null };
    if (r.verdict === 'unknown') return { outcome: 'inconclusive', message: r.stopReason ?? 'limits reached', discovery: null };
    if (p.states !== undefined && p.states !== r.uniqueStates) return { outcome: 'count-changed', message: `${r.uniqueStates} reachable states, pinned ${p.states}`, discovery: null };
    return { outcome: 'proved', message: `held in all ${r.uniqueStates} reachable states${bound}`, discovery: null };
  }
  if (v !== null) {
    const match = p.refutedMatch === undefined ? null : new RegExp(p.refutedMatch);
    const hit = r.violations.find((x) => (p.refutedBy === undefined || p.refutedBy.includes(x.property)) && (match === null || match.test(x.message)));
    if (hit !== undefined) return { outcome: 'refuted', message: `${hit.property}: ${hit.message}`, discovery: hit };
    const wanted = [p.refutedBy?.join(' or '), p.refutedMatch ? `/${p.refutedMatch}/` : undefined].filter(Boolean).join(' matching ');
    return { outcome: 'violated', message: `refuted, but not as expected (${wanted}): ${v.property}: ${v.message}`, discovery: v };
  }
  if (r.verdict === 'unknown') return { outcome: 'inconclusive', message: r.stopReason ?? 'limits reached', discovery: null };
  if (r.verdict === 'fail') return { outcome: 'violated', message: `no counterexample; instead: ${r.stopReason ?? 'a sometimes property was never reached'}`, discovery: null };
  return { outcome: 'not-refuted', message: `every property held in all ${r.uniqueStates} reachable states${bound}: the variant survives this configuration`, discovery: null };
}
