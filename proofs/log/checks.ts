/**
 * The shared log's history checks (spec §10), each one pass over the recorded history with hash
 * maps (binary searches over per-stream sorted arrays where a range question is asked), so a run's
 * check is O(n log n) in the number of client operations, in the style of Elle's list-append
 * checker: every append attempt is unique and names itself, so what a read returns identifies
 * exactly one write.
 *
 * Inputs: the engines' `attempt` / `attemptEnd` / `op` records (history.ts) and the final audit
 * (audit.ts). Checks, each reported under its own invariant name:
 *   log-total-order        a seqnum maps to one attempt and an attempt to one seqnum, across
 *                          engine acknowledgements, read results and storage; a localid names one
 *                          attempt per logspace
 *   log-no-duplicates      an attempt occupies at most one slot (audit)
 *   log-no-lost-ack        every APPEND_OK attempt is in the final log at its seqnum, unless trimmed
 *   log-discarded-invisible a DISCARDED attempt is in no slot and in no read result
 *   log-seqnum-order       an invocation's successive appends get increasing seqnums
 *   log-read-your-writes   progress tokens never go back within an invocation; a child starts at
 *                          its parent's progress; reads see the invocation's own appends; a read
 *                          after the invocation's own trim never returns a record below it
 *   log-read-validity      a read's answer is the right record of the final stream given the
 *                          answering index's frontier, with the right payload (last overwrite)
 *   log-cond-decisions     every conditional append and overwrite result equals the replay
 *   log-blocking-read      a blocking readNext answers by its timeout (plus a read timeout) ...
 *   log-blocking-read-early ... and, finding nothing, not before its timeout
 */
import type { FinishedRun, HistoryEvent, Violation } from '../../src/core/system.ts';
import type { LogReply, LogRequest } from '../../src/boki/api.ts';
import { MAX_SEQNUM } from '../../src/boki/api.ts';
import type { AttemptEndRec, AttemptRec, OpRec } from '../../src/boki/history.ts';
import { localidCounter, localidEngine, seqLogspace, seqOf, seqView } from '../../src/boki/ids.ts';
import { type Audit, hex, runAudit } from './audit.ts';

export interface OpEv {
  readonly r: OpRec;
  readonly node: string;
  readonly t: number;
}

export interface LogHistory {
  readonly attempts: Map<string, AttemptRec>;
  readonly ends: Map<string, AttemptEndRec>;
  /** Completed API calls: the engine's record, the engine, and the time it was recorded. */
  readonly ops: OpEv[];
  readonly problems: Violation[];
}

export function parseHistory(history: readonly HistoryEvent[]): LogHistory {
  const attempts = new Map<string, AttemptRec>();
  const ends = new Map<string, AttemptEndRec>();
  const ops: OpEv[] = [];
  const problems: Violation[] = [];
  for (const ev of history) {
    if (ev.kind !== 'record') continue;
    const e = ev.event as { ev?: string };
    switch (e.ev) {
      case 'attempt':
        attempts.set((e as AttemptRec).attemptId, e as AttemptRec);
        break;
      case 'attemptEnd': {
        const a = e as AttemptEndRec;
        const prev = ends.get(a.attemptId);
        if (prev && prev.code !== a.code) problems.push({ invariant: 'log-discarded-invisible', message: `attempt ${a.attemptId} ended twice: ${prev.code} and ${a.code}`, timeUs: ev.t });
        ends.set(a.attemptId, a);
        break;
      }
      case 'op':
        ops.push({ r: e as OpRec, node: ev.node, t: ev.t });
        break;
      default:
        break;
    }
  }
  return { attempts, ends, ops, problems };
}

/** Largest index i with xs[i] <= x, or -1. */
function floorIdx(xs: readonly bigint[], x: bigint): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Smallest index i with xs[i] >= x, or xs.length. */
function ceilIdx(xs: readonly bigint[], x: bigint): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const EMPTY: readonly bigint[] = [];

