/**
 * Reporting for pauseless switching (issue 5 §6): each transition's length in simulated
 * milliseconds, the latency timeline, and the records appended per request before, during and
 * after each transition, from the gateway's coordinator state and the run's history. And the
 * switch's progress checker (`switch-liveness`): safety during a switch is exactly-once's (C1
 * through the final mode's read path); this judges the other side, that a switch that began
 * ends, so a coordinator stuck in the transitional mode does not pass for a working one.
 */
import type { Checker, FinishedRun, HistoryEvent, Violation } from '../src/core/system.ts';
import type { ClientState } from '../src/halfmoon/client.ts';
import type { Mode } from '../src/halfmoon/records.ts';
import type { RuntimeEvent } from '../src/halfmoon/workflow/events.ts';
import { accounting } from './accounting.ts';
import { callsAndReturns } from './liveness.ts';

/** How far before a switch and after its end requests count as "before" and "after". */
export const AROUND_US = 1_000_000;

export interface TransitionReport {
  readonly from: Mode;
  readonly to: Mode;
  readonly startUs: number;
  readonly endUs: number;
  readonly lengthMs: number | null;
  readonly waitedFor: number;
  readonly appendsPerRequest: { readonly before: number | null; readonly during: number | null; readonly after: number | null };
  readonly latencyUsP50: { readonly before: number | null; readonly during: number | null; readonly after: number | null };
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function mean(xs: number[]): number | null {
  return xs.length === 0 ? null : Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 1000) / 1000;
}

/**
 * switch-liveness: once faults stop (at T, the last fault or function crash), every transition
 * the coordinator began has ended by max(start, T) + bound. A run that stopped on a limit is not
 * judged; one that ended with a transition open is, when its deadline passed before the end.
 */
export function switchingLivenessChecker(boundUs: number, extraFaults?: (history: readonly HistoryEvent[]) => number): Checker {
  return {
    name: 'switch-liveness',
    check(run: FinishedRun): Violation[] {
      if (run.truncated) return [];
      const client = run.view.state('driver') as ClientState | undefined;
      if (!client || !client.cfg.switching) return [];
      const tf = Math.max(0, run.lastFaultUs, extraFaults ? extraFaults(run.history) : -1);
      const horizon = run.quiescent ? Infinity : run.endUs;
      for (const t of client.coord.transitions) {
        const deadline = Math.max(t.startUs, tf) + boundUs;
        const late = t.endUs < 0 ? deadline <= horizon : t.endUs > deadline;
        if (!late) continue;
        const what = t.endUs < 0 ? `never ended (the run ended at ${run.endUs}us in phase ${client.coord.phase})` : `ended only at ${t.endUs}us`;
        return [{ invariant: 'switch-liveness', message: `the switch from ${t.from} to ${t.to} begun at ${t.startUs}us ${what}; the deadline was ${deadline}us (bound ${boundUs}us)`, timeUs: deadline }];
      }
      return [];
    },
  };
}

