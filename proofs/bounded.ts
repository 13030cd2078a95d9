/**
 * Runs the proofs of the catalog: builds each model, explores it exhaustively with the proof's
 * options, and compares the verdict with the expectation. A proof's outcome:
 *
 *   proved         expected to hold, and held in every reachable state of its configuration
 *   refuted        expected to fail, and a counterexample was found for an expected property
 *   pending        its model cannot be built in this build (its system does not exist yet)
 *   violated       expected to hold, but a property failed (a bug, or a vacuous model)
 *   not-refuted    expected to fail, but every property held: the checker or the variant is
 *                  broken, or the bounds are too small to expose it (a reportable finding)
 *   inconclusive   a limit stopped the search before a verdict
 *   count-changed  held, but the number of reachable states differs from the pinned count
 */
import { explore } from '../sim/explore/index.ts';
import type { Discovery, ExploreResult, Model } from '../sim/explore/model.ts';
import { buildModel } from '../sim/explore/registry.ts';
import { describePath } from '../sim/explore/index.ts';
import type { ProofDef } from './catalog.ts';

export type ProofOutcome = 'proved' | 'refuted' | 'pending' | 'violated' | 'not-refuted' | 'inconclusive' | 'count-changed';

export interface ProofResult {
  readonly name: string;
  readonly group: string;
  readonly statement: string;
  readonly checker: string;
  readonly expect: ProofDef['expect'];
  readonly outcome: ProofOutcome;
  /** Whether the outcome is the expected one (pending counts as ok: nothing to run yet). */
  readonly ok: boolean;
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
    return { result: { ...base, outcome: 'pending', ok: true, uniqueStates: 0, statesGenerated: 0, maxDepth: 0, wallMs: 0, message: p.pending, property: null, counterexample: null }, model: null, discovery: null };
  }
  const model = buildModel(p.model, p.sets, p.variant) as Model<unknown, unknown>;
  const r = explore(model, { statesMax: PROOF_STATES_MAX, memoryBytesMax: PROOF_MEMORY_BYTES_MAX, ...p.options });
  const { outcome, message, discovery } = judge(p, r);
  const ok = outcome === 'proved' || outcome === 'refuted';
  return {
    result: {
      ...base,
      outcome,
      ok,
      uniqueStates: r.uniqueStates,
      statesGenerated: r.statesGenerated,
      maxDepth: r.maxDepth,
      wallMs: r.wallMs,
      message,
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
  if (p.expect === 'holds') {
    if (v !== null) return { outcome: 'violated', message: `${v.property}: ${v.message}`, discovery: v };
    if (r.verdict === 'fail') return { outcome: 'violated', message: r.stopReason ?? 'a sometimes property was never reached', discovery: null };
    if (r.verdict === 'unknown') return { outcome: 'inconclusive', message: r.stopReason ?? 'limits reached', discovery: null };
    if (p.states !== undefined && p.states !== r.uniqueStates) return { outcome: 'count-changed', message: `${r.uniqueStates} reachable states, pinned ${p.states}`, discovery: null };
    return { outcome: 'proved', message: `held in all ${r.uniqueStates} reachable states${bound}`, discovery: null };
  }
  if (v !== null) {
    if (p.refutedBy === undefined || p.refutedBy.includes(v.property)) return { outcome: 'refuted', message: `${v.property}: ${v.message}`, discovery: v };
    return { outcome: 'violated', message: `refuted by an unexpected property ${v.property} (expected ${p.refutedBy.join(' or ')}): ${v.message}`, discovery: v };
  }
  if (r.verdict === 'unknown') return { outcome: 'inconclusive', message: r.stopReason ?? 'limits reached', discovery: null };
  if (r.verdict === 'fail') return { outcome: 'violated', message: `no counterexample; instead: ${r.stopReason ?? 'a sometimes property was never reached'}`, discovery: null };
  return { outcome: 'not-refuted', message: `every property held in all ${r.uniqueStates} reachable states${bound}: the variant survives this configuration`, discovery: null };
}
