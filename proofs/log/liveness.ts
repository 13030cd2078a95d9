/**
 * Liveness of the shared log after faults stop (spec §10, last row), on top of proofs/liveness.ts'
 * approach: with T the time of the last fault, every client operation completes by
 * max(call, T) + bound. The log adds:
 * - an operation whose engine crashed while it was pending has an unknown outcome and is exempt
 *   (the engine's invocations died with it, spec §3.3);
 * - while the controller records `underProvisioned` liveness is not required; once it records
 *   `provisioned` again, T moves to that time; if it never does, nothing is judged;
 * - a run whose controller is down at its end (crashed for good) is not judged: only the
 *   controller reconfigures (spec §6.3), so no failure after its crash need ever heal;
 * - every reconfiguration that started completes within the bound;
 * - the driver's end-of-run probe (one append and one read of it back, per book) succeeds.
 */
import type { Checker, FinishedRun, Violation } from '../../src/core/system.ts';
import type { LogReply, LogRequest } from '../../src/boki/api.ts';
import { callsAndReturns } from '../liveness.ts';

export function logLivenessChecker(boundUs: number, books: number, probes: boolean, name = 'log-liveness'): Checker {
  return {
    name,
    check(run: FinishedRun): Violation[] {
      if (run.truncated) return [];
      let t = Math.max(0, run.lastFaultUs);
      let under = false;
      const starts: { view: number; t: number }[] = [];
      let lastDone = -1;
      const crashes = new Map<string, number[]>();
      for (const ev of run.history) {
        if (ev.kind === 'fault' && ev.fault.kind === 'crash') for (const n of ev.fault.nodes ?? []) (crashes.get(n) ?? crashes.set(n, []).get(n)!).push(ev.t);
        if (ev.kind !== 'record') continue;
        const e = ev.event as { ev?: string; view?: number };
        if (e.ev === 'underProvisioned') under = true;
        else if (e.ev === 'provisioned') {
          under = false;
          t = Math.max(t, ev.t);
        } else if (e.ev === 'reconfigStart') starts.push({ view: e.view!, t: ev.t });
        else if (e.ev === 'reconfigDone') lastDone = Math.max(lastDone, e.view!);
      }
      if (under) return [];
      for (const id of run.view.nodeIds()) if (run.view.role(id) === 'controller' && !run.view.isUp(id)) return [];
      const horizon = run.quiescent ? Infinity : run.endUs;
      const out: Violation[] = [];
      for (const op of callsAndReturns(run.history)) {
        const deadline = Math.max(op.call, t) + boundUs;
        const late = op.ret === Infinity ? deadline <= horizon : op.ret > deadline;
        if (!late) continue;
        const crashed = (crashes.get(op.node) ?? []).some((c) => c >= op.call - 1 && (op.ret === Infinity || c <= op.ret));
        const downAtCall = (crashes.get(op.node) ?? []).some((c) => c < op.call) && op.ret === Infinity && wasDown(run, op.node, op.call);
        if (crashed || downAtCall) continue;
        out.push({
          invariant: name,
          message: `${op.reqId} (${describe(op.input as LogRequest)}) to ${op.node} called at ${op.call}us ${op.ret === Infinity ? 'never completed' : `completed only at ${op.ret}us`}; the deadline was ${deadline}us (last fault or recovery at ${t}us, bound ${boundUs}us)`,
          timeUs: deadline,
        });
        if (out.length >= 5) return out;
      }
      for (const s of starts) {
        const deadline = Math.max(s.t, t) + boundUs;
        if (lastDone <= s.view && deadline <= horizon) {
          out.push({ invariant: name, message: `the reconfiguration of view ${s.view} started at ${s.t}us never completed (deadline ${deadline}us)`, timeUs: deadline });
          return out;
        }
      }
      if (probes && out.length === 0) out.push(...checkProbes(run, books, name));
      return out;
    },
  };
}

/** Was `node` down at time `at` (crashed before and not restarted since)? */
function wasDown(run: FinishedRun, node: string, at: number): boolean {
  let down = false;
  for (const ev of run.history) {
    if (ev.t > at) break;
    if (ev.kind !== 'fault' || !(ev.fault.nodes ?? []).includes(node)) continue;
    if (ev.fault.kind === 'crash') down = true;
    else if (ev.fault.kind === 'restart') down = false;
  }
  return down;
}

function describe(r: LogRequest): string {
  return `${r.op} of ${r.inv}`;
}

function checkProbes(run: FinishedRun, books: number, name: string): Violation[] {
  const driver = run.view.nodeIds().find((id) => run.view.role(id) === 'driver');
  if (!driver) return [];
  const phase = (run.view.state(driver) as { phase?: string }).phase;
  if (phase !== 'done') return [{ invariant: name, message: `the workload never finished (driver in phase '${phase}' when the run ended)` }];
  const appended = new Set<bigint>();
  const ok = new Set<number>();
  for (const op of callsAndReturns(run.history)) {
    if (!op.reqId.startsWith('probe.')) continue;
    const req = op.input as LogRequest;
    const rep = op.output as LogReply | undefined;
    if (!rep) continue;
    if (req.op === 'append' && rep.code === 'APPEND_OK') appended.add(rep.seqnum);
    if (req.op === 'readPrev' && rep.code === 'READ_OK' && appended.has(rep.record.seqnum)) ok.add(rep.record.book);
  }
  const missing: number[] = [];
  for (let b = 0; b < books; b++) if (!ok.has(b)) missing.push(b);
  if (missing.length === 0) return [];
  return [{ invariant: name, message: `after faults stopped, the probe append-and-read failed for book(s) ${missing.slice(0, 10).join(', ')}` }];
}
