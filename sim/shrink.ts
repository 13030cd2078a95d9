/**
 * Shrinking a failing simulation: from a run that violates an invariant, find a smaller run
 * (fewer faults, then fewer events, then fewer non-trivial random choices) that still violates the
 * same invariant, and write it as a trace `halfmoon replay` accepts.
 *
 * The substrate is the decision log: every random choice of a run, each an unsigned 32-bit value
 * where 0 is the simplest outcome (no drop, the shortest delay, the first option). Replaying an
 * edited log with `onMismatch: 'zero'` tolerates edits: a choice the log no longer matches comes
 * out 0. Each accepted candidate's *realized* log (what the run actually consumed) becomes the new
 * baseline, so later passes work on a log that replays exactly. Passes, cheapest wins first:
 *
 * 1. the scenario: drop the random nemesis, shorten its window, remove scripted faults (delta
 *    debugging), lower the workload parameters the system declares shrinkable (halving, then one
 *    by one). A changed scenario consumes choices differently, so each candidate is tried with the
 *    current log (misaligned choices become 0) and with the seed alone;
 * 2. the decision log: zero chunks of non-zero choices (delta debugging, halving chunk sizes),
 *    then halve single values.
 *
 * The search is greedy and bounded by a budget of simulator runs; it never returns something
 * bigger than it was given, and the result always replays to the same violation.
 */
import { InputError } from '../src/core/assert.ts';
import { FAULT_KINDS } from '../src/core/system.ts';
import type { DecisionLog } from './decisions.ts';
import { buildInstance, resolveParams, systemOf } from '../src/scenario/instance.ts';
import type { Scenario } from '../src/scenario/scenario.ts';
import { type RunResult, Simulator } from './simulator.ts';
import type { TraceSink } from './trace.ts';

export interface Size {
  /** Faults that took effect: crashes, restarts, pauses, partitions, drops, duplicates, ... */
  readonly faults: number;
  /** Requests the workload issued before the run ended. */
  readonly requests: number;
  readonly events: number;
  /** Non-zero choices in the decision log. */
  readonly choices: number;
  /** The scenario's own size: shrinkable parameters, scripted faults, nemesis fault kinds. */
  readonly scenario: number;
}

export interface ShrinkRequest {
  readonly scenario: Scenario;
  readonly seed: number;
  /** The failing run's decision log (null: replay from the seed). */
  readonly log: DecisionLog | null;
  /** The invariant (or checker) whose violation must be preserved. */
  readonly invariant: string;
  /** Budget of simulator runs. */
  readonly runsMax: number;
  readonly onProgress?: ((runs: number, size: Size) => void) | null;
}

export interface ShrinkResult {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly log: DecisionLog;
  readonly original: Size;
  readonly shrunk: Size;
  readonly runs: number;
  readonly result: RunResult;
}

/** Fault kinds that count as injected faults (network fates included; bookkeeping excluded). */
const INJECTED = new Set<string>([...FAULT_KINDS.filter((k) => k !== 'resume' && k !== 'heal' && k !== 'linkHeal')]);

export function faultCount(r: RunResult): number {
  let n = 0;
  for (const [k, v] of Object.entries(r.faults)) if (INJECTED.has(k)) n += v;
  return n;
}

function nonZero(log: DecisionLog): number {
  let n = 0;
  for (let i = 1; i < log.entries.length; i += 2) if (log.entries[i] !== 0) n++;
  return n;
}

function scenarioSize(s: Scenario): number {
  const params = resolveParams(s);
  let n = s.faults.scripted.length + (s.faults.random ? Object.keys(s.faults.random.kinds).length : 0);
  for (const k of systemOf(s).shrinkable ?? []) if (typeof params[k] === 'number') n += params[k] as number;
  return n;
}

export function sizeOf(r: RunResult, requests: number, log: DecisionLog, s: Scenario): Size {
  return { faults: faultCount(r), requests, events: r.events, choices: nonZero(log), scenario: scenarioSize(s) };
}

/** Lexicographic: fewer faults, requests, events, non-zero choices, then a smaller scenario. */
export function smaller(a: Size, b: Size): boolean {
  if (a.faults !== b.faults) return a.faults < b.faults;
  if (a.requests !== b.requests) return a.requests < b.requests;
  if (a.events !== b.events) return a.events < b.events;
  if (a.choices !== b.choices) return a.choices < b.choices;
  return a.scenario < b.scenario;
}