export interface LogCheckOptions {
  /** A blocking readNext must answer by its call plus this much, unless a fault intervened. */
  readonly blockingReadBoundUs: number;
  /** ... judged only for reads called this long after the last fault (faults delay anything). */
  readonly quietUs: number;
  /**
   * The blocking read timeout: a blocking readNext past the tail of its logspace parks this long
   * before it may answer EMPTY (log-blocking-read-early judges the lower bound; omit to skip).
   */
  readonly blockingReadTimeoutUs?: number;
  readonly maxViolations?: number;
}

export function checkLogHistory(run: FinishedRun, opts: LogCheckOptions): Violation[] {
  const maxViolations = opts.maxViolations ?? 20;
  const h = parseHistory(run.history);
  const audit = runAudit(run.view);
  const out: Violation[] = [...h.problems, ...audit.problems.map((p) => ({ invariant: p.invariant, message: p.message }))];
  const add = (invariant: string, message: string, timeUs?: number) => {
    if (out.length < maxViolations) out.push(timeUs === undefined ? { invariant, message } : { invariant, message, timeUs });
  };
  const auditable = (seq: bigint) => audit.auditableViews.has(seqView(seq));
  const byLocal = localIndex(h);
  checkTotalOrder(h, audit, byLocal, add);
  checkAcksAndDiscards(h, audit, auditable, add);
  checkInvocations(h, audit, add);
  checkReads(h, audit, byLocal, auditable, add);
  checkBlocking(run, h, opts.blockingReadBoundUs, opts.quietUs, add);
  if (opts.blockingReadTimeoutUs !== undefined) checkBlockingEarly(run, h, opts.blockingReadTimeoutUs, add);
  return out.slice(0, maxViolations);
}

/**
 * log-blocking-read: a blocking readNext that finds nothing parks for at most the blocking read
 * timeout, then answers EMPTY. Judged only once faults have stopped for `quietUs`.
 */
function checkBlocking(run: FinishedRun, h: LogHistory, boundUs: number, quietUs: number, add: Add): void {
  const blocking = h.ops.filter((op) => op.r.req.op === 'readNext' && op.r.req.blocking === true);
  if (blocking.length === 0) return;
  const calls = new Map<string, number>();
  for (const ev of run.history) if (ev.kind === 'call') calls.set(ev.reqId, ev.t);
  for (const op of blocking) {
    const t0 = calls.get(op.r.reqId) ?? op.r.t0;
    if (op.t - t0 <= boundUs) continue;
    if (run.lastFaultUs >= 0 && t0 <= run.lastFaultUs + quietUs) continue;
    add('log-blocking-read', `${op.r.reqId}: a blocking readNext answered ${op.r.rep.code} only after ${op.t - t0}us (bound ${boundUs}us)`, op.t);
  }
  // A blocking read that never answered at all is the liveness checker's business.
  void 0;
}

type Add = (invariant: string, message: string, timeUs?: number) => void;

/**
 * log-blocking-read-early, the other direction: a blocking readNext that finds nothing must wait
 * (park) for the blocking read timeout before it answers EMPTY; one that answers EMPTY sooner
 * behaves as a non-blocking read. Judged for reads whose lower bound lies in the logspace of the
 * answering index (a bound in an older logspace is answered there without blocking) and after
 * whose call no fault happened (a crash or a new view ends parked reads early).
 */
function checkBlockingEarly(run: FinishedRun, h: LogHistory, timeoutUs: number, add: Add): void {
  const calls = new Map<string, number>();
  for (const ev of run.history) if (ev.kind === 'call') calls.set(ev.reqId, ev.t);
  for (const op of h.ops) {
    const req = op.r.req;
    if (req.op !== 'readNext' || req.blocking !== true || op.r.rep.code !== 'EMPTY') continue;
    const t0 = calls.get(op.r.reqId) ?? op.r.t0;
    if (op.t - t0 >= timeoutUs || run.lastFaultUs >= t0) continue;
    if (op.r.frontier === 0n || seqLogspace(req.minSeq) !== seqLogspace(op.r.frontier)) continue;
    add('log-blocking-read-early', `${op.r.reqId}: a blocking readNext from ${hex(req.minSeq)} answered EMPTY after ${op.t - t0}us, before the blocking read timeout of ${timeoutUs}us`, op.t);
  }
}

