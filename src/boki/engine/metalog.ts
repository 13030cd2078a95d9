/**
 * Metalog consumption and finalize (spec §4.2 step 10, §6.1 step 4): committed metalog entries,
 * pushed or caught up, feed this engine's producers (lite consumer) and indexes; a finalized view's
 * final tail completes them, after which pending appends of the view are discarded.
 */
import { assert } from '../../core/assert.ts';
import { type Ctx, fatal, send } from '../../core/contract.ts';
import { finalLogOf, armRepair } from '../common.ts';
import { type LogIndex, offerIndexEntry } from '../log-index.ts';
import type { CatchupResp, FinalLog, MetaEntry } from '../messages.ts';
import { finalCounts } from '../storage/finalize.ts';
import { attempt, discarded, producerOffer } from './appends.ts';
import { indexAdvance } from './indexing.ts';
import { requestCatchup } from './shared.ts';
import type { Producer, EngineState, Eff } from './state.ts';

export function finalizeProducer(s: EngineState, p: Producer, fl: FinalLog, ctx: Ctx, out: Eff[]): void {
  if (p.finalized) return;
  if (s.cfg.variant === 'bug-discard-covered') {
    // The bug: appends the final tail covers are discarded before the tail is applied.
    for (const e of fl.tail) {
      if (e.kind !== 'newLogs' || e.deltas[p.pos] === 0) continue;
      for (let c = e.starts[p.pos]!; c < e.starts[p.pos]! + e.deltas[p.pos]!; c++) {
        const pa = p.pending.get(c);
        if (!pa) continue;
        p.pending.delete(c);
        const op = s.ops.get(pa.reqId);
        if (op && op.k === 'append' && op.attemptId === pa.rec.attemptId) discarded(s, op, ctx, out);
      }
    }
  }
  for (const e of fl.tail) producerOffer(s, p, e, ctx, out);
  const counts = finalCounts(fl);
  const caught = counts !== null && p.applied === (counts[p.pos] ?? 0);
  if (!caught) {
    if (s.cfg.variant === 'finalize-no-catchup' && fl.tail.length >= s.cfg.p.sealTailEntries) {
      out.push(fatal(`${s.self}: producer of logspace ${p.ls} is more than ${s.cfg.p.sealTailEntries} entries behind at finalize`));
      return;
    }
    requestCatchup(s, p.ls, p.info.group, Math.max(p.lastK + 1, p.scanned), ctx, out);
    armRepair(s, out);
    return;
  }
  p.finalized = true;
  p.recovering = null;
  p.buffered.clear();
  const pend = [...p.pending.values()];
  p.pending.clear();
  for (const pa of pend) {
    const op = s.ops.get(pa.reqId);
    if (!op || op.k !== 'append' || op.attemptId !== pa.rec.attemptId) continue;
    // The bug: the attempt is forgotten and its caller never answered.
    if (s.cfg.variant === 'bug-lost-discard') continue;
    discarded(s, op, ctx, out);
  }
  const held = p.held;
  p.held = [];
  for (const reqId of held) {
    const op = s.ops.get(reqId);
    if (op && op.k === 'append') attempt(s, op, ctx, out);
  }
}

export function finalizeIndex(s: EngineState, ix: LogIndex, fl: FinalLog, ctx: Ctx, out: Eff[]): void {
  if (ix.finalized) return;
  for (const e of fl.tail) if (e.k >= ix.entries.length) offerIndexEntry(ix, e);
  assert(ix.entries.length <= fl.finalPos, 'an index holds committed entries only, never past the final position');
  if (ix.entries.length < fl.finalPos) {
    if (s.cfg.variant === 'finalize-no-catchup' && fl.tail.length >= s.cfg.p.sealTailEntries) {
      out.push(fatal(`${s.self}: index of logspace ${ix.ls} is more than ${s.cfg.p.sealTailEntries} entries behind at finalize`));
      return;
    }
    requestCatchup(s, ix.ls, ix.info.group, ix.entries.length, ctx, out);
    armRepair(s, out);
    indexAdvance(s, ix, ctx, out);
    return;
  }
  ix.finalized = true;
  ix.finalPos = fl.finalPos;
  indexAdvance(s, ix, ctx, out);
  armRepair(s, out);
}

export function onMetaEntries(s: EngineState, ls: number, entries: readonly MetaEntry[], ctx: Ctx, out: Eff[]): void {
  const p = s.producers.get(ls);
  if (p && !p.finalized) for (const e of entries) producerOffer(s, p, e, ctx, out);
  const ix = s.indexes.get(ls);
  if (ix) {
    let gap = false;
    for (const e of entries) if (offerIndexEntry(ix, e) === 'gap') gap = true;
    if (gap) armRepair(s, out);
    indexAdvance(s, ix, ctx, out);
  }
}

export function onCatchupResp(s: EngineState, from: string, m: CatchupResp, ctx: Ctx, out: Eff[]): void {
  onMetaEntries(s, m.ls, m.entries, ctx, out);
  const end = m.from + m.entries.length;
  const more = end < m.upTo && m.entries.length > 0;
  const p = s.producers.get(m.ls);
  if (p && !p.finalized) {
    if (m.from <= p.scanned && end > p.scanned) p.scanned = end;
    const fl = finalLogOf(s.views, p.ls, p.viewId);
    if (fl) finalizeProducer(s, p, fl, ctx, out);
    if (more && !p.finalized && (fl || p.buffered.size > 0 || p.applied < p.counter || m.from === 0)) out.push(send(from, { type: 'catchupReq', ls: m.ls, from: end }));
  }
  const ix = s.indexes.get(m.ls);
  if (ix && !ix.finalized) {
    const fl = finalLogOf(s.views, ix.ls, ix.viewId);
    if (fl) finalizeIndex(s, ix, fl, ctx, out);
    else if (more && ix.entries.length >= m.from) out.push(send(from, { type: 'catchupReq', ls: m.ls, from: ix.entries.length }));
  }
}