interface Attempt {
  readonly scenario: Scenario;
  readonly log: DecisionLog;
  readonly result: RunResult;
  readonly size: Size;
}

/** One simulator run; the realized decision log and the number of requests come back with the result. */
export function simulate(scenario: Scenario, seed: number, log: DecisionLog | null, trace: TraceSink | null = null, replayCommand = 'halfmoon replay <shrunk trace>'): { result: RunResult; log: DecisionLog; requests: number } {
  const sim = new Simulator({
    scenario,
    instance: buildInstance(scenario),
    seed,
    recordDecisions: true,
    trace,
    traceStates: trace !== null,
    ...(log ? { replay: log, onMismatch: 'zero' as const } : {}),
    replayCommand,
  });
  const result = sim.run();
  const requests = sim.history.reduce((n, e) => n + (e.kind === 'call' ? 1 : 0), 0);
  return { result, log: sim.decisions.recorded()!, requests };
}

export function shrink(req: ShrinkRequest): ShrinkResult {
  let runs = 0;
  const fails = (r: RunResult) => r.violations.some((v) => v.invariant === req.invariant);
  const attempt = (scenario: Scenario, log: DecisionLog | null): Attempt | null => {
    if (runs >= req.runsMax) return null;
    runs++;
    let out;
    try {
      out = simulate(scenario, req.seed, log);
    } catch (e) {
      if (e instanceof InputError) return null; // a candidate scenario the system rejects
      throw e;
    }
    if (!fails(out.result)) return null;
    return { scenario, log: out.log, result: out.result, size: sizeOf(out.result, out.requests, out.log, scenario) };
  };
  const first = attempt(req.scenario, req.log);
  if (first === null) throw new InputError(`the run does not reproduce a '${req.invariant}' violation, so there is nothing to shrink`);
  let best = first;
  const take = (a: Attempt | null): boolean => {
    if (a === null || !smaller(a.size, best.size)) return false;
    best = a;
    req.onProgress?.(runs, best.size);
    return true;
  };
  /** A scenario candidate: with the current log (edits tolerated), else from the seed alone. */
  const tryScenario = (s: Scenario): boolean => take(attempt(s, best.log)) || take(attempt(s, null));

  for (let round = 0; round < 4 && runs < req.runsMax; round++) {
    const before = best.size;
    shrinkNemesis(best, tryScenario);
    shrinkNemesisKinds(() => best.scenario, tryScenario);
    shrinkWeather(() => best.scenario, tryScenario);
    shrinkScripted(() => best.scenario, tryScenario);
    shrinkParams(() => best.scenario, tryScenario);
    shrinkLog(() => best.log, (log) => take(attempt(best.scenario, log)), () => runs < req.runsMax);
    if (!smaller(best.size, before)) break;
  }
  return { scenario: best.scenario, seed: req.seed, log: best.log, original: first.size, shrunk: best.size, runs, result: best.result };
}

function withFaults(s: Scenario, faults: Scenario['faults']): Scenario {
  return { ...s, faults };
}

function shrinkNemesis(best: Attempt, tryScenario: (s: Scenario) => boolean): void {
  const r = best.scenario.faults.random;
  if (r === null) return;
  if (tryScenario(withFaults(best.scenario, { ...best.scenario.faults, random: null }))) return;
  // Shorten the nemesis window: the violation usually needs only the faults before it.
  let lo = r.startUs;
  let hi = r.endUs;
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2);
    if (tryScenario(withFaults(best.scenario, { ...best.scenario.faults, random: { ...r, endUs: mid } }))) hi = mid;
    else lo = mid;
  }
}

/** Removes fault kinds from the nemesis one at a time. */
function shrinkNemesisKinds(cur: () => Scenario, tryScenario: (s: Scenario) => boolean): void {
  const r = cur().faults.random;
  if (r === null) return;
  for (const kind of Object.keys(r.kinds)) {
    const now = cur().faults.random;
    if (now === null || (now.kinds as Record<string, number | undefined>)[kind] === undefined) continue;
    const kinds = { ...now.kinds } as Record<string, number>;
    delete kinds[kind];
    if (Object.values(kinds).every((w) => !(w > 0))) continue; // a nemesis needs some kind
    tryScenario(withFaults(cur(), { ...cur().faults, random: { ...now, kinds } }));
  }
}