function checkTotalOrder(h: LogHistory, audit: Audit, byLocal: LocalIndex, add: Add): void {
  const seqToAttempt = new Map<bigint, string>();
  const attemptToSeq = new Map<string, bigint>();
  const assign = (seq: bigint, id: string, where: string) => {
    const had = seqToAttempt.get(seq);
    if (had !== undefined && had !== id) add('log-total-order', `seqnum ${hex(seq)} maps to attempt ${had} and, by ${where}, to ${id}`);
    else seqToAttempt.set(seq, id);
    const hs = attemptToSeq.get(id);
    if (hs !== undefined && hs !== seq) add('log-total-order', `attempt ${id} has seqnum ${hex(hs)} and, by ${where}, ${hex(seq)}`);
    else attemptToSeq.set(id, seq);
  };
  for (const e of h.ends.values()) if (e.code !== 'DISCARDED' && e.pos >= 0) assign(seqOf(e.ls, e.pos), e.attemptId, 'its engine');
  for (const s of audit.slots.values()) if (s.attemptId !== null) assign(s.seq, s.attemptId, 'storage');
  for (const op of h.ops) {
    if (op.r.rep.code !== 'READ_OK') continue;
    const r = op.r.rep.record;
    const id = attemptOfRead(byLocal, audit, r.seqnum, r.localid);
    if (id === null) {
      add('log-total-order', `${op.r.reqId} read seqnum ${hex(r.seqnum)} with localid ${localidEngine(r.localid)}:${localidCounter(r.localid)}, which no append attempt used`, op.t);
      continue;
    }
    if (id !== '') assign(r.seqnum, id, `read ${op.r.reqId}`);
  }
}

/**
 * Attempts by (logspace, localid). A restarted engine may reuse a counter that no storage ever
 * received from its previous incarnation (spec §9.3 resumes above the highest counter *held*), so a
 * localid can name several attempts of which at most one was ever replicated.
 */
type LocalIndex = Map<number, Map<number, string[]>>;

function localIndex(h: LogHistory): LocalIndex {
  const m: LocalIndex = new Map();
  for (const a of h.attempts.values()) {
    let per = m.get(a.ls);
    if (!per) m.set(a.ls, (per = new Map()));
    const k = a.engine * 0x1_0000_0000 + a.counter;
    const l = per.get(k);
    if (l) l.push(a.attemptId);
    else per.set(k, [a.attemptId]);
  }
  return m;
}

/**
 * The attempt a read result names: the one the storages hold at that seqnum when the audit knows
 * it, else the only attempt that used the localid; '' when ambiguous and unauditable, null when no
 * attempt used it.
 */
function attemptOfRead(byLocal: LocalIndex, audit: Audit, seq: bigint, lid: bigint): string | null {
  const ids = byLocal.get(seqLogspace(seq))?.get(localidEngine(lid) * 0x1_0000_0000 + localidCounter(lid));
  if (!ids) return null;
  const slot = audit.slots.get(seq);
  if (slot && slot.attemptId !== null && ids.includes(slot.attemptId)) return slot.attemptId;
  return ids.length === 1 ? ids[0]! : '';
}

