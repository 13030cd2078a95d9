/**
 * Log accounting (Halfmoon spec §5.4, §7.3): records appended, failed conditional appends, log
 * and store reads and writes per request, against the per-protocol record formulas; the
 * `log-accounting` checker judges P1 (exact counts without faults), P2 (the fault bound on what
 * the log holds), P4 (read/write asymmetry: nothing appended during an operation of the kind the
 * protocol does not log) and P5 (the other direction, observed: every operation of the kind it
 * logs was logged by some execution; an unlogged one is re-run live on replay, P5-unlogged-op).
 */
import type { Checker, FinishedRun, HistoryEvent, Violation } from '../src/core/system.ts';
import type { Mode } from '../src/halfmoon/records.ts';
import { protocolOf } from '../src/halfmoon/protocols.ts';
import type { RuntimeEvent } from '../src/halfmoon/workflow/events.ts';
import { parse, completing, type ExactlyOnceOptions, logView } from './workflow-history.ts';

/** HM-R, HM-W for the built-in modes (as messages always said), else the protocol's name. */
function protocolLabel(m: Mode): string {
  return m === 'HMR' ? 'HM-R' : m === 'HMW' ? 'HM-W' : protocolOf(m).name;
}

export interface Counts {
  appends: number; // successful records appended or overwritten
  wasted: number; // failed conditional appends (invisible slots)
  logReads: number;
  storeReads: number;
  storeWrites: number;
}

/** Per-instance record formulas, failure-free (spec §5.4): each protocol declares its own. */
export function formula(mode: Mode, top: boolean, r: number, w: number, v: number): number {
  return protocolOf(mode).records({ top, r, w, v });
}

const APPENDS = new Set(['append', 'condAppend', 'overwrite']);

const READS = new Set(['readNext', 'readPrev', 'checkTail']);

/**
 * The logical data operations (`path|ordinal`) during which some execution appended a record:
 * an append in an execution's 'op' stage belongs to the operation it is running, whose ordinal is
 * the number of operations that execution has returned so far (ordinals are indices).
 */
function loggedOperations(history: readonly HistoryEvent[], pathOf: (exec: string) => string | undefined): Set<string> {
  const returned = new Map<string, number>();
  const out = new Set<string>();
  for (const h of history) {
    if (h.kind !== 'record') continue;
    const e = h.event as RuntimeEvent;
    if (e.ev === 'wfOp') returned.set(e.exec, (returned.get(e.exec) ?? 0) + 1);
    else if (e.ev === 'logOp' && e.stage === 'op' && APPENDS.has(e.op) && e.code === 'APPEND_OK' && (e.opKind === 'read' || e.opKind === 'write')) {
      const path = pathOf(e.exec);
      if (path !== undefined) out.add(`${path}|${returned.get(e.exec) ?? 0}`);
    }
  }
  return out;
}

export interface RequestAccounting {
  readonly requestId: string;
  readonly counts: Counts;
  readonly expected: number;
  /** Logged data operations (reads or writes that produced at least one record). */
  readonly loggedOps: number;
  readonly reads: number;
  readonly writes: number;
}

const accountingCache = new WeakMap<readonly HistoryEvent[], Map<string, RequestAccounting>>();

export function accounting(history: readonly HistoryEvent[], mode: Mode): Map<string, RequestAccounting> {
  const cached = accountingCache.get(history);
  if (cached) return cached;
  const a = accountingUncached(history, mode);
  accountingCache.set(history, a);
  return a;
}

function accountingUncached(history: readonly HistoryEvent[], mode: Mode): Map<string, RequestAccounting> {
  void mode; // formulas use each instance's own mode
  const p = parse(history);
  const comp = completing(p);
  const counts = new Map<string, Counts>();
  const get = (rq: string) => {
    let c = counts.get(rq);
    if (!c) counts.set(rq, (c = { appends: 0, wasted: 0, logReads: 0, storeReads: 0, storeWrites: 0 }));
    return c;
  };
  // An overwrite replaces a record's payload: repeated overwrites of one slot are one record.
  const overwritten = new Set<string>();
  for (const l of p.logs) {
    const c = get(l.requestId);
    if (APPENDS.has(l.op)) {
      if (l.code === 'APPEND_OK') {
        if (l.op === 'overwrite') {
          const slot = `${l.rec?.iid}|${l.rec?.step}`;
          if (overwritten.has(slot)) continue;
          overwritten.add(slot);
        }
        c.appends++;
      } else if (l.code === 'COND_FAILED') c.wasted++;
    } else if (READS.has(l.op)) c.logReads++;
  }
  for (const h of history) {
    if (h.kind !== 'record') continue;
    const e = h.event as RuntimeEvent;
    if (e.ev === 'storeOp') {
      const c = get(e.requestId === '' ? `?${e.exec}` : e.requestId);
      if (e.op === 'get') c.storeReads++;
      else c.storeWrites++;
    }
  }
  const out = new Map<string, RequestAccounting>();
  const expected = new Map<string, { exp: number; logged: number; r: number; w: number }>();
  for (const [path, ex] of comp) {
    const st = p.starts.get(ex)!;
    const ops = p.ops.get(ex) ?? [];
    const r = ops.filter((o) => o.kind === 'read').length;
    const w = ops.filter((o) => o.kind === 'write').length;
    const v = ops.filter((o) => o.kind === 'invoke').length;
    const rq = path.split('/')[0]!;
    const e = expected.get(rq) ?? { exp: 0, logged: 0, r: 0, w: 0 };
    e.exp += formula(st.mode, st.top, r, w, v);
    e.logged += loggedDataOps(st.mode, r, w);
    e.r += r;
    e.w += w;
    expected.set(rq, e);
  }
  for (const [rq, c] of counts) {
    const e = expected.get(rq);
    out.set(rq, { requestId: rq, counts: c, expected: e?.exp ?? -1, loggedOps: e?.logged ?? 0, reads: e?.r ?? 0, writes: e?.w ?? 0 });
  }
  return out;
}

