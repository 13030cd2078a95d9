/**
 * Explorer counterexamples as trace files (the JSONL format of `sim/trace.ts`, source "explore"),
 * and their replayer for `halfmoon replay`.
 *
 * A trace names the model (name, --set pairs, variant), and its end record carries the path as
 * action keys. The records in between are what the viewer draws: `boot` records for the initial
 * state, then per action the model's `step` records (node, input, effects, state), `fault` and
 * `net` records for crashes, restarts, drops and duplicates, `history` records, and a `violation`
 * record where the property failed.
 *
 * Replay rebuilds the model, re-executes the path key by key (each must be enabled where the path
 * takes it) and checks that the recorded property fails again at the end, on a state with the
 * recorded fingerprint.
 */
import { hex16, InputError } from '../../src/core/assert.ts';
import type { Violation } from '../../src/core/system.ts';
import { registerReplayer, type ReplayOutcome } from '../replay.ts';
import type { RunResult } from '../simulator.ts';
import { TRACE_FORMAT, TRACE_VERSION, type TraceFile, type TraceSink } from '../trace.ts';
import type { Discovery, Model, Path } from './model.ts';
import { executeKeys, lastState } from './path.ts';
import { buildModel, type Sets } from './registry.ts';

export interface TraceMeta {
  readonly model: string;
  readonly sets: Sets;
  readonly variant: string | null;
  readonly strategy: string;
}

function fpHex<S, A>(model: Model<S, A>, s: S): string {
  const fp = new Int32Array(2);
  model.fingerprint(s, fp);
  return hex16((BigInt(fp[0]! >>> 0) << 32n) | BigInt(fp[1]! >>> 0));
}

function initIndex<S, A>(model: Model<S, A>, init: S): number {
  const want = fpHex(model, init);
  const i = model.initStates().findIndex((s) => fpHex(model, s) === want);
  return Math.max(0, i);
}

/** The records of a path, as the viewer reads them. */
export function pathRecords<S, A>(model: Model<S, A>, path: Path<S, A>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const tr = model.trace;
  if (tr) out.push(...tr.boot(path.init));
  else out.push({ type: 'boot', t: 0, node: 'model', state: model.describeState(path.init) });
  let prev = path.init;
  path.steps.forEach((st, i) => {
    if (tr) out.push(...tr.step(prev, st.action, st.state, i));
    else out.push({ type: 'step', i, t: i + 1, node: 'model', input: { type: 'action', action: model.describeAction(st.action, prev) }, effects: [], state: model.describeState(st.state) });
    prev = st.state;
  });
  return out;
}