function checkAcksAndDiscards(h: LogHistory, audit: Audit, auditable: (s: bigint) => boolean, add: Add): void {
  for (const e of h.ends.values()) {
    const a = h.attempts.get(e.attemptId);
    if (e.code === 'DISCARDED') {
      const at = audit.attemptSlot.get(e.attemptId);
      if (at !== undefined) add('log-discarded-invisible', `attempt ${e.attemptId} was answered DISCARDED but occupies seqnum ${hex(at)}`);
      continue;
    }
    const seq = seqOf(e.ls, e.pos);
    if (!auditable(seq)) continue;
    const slot = audit.slots.get(seq);
    const book = a?.book ?? -1;
    const trimmed = seq < (audit.trimPoints.get(book) ?? 0n);
    if (!slot) {
      if (!trimmed && e.code === 'APPEND_OK') add('log-no-lost-ack', `attempt ${e.attemptId} was acknowledged at ${hex(seq)} but no storage holds that slot`);
      continue;
    }
    if (!a) continue;
    if (a.kind === 'cond') {
      const ok = e.code === 'APPEND_OK';
      if (slot.decided !== null && slot.decided !== ok) add('log-cond-decisions', `conditional append ${e.attemptId} at ${hex(seq)} returned ${e.code}, but replaying the final log ${slot.decided ? 'succeeds' : 'fails'} it`);
    } else if (a.kind === 'overwrite') {
      const ok = e.code === 'APPEND_OK';
      if (slot.decided !== null && slot.decided !== ok) add('log-cond-decisions', `overwrite ${e.attemptId} at ${hex(seq)} returned ${e.code}, but replaying the final log ${slot.decided ? 'applies' : 'rejects'} it`);
    }
  }
  // Overwrites report their target's seqnum: it must be the replay's target.
  for (const op of h.ops) {
    if (op.r.req.op !== 'overwrite' || op.r.rep.code !== 'APPEND_OK' || op.r.attemptId === null) continue;
    const e = h.ends.get(op.r.attemptId);
    if (!e || e.pos < 0) continue;
    const slot = audit.slots.get(seqOf(e.ls, e.pos));
    if (slot && slot.target !== null && slot.target !== op.r.rep.seqnum) add('log-cond-decisions', `overwrite ${op.r.reqId} reported target ${hex(op.r.rep.seqnum)} but the replay targets ${hex(slot.target)}`);
  }
}

interface InvTrack {
  lastPout: bigint;
  lastDoneUs: number;
  lastAppend: bigint;
  lastAppendDoneUs: number;
  trim: bigint;
  own: Map<bigint, bigint[]>;
}

function checkInvocations(h: LogHistory, audit: Audit, add: Add): void {
  const byNode = new Map<string, Map<string, InvTrack>>();
  const track = (node: string, inv: string, create: boolean): InvTrack | undefined => {
    let invs = byNode.get(node);
    if (!invs) byNode.set(node, (invs = new Map()));
    let t = invs.get(inv);
    if (!t && create) invs.set(inv, (t = { lastPout: 0n, lastDoneUs: -1, lastAppend: -1n, lastAppendDoneUs: -1, trim: 0n, own: new Map() }));
    return t;
  };
  for (const op of h.ops) {
    const req = op.r.req;
    if (req.op === 'begin' && req.parent !== null) {
      const parent = track(op.node, req.parent, false);
      if (parent && parent.lastDoneUs <= op.r.t0 && op.r.pin < parent.lastPout) add('log-read-your-writes', `child ${op.r.inv} began with progress ${hex(op.r.pin)} below its parent's ${hex(parent.lastPout)}`, op.t);
    }
    const t = track(op.node, op.r.inv, true)!;
    const sequential = op.r.t0 >= t.lastDoneUs;
    if (sequential && op.r.pin < t.lastPout) add('log-read-your-writes', `${op.r.reqId} of ${op.r.inv} started with progress ${hex(op.r.pin)} below the previous operation's ${hex(t.lastPout)}`, op.t);
    if (op.r.pout < op.r.pin) add('log-read-your-writes', `${op.r.reqId} of ${op.r.inv} lowered its progress from ${hex(op.r.pin)} to ${hex(op.r.pout)}`, op.t);
    if ((req.op === 'append' || req.op === 'condAppend') && op.r.rep.code === 'APPEND_OK') {
      const seq = op.r.rep.seqnum;
      if (op.r.t0 >= t.lastAppendDoneUs && seq <= t.lastAppend) add('log-seqnum-order', `${op.r.reqId} of ${op.r.inv} got seqnum ${hex(seq)}, not above its previous append's ${hex(t.lastAppend)}`, op.t);
      if (seq > t.lastAppend) {
        t.lastAppend = seq;
        t.lastAppendDoneUs = op.t;
        ownTag(t, 0n, seq);
        if (req.op === 'condAppend') ownTag(t, req.condTag, seq);
        for (const tag of req.tags) ownTag(t, tag, seq);
      }
    }
    if (req.op === 'trim' && op.r.rep.code === 'TRIM_OK' && req.uptoSeq > t.trim) t.trim = req.uptoSeq;
    if (sequential) readSeesOwn(op, req, t, audit, add);
    if (op.t > t.lastDoneUs) t.lastDoneUs = op.t;
    if (op.r.pout > t.lastPout) t.lastPout = op.r.pout;
  }
}