export function switchingReport(run: FinishedRun): Record<string, unknown> {
  const client = run.view.state('driver') as ClientState | undefined;
  if (!client) return {};
  const modeOf = new Map<string, Mode>();
  for (const h of run.history) {
    if (h.kind !== 'record') continue;
    const e = h.event as RuntimeEvent;
    if (e.ev === 'execStart' && e.top && !modeOf.has(e.requestId)) modeOf.set(e.requestId, e.mode);
  }
  const acc = accounting(run.history, client.cfg.mode);
  const calls = callsAndReturns(run.history).filter((c) => c.ret !== Infinity && !c.reqId.startsWith('coord:'));
  const transitions: TransitionReport[] = client.coord.transitions.map((t) => {
    const end = t.endUs >= 0 ? t.endUs : run.endUs;
    const pick = (f: (c: (typeof calls)[number]) => boolean) => calls.filter(f);
    const groups = {
      before: pick((c) => c.call < t.startUs && c.call >= t.startUs - AROUND_US && modeOf.get(c.reqId) === t.from),
      during: pick((c) => modeOf.get(c.reqId) === 'TRANS' && c.call >= t.startUs && c.call < end),
      after: t.endUs >= 0 ? pick((c) => c.call >= t.endUs && c.call < t.endUs + AROUND_US && modeOf.get(c.reqId) === t.to) : [],
    };
    const apr = (g: typeof calls) => mean(g.map((c) => acc.get(c.reqId)?.counts.appends ?? 0));
    const lat = (g: typeof calls) => median(g.map((c) => c.ret - c.call));
    return {
      from: t.from,
      to: t.to,
      startUs: t.startUs,
      endUs: t.endUs,
      lengthMs: t.endUs >= 0 ? (t.endUs - t.startUs) / 1000 : null,
      waitedFor: t.waitedFor,
      appendsPerRequest: { before: apr(groups.before), during: apr(groups.during), after: apr(groups.after) },
      latencyUsP50: { before: lat(groups.before), during: lat(groups.during), after: lat(groups.after) },
    };
  });
  // The latency timeline: per second of simulated time, the requests completed and their p50.
  const timeline: { tSec: number; requests: number; p50Us: number | null; modes: Record<string, number> }[] = [];
  const bySec = new Map<number, { lat: number[]; modes: Record<string, number> }>();
  for (const c of calls) {
    const sec = Math.floor(c.ret / 1_000_000);
    let b = bySec.get(sec);
    if (!b) bySec.set(sec, (b = { lat: [], modes: {} }));
    b.lat.push(c.ret - c.call);
    const m = modeOf.get(c.reqId) ?? '?';
    b.modes[m] = (b.modes[m] ?? 0) + 1;
  }
  for (const sec of [...bySec.keys()].sort((a, b) => a - b)) {
    const b = bySec.get(sec)!;
    timeline.push({ tSec: sec, requests: b.lat.length, p50Us: median(b.lat), modes: b.modes });
  }
  const done = transitions.filter((t) => t.lengthMs !== null);
  return {
    switches: done.length,
    transitionUs: done.map((t) => t.endUs - t.startUs),
    transitions,
    finalMode: client.coord.phase === 'STABLE' ? client.coord.current : 'TRANS',
    phases: phaseReport(client, calls, modeOf, acc, run.endUs),
    latencyTimeline: timeline,
  };
}

/**
 * For workloads whose read ratio alternates every `phaseUs`: per phase, the requests admitted once
 * the coordinator had settled (STABLE after the phase's last transition), their modes, and the
 * records they appended per request.
 */
function phaseReport(
  client: ClientState,
  calls: ReturnType<typeof callsAndReturns>,
  modeOf: Map<string, Mode>,
  acc: ReturnType<typeof accounting>,
  endUs: number,
): unknown[] {
  const p = client.cfg.params;
  const phaseUs = typeof p.phaseUs === 'number' ? p.phaseUs : 0;
  if (phaseUs <= 0) return [];
  const out: unknown[] = [];
  const until = client.cfg.durationUs > 0 ? Math.min(endUs, client.cfg.durationUs) : endUs;
  for (let start = 0, i = 0; start < until; start += phaseUs, i++) {
    const end = start + phaseUs;
    // Settled: after the last transition that ended within this phase (or the phase start).
    let settled = start;
    for (const t of client.coord.transitions) if (t.endUs >= start && t.endUs < end) settled = Math.max(settled, t.endUs);
    const open = client.coord.transitions.some((t) => t.startUs < end && (t.endUs < 0 || t.endUs > end) && t.startUs >= start);
    const inPhase = calls.filter((c) => c.call >= settled && c.call < end);
    const modes: Record<string, number> = {};
    let appends = 0;
    for (const c of inPhase) {
      const m = modeOf.get(c.reqId) ?? '?';
      modes[m] = (modes[m] ?? 0) + 1;
      appends += acc.get(c.reqId)?.counts.appends ?? 0;
    }
    out.push({
      phase: i,
      startUs: start,
      readRatio: i % 2 === 0 ? p.readRatioA ?? 0.2 : p.readRatioB ?? 0.8,
      settledFromUs: open ? null : settled,
      requests: inPhase.length,
      modes,
      appendsPerRequest: inPhase.length ? Math.round((appends / inPhase.length) * 1000) / 1000 : null,
    });
  }
  return out;
}