/** Writes one discovery (a violation, or a witness) as a replayable trace. */
export function writeDiscovery<S, A>(model: Model<S, A>, d: Discovery<S, A>, meta: TraceMeta, sink: TraceSink): void {
  const nodes = model.trace?.nodes() ?? [{ id: 'model', role: 'model', driver: false }];
  const faults: Record<string, number> = {};
  sink.write({
    type: 'header',
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    source: 'explore',
    model: meta.model,
    sets: meta.sets.map(([k, v]) => [k, v]),
    variant: meta.variant,
    strategy: meta.strategy,
    system: meta.model,
    timeUnit: 'step',
    nodes,
    property: d.property,
    kind: d.kind,
    replay: `halfmoon check --model ${meta.model}${meta.sets.map(([k, v]) => ` --set ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join('')}${meta.variant ? ` --variant ${meta.variant}` : ''}`,
  });
  const recs = pathRecords(model, d.path);
  for (const r of recs) {
    if (r.type === 'fault' && typeof r.kind === 'string') faults[r.kind] = (faults[r.kind] ?? 0) + 1;
    // The model's own violation records are replaced by the discovery's, written once at the end.
    if (r.type !== 'violation') sink.write(r);
  }
  const violation: Violation = { invariant: d.property, message: d.message, eventIndex: d.path.steps.length };
  const isViolation = d.kind !== 'sometimes';
  if (isViolation) sink.write({ type: 'violation', ...violation });
  sink.write({
    type: 'end',
    outcome: isViolation ? 'violation' : 'witness',
    events: d.path.steps.length,
    simulatedTimeUs: 0,
    traceHash: fpHex(model, lastState(d.path)),
    violations: isViolation ? [violation] : [],
    faults,
    report: { explore: { property: d.property, kind: d.kind, steps: d.path.steps.length } },
    decisions: null,
    init: initIndex(model, d.path.init),
    path: d.path.steps.map((s) => model.actionKey(s.action)),
  });
  sink.close();
}

function stringArray(x: unknown, what: string, file: string): string[] {
  if (!Array.isArray(x) || !x.every((k) => typeof k === 'string')) throw new InputError(`${file}: ${what} must be an array of strings`);
  return x as string[];
}

/** Does the property fail in the path's last state (or, for eventually, along the whole path)? */
function reproduces<S, A>(model: Model<S, A>, path: Path<S, A>, property: string, kind: string): string | null {
  const p = model.properties.find((x) => x.name === property);
  if (p === undefined) return null;
  const last = lastState(path);
  switch (p.kind) {
    case 'always':
      return p.check(last);
    case 'final':
      return p.check(last, false) ?? p.check(last, true);
    case 'eventually':
      return [path.init, ...path.steps.map((s) => s.state)].some((s) => p.holds(s)) ? null : `'${property}' never held along the path`;
    case 'sometimes':
      return kind === 'sometimes' && p.holds(last) ? `'${property}' holds` : null;
  }
}

export function replayExplore(trace: TraceFile, file: string): ReplayOutcome {
  const h = trace.header;
  const end = trace.end;
  if (end === null) throw new InputError(`${file}: the trace has no end record`);
  if (typeof h.model !== 'string') throw new InputError(`${file}: header.model must name the model`);
  if (!Array.isArray(h.sets) || !h.sets.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string')) throw new InputError(`${file}: header.sets must be [key, value] pairs`);
  if (h.variant !== null && typeof h.variant !== 'string') throw new InputError(`${file}: header.variant must be a string or null`);
  if (typeof h.property !== 'string') throw new InputError(`${file}: header.property must name the property`);
  const keys = stringArray(end.path, 'end.path', file);
  const init = typeof end.init === 'number' ? end.init : 0;
  const model = buildModel(h.model, h.sets as [string, unknown][], (h.variant as string | null) ?? null);
  const path = executeKeys(model, keys, init);
  const expectedHash = typeof end.traceHash === 'string' ? end.traceHash : null;
  let divergence: string | null = null;
  let actualHash = '';
  const violations: Violation[] = [];
  if (path === null) {
    const ok = firstUnreplayable(model, keys, init);
    divergence = `step ${ok} of the path ('${keys[ok]}') is not enabled where the path takes it: the model changed`;
  } else {
    actualHash = fpHex(model, lastState(path));
    const m = reproduces(model, path, h.property, String(h.kind ?? ''));
    if (m === null && h.kind !== 'sometimes') divergence = `the path replays, but '${h.property}' no longer fails at its end`;
    if (m !== null && h.kind !== 'sometimes') violations.push({ invariant: h.property, message: m, eventIndex: keys.length });
  }
  const result: RunResult = {
    scenario: h.model,
    system: h.model,
    variant: (h.variant as string | null) ?? null,
    seed: 0,
    outcome: violations.length > 0 ? 'violation' : 'done',
    events: keys.length,
    simulatedTimeUs: 0,
    wallMs: 0,
    traceHash: actualHash,
    violations,
    faults: (end.faults as Record<string, number> | undefined) ?? {},
    decisions: 0,
    replay: `halfmoon replay ${file}`,
    report: { explore: { model: h.model, property: h.property, steps: keys.length } },
  };
  return { source: 'explore', expectedHash, actualHash, matches: divergence === null && expectedHash === actualHash, result, divergence };
}

function firstUnreplayable<S, A>(model: Model<S, A>, keys: readonly string[], init: number): number {
  let lo = 0;
  let hi = keys.length;
  // The longest prefix that replays, by bisection (replay cost grows with the prefix).
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (executeKeys(model, keys.slice(0, mid), init) !== null) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

registerReplayer('explore', (trace, file) => replayExplore(trace, file));
