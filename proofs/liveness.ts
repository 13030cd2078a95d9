/**
 * Liveness after faults stop (TigerBeetle's heal-then-converge, Antithesis' quiet period): once
 * the last fault took effect at T_f, every client operation must complete by
 * max(call, T_f) + bound. A run that stopped early on an event or wall-time limit is not judged;
 * one that ran out of simulated time is, for every operation whose deadline has passed; one that went
 * quiescent (nothing left in the event queue) is, for every operation still pending.
 */
import type { Checker, FinishedRun, HistoryEvent, Violation } from '../src/core/system.ts';

export interface CallRet {
  readonly reqId: string;
  readonly client: string;
  readonly node: string;
  readonly call: number;
  readonly ret: number; // Infinity when it never returned
  readonly input: unknown;
  readonly output: unknown;
}

/** Pairs calls with their first return, in call order. Repeated calls of one reqId count once. */
export function callsAndReturns(history: readonly HistoryEvent[]): CallRet[] {
  const byId = new Map<string, { reqId: string; client: string; node: string; call: number; ret: number; input: unknown; output: unknown }>();
  const order: string[] = [];
  for (const ev of history) {
    if (ev.kind === 'call') {
      if (!byId.has(ev.reqId)) {
        byId.set(ev.reqId, { reqId: ev.reqId, client: ev.client, node: ev.node, call: ev.t, ret: Infinity, input: ev.body, output: undefined });
        order.push(ev.reqId);
      }
    } else if (ev.kind === 'ret') {
      const c = byId.get(ev.reqId);
      if (c && c.ret === Infinity) {
        c.ret = ev.t;
        c.output = ev.body;
      }
    }
  }
  return order.map((id) => byId.get(id)!);
}

/**
 * `extraFaults` adds faults the simulator does not inject itself (function crashes a runtime
 * injects through ctx.maybe): the time of the last one, or -1.
 */
export function livenessChecker(
  boundUs: number,
  name = 'liveness',
  extraFaults?: (history: readonly HistoryEvent[]) => number,
  /** Calls that are not client operations (a coordinator's own queries, retried under new ids). */
  ignore?: (reqId: string) => boolean,
): Checker {
  return {
    name,
    check(run: FinishedRun): Violation[] {
      if (run.truncated) return [];
      const lastFault = Math.max(run.lastFaultUs, extraFaults ? extraFaults(run.history) : -1);
      const tf = Math.max(0, lastFault);
      // With an empty event queue nothing can happen any more: a pending operation never completes.
      const horizon = run.quiescent ? Infinity : run.endUs;
      for (const op of callsAndReturns(run.history)) {
        if (ignore?.(op.reqId)) continue;
        const deadline = Math.max(op.call, tf) + boundUs;
        if (op.ret === Infinity ? deadline <= horizon : op.ret > deadline) {
          return [
            {
              invariant: name,
              message: `${op.reqId} (${JSON.stringify(op.input)}) called at ${op.call}us ${op.ret === Infinity ? 'never completed' : `completed only at ${op.ret}us`}${run.quiescent && op.ret === Infinity ? ' and the run went quiescent (nothing left to happen)' : ''}; the deadline was ${deadline}us (last fault at ${lastFault}us, bound ${boundUs}us)`,
              timeUs: deadline,
            },
          ];
        }
      }
      return [];
    },
  };
}