/** Adds an own append to a stream's list once (tags may repeat a cond tag). */
function ownTag(t: InvTrack, tag: bigint, seq: bigint): void {
  let l = t.own.get(tag);
  if (!l) t.own.set(tag, (l = []));
  if (l[l.length - 1] !== seq) l.push(seq);
}

function readSeesOwn(op: OpEv, req: LogRequest, t: InvTrack, audit: Audit, add: Add): void {
  if (req.op !== 'readNext' && req.op !== 'readPrev' && req.op !== 'checkTail') return;
  const rep = op.r.rep;
  if (rep.code === 'DATA_LOST') return;
  const got = rep.code === 'READ_OK' ? rep.record.seqnum : null;
  if (got !== null && got < t.trim) add('log-read-your-writes', `${op.r.reqId} returned ${hex(got)}, below its invocation's own trim point ${hex(t.trim)}`, op.t);
  const own = t.own.get(req.tag);
  if (!own || own.length === 0) return;
  const trim = audit.trimPoints.get(op.r.book) ?? 0n;
  if (req.op === 'readNext') {
    const i = ceilIdx(own, req.minSeq);
    if (i >= own.length || own[i]! < trim) return;
    if (got === null || got > own[i]!) add('log-read-your-writes', `${op.r.reqId}: readNext(${hex(req.tag)}, ${hex(req.minSeq)}) returned ${got === null ? rep.code : hex(got)} although the invocation appended ${hex(own[i]!)}`, op.t);
    return;
  }
  const q = req.op === 'readPrev' ? req.maxSeq : MAX_SEQNUM;
  const i = floorIdx(own, q);
  if (i < 0 || own[i]! < trim) return;
  if (got === null || got < own[i]!) add('log-read-your-writes', `${op.r.reqId}: ${req.op}(${hex(req.tag)}, ${hex(q)}) returned ${got === null ? rep.code : hex(got)} although the invocation appended ${hex(own[i]!)}`, op.t);
}

function checkReads(h: LogHistory, audit: Audit, byLocal: LocalIndex, auditable: (s: bigint) => boolean, add: Add): void {
  const discarded = new Set<string>();
  for (const e of h.ends.values()) if (e.code === 'DISCARDED') discarded.add(e.attemptId);
  for (const op of h.ops) {
    const req = op.r.req;
    if (req.op !== 'readNext' && req.op !== 'readPrev' && req.op !== 'checkTail') continue;
    const rep = op.r.rep;
    if (rep.code !== 'READ_OK' && rep.code !== 'EMPTY') continue;
    const stream = audit.streams.get(op.r.book)?.get(req.tag) ?? EMPTY;
    const trim = audit.trimPoints.get(op.r.book) ?? 0n;
    const F = op.r.frontier;
    if (rep.code === 'READ_OK') {
      const r = rep.record.seqnum;
      const id = attemptOfRead(byLocal, audit, r, rep.record.localid);
      if (id !== null && discarded.has(id)) add('log-discarded-invisible', `${op.r.reqId} returned ${hex(r)}, written by attempt ${id} which was answered DISCARDED`, op.t);
      if (!auditable(r)) continue;
      readOk(op, req, rep, stream, trim, F, audit, h, add);
    } else {
      emptyOk(op, req, stream, trim, F, add);
    }
  }
}

