/**
 * The producer side of appends (spec §4.2): one attempt per localid into the book's current log,
 * replication to the shard's storages, the client retry schedule of §3.3 for discarded attempts,
 * and the lite metalog consumer that turns committed entries into seqnums for this engine's
 * pending localids. Conditional appends and overwrites then go on to decisions.ts.
 */
import { assert } from '../../core/assert.ts';
import { type Ctx, fatal, record, send, setTimer } from '../../core/contract.ts';
import type { LogRequest } from '../api.ts';
import { armRepair } from '../common.ts';
import type { AttemptEndRec, AttemptRec } from '../history.ts';
import { progress, seqOf } from '../ids.ts';
import type { Kind, MetaEntry, NewLogsEntry, Replicate } from '../messages.ts';
import { logOfBook, type ViewInfo } from '../view.ts';
import { requestDecision } from './decisions.ts';
import { curView, finishOp, bumpProgress, cachePut } from './shared.ts';
import type { Invocation, Producer, AppendOp, EngineState, Eff } from './state.ts';

function appendsOpen(s: EngineState): ViewInfo | null {
  const vi = curView(s);
  if (!vi || s.views.frozen >= vi.view.viewId || !vi.enginePos.has(s.self)) return null;
  return vi;
}

export function startAppend(s: EngineState, reqId: string, req: LogRequest, inv: Invocation, recKind: Kind, tags: readonly bigint[], data: string, condTag: bigint, condPos: number, ctx: Ctx, out: Eff[]): void {
  const op: AppendOp = {
    k: 'append',
    reqId,
    req,
    inv: (req as { inv: string }).inv,
    book: inv.book,
    recKind,
    tags,
    data,
    condTag,
    condPos,
    pin: inv.progress,
    t0: ctx.nowUs,
    tries: 0,
    phase: 'backoff',
    attemptId: '',
    ls: -1,
    pos: -1,
    orderK: -1,
    decQid: -1,
    decTries: 0,
  };
  s.ops.set(reqId, op);
  attempt(s, op, ctx, out);
}

/** One append attempt: a fresh localid in the book's current log (spec §4.2 step 2). */
export function attempt(s: EngineState, op: AppendOp, ctx: Ctx, out: Eff[]): void {
  if (s.views.current < 0) {
    op.phase = 'held';
    s.heldOps.push(op.reqId);
    return;
  }
  const vi = appendsOpen(s);
  if (!vi) return discarded(s, op, ctx, out);
  const log = logOfBook(vi, op.book);
  const p = s.producers.get(log.ls)!;
  assert(p !== undefined, 'an engine in the view produces into every log of it');
  if (p.recovering !== null) {
    op.phase = 'held';
    p.held.push(op.reqId);
    return;
  }
  const counter = p.counter++;
  const attemptId = `${s.self}:${s.incarnation}:${++s.attempts}`;
  const rec: Replicate = {
    type: 'replicate',
    ls: p.ls,
    engine: s.num,
    counter,
    incarnation: s.incarnation,
    book: op.book,
    tags: op.tags,
    data: op.data,
    kind: op.recKind,
    condTag: op.condTag,
    condPos: op.condPos,
    attemptId,
  };
  op.phase = 'replicating';
  op.attemptId = attemptId;
  op.ls = p.ls;
  assert(!p.pending.has(counter), 'a localid is used once per view');
  p.pending.set(counter, { reqId: op.reqId, rec, sentUs: ctx.nowUs, resendUs: s.cfg.p.repairIntervalMs * 1000 });
  for (const st of p.storages) out.push(send(st, rec));
  out.push(record<AttemptRec>({ ev: 'attempt', attemptId, reqId: op.reqId, inv: op.inv, book: op.book, ls: p.ls, engine: s.num, counter, kind: op.recKind, data: op.data }));
  armRepair(s, out);
}