/** Data operations a protocol logs (spec §7.3 P5): W under HM-R, R under HM-W, both otherwise. */
export function loggedDataOps(mode: Mode, r: number, w: number): number {
  const l = protocolOf(mode).logs;
  return (l.reads ? r : 0) + (l.writes ? w : 0);
}

export function logAccountingChecker(opts: { mode: Mode; exact: boolean; audit?: ExactlyOnceOptions['audit'] }): Checker {
  return {
    name: 'log-accounting',
    check(run: FinishedRun): Violation[] {
      const v: Violation[] = [];
      const acc = accounting(run.history, opts.mode);
      const p = parse(run.history);
      // Records each request's instances hold in the log at the end (the audit, when there is one).
      const lv = logView(run, p, { mode: opts.mode, variant: null, ...(opts.audit ? { audit: opts.audit } : {}) });
      const heldBy = new Map<string, number>();
      if (lv.fromAudit) {
        const iidRequest = new Map<string, string>();
        for (const st of p.starts.values()) if (st.requestId !== '' && !iidRequest.has(st.iid)) iidRequest.set(st.iid, st.requestId);
        for (const [iid, n] of lv.held) {
          const rq = iidRequest.get(iid);
          if (rq !== undefined) heldBy.set(rq, (heldBy.get(rq) ?? 0) + n);
        }
      }
      // P4 asymmetry: HM-R appends nothing during a read, HM-W nothing during a write.
      for (const l of p.logs) {
        if (!APPENDS.has(l.op) || l.stage !== 'op') continue;
        const m = p.starts.get(l.exec)?.mode ?? opts.mode;
        const logs = protocolOf(m).logs;
        if (!logs.reads && l.opKind === 'read') v.push({ invariant: 'P4-asymmetry', message: `${protocolLabel(m)} appended ${l.rec?.kind} during a read (${l.path})` });
        if (!logs.writes && l.opKind === 'write') v.push({ invariant: 'P4-asymmetry', message: `${protocolLabel(m)} appended ${l.rec?.kind} during a write (${l.path})` });
        if (v.length > 10) return v;
      }
      const reqMode = new Map<string, Mode>();
      for (const st of p.starts.values()) if (st.top) reqMode.set(st.requestId, st.mode);
      for (const a of acc.values()) {
        if (a.expected < 0) continue; // never completed: liveness judges it
        const mode = reqMode.get(a.requestId) ?? opts.mode;
        if (opts.exact && a.counts.appends !== a.expected) {
          v.push({ invariant: 'P1-exact-counts', message: `request ${a.requestId}: ${a.counts.appends} records appended, the ${mode} formula gives ${a.expected}` });
        }
        const held = lv.fromAudit ? (heldBy.get(a.requestId) ?? 0) : a.counts.appends;
        if (!opts.exact && protocolOf(mode).style !== 'boki' && held > a.expected) {
          v.push({ invariant: 'P2-fault-bound', message: `request ${a.requestId}: the log holds ${held} of its records, above the ${mode} formula's ${a.expected}` });
        }
        if (v.length > 10) return v;
      }
      // P5, observed: each read or write a completing execution returned, of a kind its protocol
      // logs, was logged by some execution of its path (an append during it, or a replay of it). (The other
      // direction, a logged operation of the unlogged kind, is an append during it: P4.)
      const logged = loggedOperations(run.history, (exec) => p.starts.get(exec)?.path);
      for (const [path, ex] of completing(p)) {
        const st = p.starts.get(ex);
        if (!st) continue;
        const logs = protocolOf(st.mode).logs;
        for (const o of p.ops.get(ex) ?? []) {
          if (o.kind === 'invoke' || !(o.kind === 'read' ? logs.reads : logs.writes)) continue;
          // Logged: appended during it, or replayed from its record (the append's answer may
          // have been lost with a crashed node, so the history never saw it).
          if (logged.has(`${path}|${o.ordinal}`) || o.note.replayed === true) continue;
          v.push({ invariant: 'P5-unlogged-op', message: `${path} op ${o.ordinal}: ${protocolLabel(st.mode)} logs every ${o.kind}, but no execution appended a record during this ${o.kind} of ${o.table}/${o.key} (a replay re-runs it live)` });
          if (v.length > 10) return v;
        }
      }
      return v;
    },
  };
}