function readOk(op: OpEv, req: LogRequest & { tag: bigint }, rep: Extract<LogReply, { code: 'READ_OK' }>, stream: readonly bigint[], trim: bigint, F: bigint, audit: Audit, h: LogHistory, add: Add): void {
  const r = rep.record.seqnum;
  const i = floorIdx(stream, r);
  if (i < 0 || stream[i] !== r) {
    add('log-read-validity', `${op.r.reqId} returned ${hex(r)}, which is not a visible record of book ${op.r.book}'s stream ${hex(req.tag)}`, op.t);
    return;
  }
  if (r >= F) add('log-read-validity', `${op.r.reqId} returned ${hex(r)}, at or past its index's frontier ${hex(F)}`, op.t);
  if (req.op === 'readNext') {
    if (r < req.minSeq) add('log-read-validity', `${op.r.reqId}: readNext from ${hex(req.minSeq)} returned the earlier ${hex(r)}`, op.t);
    const lo = req.minSeq > trim ? req.minSeq : trim;
    const j = ceilIdx(stream, lo);
    if (j < i) add('log-read-validity', `${op.r.reqId}: readNext from ${hex(req.minSeq)} returned ${hex(r)}, skipping ${hex(stream[j]!)}`, op.t);
  } else {
    const q = req.op === 'readPrev' ? req.maxSeq : MAX_SEQNUM;
    if (r > q) add('log-read-validity', `${op.r.reqId}: readPrev up to ${hex(q)} returned the later ${hex(r)}`, op.t);
    const hi = q < F - 1n ? q : F - 1n;
    const j = floorIdx(stream, hi);
    if (j > i) add('log-read-validity', `${op.r.reqId}: readPrev up to ${hex(q)} returned ${hex(r)}, missing ${hex(stream[j]!)}`, op.t);
  }
  const slot = audit.slots.get(r);
  if (!slot || slot.data === null) return;
  // The payload is the original's or the last overwrite's before the frontier. A trimmed
  // overwrite left only a tombstone on the storage nodes: its payload comes from the history's
  // attempt record, and where even that is missing the payload is unknown and not judged.
  let want: string | null = slot.data;
  const ows = audit.overwrites.get(r);
  if (ows) for (const o of ows) if (o.seq < F) want = o.data ?? (o.attemptId !== null ? (h.attempts.get(o.attemptId)?.data ?? null) : null);
  if (want !== null && rep.record.data !== want) add('log-read-validity', `${op.r.reqId} returned ${hex(r)} with payload '${rep.record.data.slice(0, 40)}', expected '${want.slice(0, 40)}' (original or last overwrite before ${hex(F)})`, op.t);
  if (localidEngine(rep.record.localid) !== slot.engine || localidCounter(rep.record.localid) !== slot.counter) add('log-read-validity', `${op.r.reqId} returned ${hex(r)} with the wrong localid`, op.t);
}

function emptyOk(op: OpEv, req: LogRequest & { tag: bigint }, stream: readonly bigint[], trim: bigint, F: bigint, add: Add): void {
  if (F === 0n) return;
  if (req.op === 'readNext') {
    const lo = req.minSeq > trim ? req.minSeq : trim;
    const j = ceilIdx(stream, lo);
    if (j < stream.length && stream[j]! < F) add('log-read-validity', `${op.r.reqId}: readNext from ${hex(req.minSeq)} answered EMPTY, but ${hex(stream[j]!)} was below its index's frontier ${hex(F)}`, op.t);
    return;
  }
  const q = req.op === 'readPrev' ? req.maxSeq : MAX_SEQNUM;
  const hi = q < F - 1n ? q : F - 1n;
  const j = floorIdx(stream, hi);
  if (j >= 0 && stream[j]! >= trim) add('log-read-validity', `${op.r.reqId}: ${req.op} up to ${hex(q)} answered EMPTY, but ${hex(stream[j]!)} was visible below its index's frontier ${hex(F)}`, op.t);
}