/** The attempt was discarded; retry on the §3.3 schedule, then give up with DISCARDED. */
export function discarded(s: EngineState, op: AppendOp, ctx: Ctx, out: Eff[]): void {
  if (op.attemptId !== '') {
    out.push(record<AttemptEndRec>({ ev: 'attemptEnd', attemptId: op.attemptId, code: 'DISCARDED', ls: op.ls, pos: -1 }));
  }
  const last = op.attemptId === '' ? null : op.attemptId;
  op.attemptId = '';
  if (op.tries >= s.cfg.p.appendRetries) return finishOp(s, op, { code: 'DISCARDED' }, 0n, last, ctx, out);
  const delayMs = s.cfg.p.appendRetryBaseMs * 2 ** op.tries;
  op.tries++;
  op.phase = 'backoff';
  out.push(setTimer(`op:${op.reqId}`, Math.max(1, delayMs * 1000)));
}

/** Lite consumer (spec §4.2 step 10): apply an entry once its shard start equals `applied`. */
export function producerOffer(s: EngineState, p: Producer, e: MetaEntry, ctx: Ctx, out: Eff[]): void {
  if (e.kind !== 'newLogs') return;
  const d = e.deltas[p.pos]!;
  if (d === 0) return;
  const st = e.starts[p.pos]!;
  if (st < p.applied) return;
  if (st > p.applied) {
    if (p.buffered.size < 10_000) p.buffered.set(e.k, e);
    armRepair(s, out);
    return;
  }
  producerApply(s, p, e, ctx, out);
  while (p.buffered.size > 0) {
    let next: NewLogsEntry | null = null;
    for (const b of p.buffered.values()) {
      if (b.starts[p.pos] === p.applied) {
        next = b;
        break;
      }
    }
    if (!next) break;
    p.buffered.delete(next.k);
    producerApply(s, p, next, ctx, out);
  }
  for (const [k, b] of p.buffered) if (b.starts[p.pos]! < p.applied) p.buffered.delete(k);
}

function producerApply(s: EngineState, p: Producer, e: NewLogsEntry, ctx: Ctx, out: Eff[]): void {
  let base = e.startPos;
  const order = s.cfg.variant === 'bug-seqnum-shard-order';
  // Records are grouped by shard in view engine order (the bug variant uses the reverse order).
  if (order) for (let i = e.deltas.length - 1; i > p.pos; i--) base += e.deltas[i]!;
  else for (let i = 0; i < p.pos; i++) base += e.deltas[i]!;
  const d = e.deltas[p.pos]!;
  for (let c = p.applied; c < p.applied + d; c++) {
    const pa = p.pending.get(c);
    if (!pa) {
      // After a restart, localids of the previous incarnation are ordered with nobody waiting.
      if (s.cfg.variant === 'localid-reuse-after-restart') out.push(fatal(`${s.self}: metalog entry ${e.k} covers localid ${s.num}:${c} with no pending append`));
      continue;
    }
    p.pending.delete(c);
    const op = s.ops.get(pa.reqId);
    if (!op || op.k !== 'append' || op.attemptId !== pa.rec.attemptId) continue;
    ordered(s, op, pa.rec, p.ls, base + (c - p.applied), e.k, ctx, out);
  }
  p.applied += d;
  p.lastK = e.k;
}

function ordered(s: EngineState, op: AppendOp, rec: Replicate, ls: number, pos: number, k: number, ctx: Ctx, out: Eff[]): void {
  const seq = seqOf(ls, pos);
  cachePut(s, seq, rec);
  op.ls = ls;
  op.pos = pos;
  op.orderK = k;
  if (op.recKind === 'normal') {
    if (s.cfg.variant !== 'bug-no-progress') bumpProgress(s, op.inv, progress(ls, k + 1));
    out.push(record<AttemptEndRec>({ ev: 'attemptEnd', attemptId: op.attemptId, code: 'APPEND_OK', ls, pos }));
    return finishOp(s, op, { code: 'APPEND_OK', seqnum: seq }, 0n, op.attemptId, ctx, out);
  }
  op.phase = 'deciding';
  requestDecision(s, op, ctx, out);
}