/** Clears the network's background weather: drop, duplicate and reorder probabilities. */
function shrinkWeather(cur: () => Scenario, tryScenario: (s: Scenario) => boolean): void {
  for (const field of ['drop', 'duplicate', 'reorder'] as const) {
    const s = cur();
    const n = s.network;
    const any = (n.default[field] ?? 0) > 0 || (n.client[field] ?? 0) > 0 || n.links.some((l) => (l[field] ?? 0) > 0);
    if (!any) continue;
    tryScenario({
      ...s,
      network: {
        default: { ...n.default, [field]: 0 },
        client: { ...n.client, [field]: 0 },
        links: n.links.map((l) => (l[field] === undefined ? l : { ...l, [field]: 0 })),
      },
    });
  }
}

function shrinkScripted(cur: () => Scenario, tryScenario: (s: Scenario) => boolean): void {
  for (let chunk = Math.max(1, cur().faults.scripted.length >> 1); chunk >= 1; chunk >>= 1) {
    let i = 0;
    while (i < cur().faults.scripted.length) {
      const s = cur();
      const scripted = [...s.faults.scripted.slice(0, i), ...s.faults.scripted.slice(i + chunk)];
      if (!tryScenario(withFaults(s, { ...s.faults, scripted }))) i += chunk;
    }
  }
}

function shrinkParams(cur: () => Scenario, tryScenario: (s: Scenario) => boolean): void {
  const sys = systemOf(cur());
  for (const name of sys.shrinkable ?? []) {
    const value = () => resolveParams(cur())[name];
    if (typeof value() !== 'number') continue;
    // Halve while that works, then step down one at a time.
    for (let guard = 0; guard < 64; guard++) {
      const v = value() as number;
      const half = Math.floor(v / 2);
      if (half >= v || !tryScenario({ ...cur(), params: { ...cur().params, [name]: half } })) break;
    }
    for (let guard = 0; guard < 16; guard++) {
      const v = value() as number;
      if (v <= 0 || !tryScenario({ ...cur(), params: { ...cur().params, [name]: v - 1 } })) break;
    }
  }
}

function shrinkLog(cur: () => DecisionLog, tryLog: (l: DecisionLog) => boolean, more: () => boolean): void {
  const edit = (log: DecisionLog, idx: readonly number[], f: (v: number) => number): DecisionLog => {
    const e = log.entries.slice();
    for (const i of idx) e[i * 2 + 1] = f(e[i * 2 + 1]!);
    return { labels: log.labels, entries: e };
  };
  const nonZeroIdx = () => {
    const out: number[] = [];
    const e = cur().entries;
    for (let i = 1; i < e.length; i += 2) if (e[i] !== 0) out.push((i - 1) / 2);
    return out;
  };
  // Zero chunks of non-zero choices, from half of them down to one at a time.
  for (let chunk = Math.max(1, nonZeroIdx().length >> 1); chunk >= 1 && more(); chunk >>= 1) {
    let k = 0;
    while (more()) {
      const nz = nonZeroIdx();
      if (k >= nz.length) break;
      if (!tryLog(edit(cur(), nz.slice(k, k + chunk), () => 0))) k += chunk;
    }
  }
  // Halve what is left, one choice at a time (a shorter delay, an earlier option).
  for (const i of nonZeroIdx()) {
    if (!more()) break;
    const idx = cur().entries.length / 2 > i ? i : -1;
    if (idx >= 0) tryLog(edit(cur(), [idx], (v) => v >>> 1));
  }
}

/** Shrinks a failing seed of a resolved scenario and writes the result as a trace file. */
export function shrinkToTrace(scenario: Scenario, seed: number, log: DecisionLog | null, invariant: string, runsMax: number, sink: TraceSink, out: string, onProgress: ShrinkRequest['onProgress'] = null): ShrinkResult {
  const r = shrink({ scenario, seed, log, invariant, runsMax, onProgress });
  const final = simulate(r.scenario, r.seed, r.log, sink, `halfmoon replay ${out}`);
  if (!final.result.violations.some((v) => v.invariant === invariant)) {
    throw new InputError(`the shrunk run no longer violates '${invariant}' when written out (a nondeterministic system?)`);
  }
  return { ...r, result: final.result, log: final.log };
}
