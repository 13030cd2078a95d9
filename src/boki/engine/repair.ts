/**
 * Repair (the 'repair' timer): resend what may have been lost on a broken channel. Pending
 * replicates are resent with backoff, stalled producers and indexes catch up from the metalog,
 * missing index rows are re-requested, and unanswered cross-view lookups are asked again.
 */
import { type Ctx, send } from '../../core/contract.ts';
import { finalLogOf, armRepair } from '../common.ts';
import { indexedEnd, type LogIndex } from '../log-index.ts';
import { askRemote } from './indexing.ts';
import { finalizeProducer, finalizeIndex } from './metalog.ts';
import { sendRecover } from './recovery.ts';
import { requestCatchup } from './shared.ts';
import type { EngineState, Eff } from './state.ts';

export function repair(s: EngineState, ctx: Ctx, out: Eff[]): void {
  s.repairArmed = false;
  const waitUs = s.cfg.p.repairIntervalMs * 1000;
  let again = false;
  for (const p of s.producers.values()) {
    if (p.finalized) continue;
    const fl = finalLogOf(s.views, p.ls, p.viewId);
    if (fl) {
      again = true;
      if (ctx.nowUs - p.catchupSentUs >= waitUs) finalizeProducer(s, p, fl, ctx, out);
      continue;
    }
    if (p.recovering !== null) {
      again = true;
      if (ctx.nowUs - p.recoverSentUs >= waitUs) sendRecover(s, p, ctx, out);
      continue;
    }
    if (p.pending.size === 0 && p.buffered.size === 0) {
      p.stallMark = -1;
      continue;
    }
    again = true;
    for (const pa of p.pending.values()) {
      if (ctx.nowUs - pa.sentUs < pa.resendUs) continue;
      // Storages drop duplicates; a lost Replicate would otherwise block this shard forever.
      for (const st of p.storages) out.push(send(st, pa.rec));
      pa.sentUs = ctx.nowUs;
      pa.resendUs = Math.min(pa.resendUs * 2, 32 * waitUs);
    }
    if (p.applied === p.stallMark || p.buffered.size > 0) requestCatchup(s, p.ls, [p.info.primary], Math.max(p.lastK + 1, p.scanned), ctx, out);
    p.stallMark = p.applied;
  }
  for (const ix of s.indexes.values()) {
    if (indexRepair(s, ix, waitUs, ctx, out)) again = true;
  }
  for (const L of s.lookups.values()) {
    if (L.done || L.sid < 0) continue;
    again = true;
    if (ctx.nowUs - L.sentUs >= s.cfg.p.readTimeoutMs * 1000) askRemote(s, L, ctx, out);
  }
  if (again) armRepair(s, out);
}

/** Index repair: catch up missed entries, re-request missing rows. True while work remains. */
function indexRepair(s: EngineState, ix: LogIndex, waitUs: number, ctx: Ctx, out: Eff[]): boolean {
  const fl = finalLogOf(s.views, ix.ls, ix.viewId);
  if (!ix.finalized && fl) {
    if (ctx.nowUs - ix.catchupSentUs >= waitUs) finalizeIndex(s, ix, fl, ctx, out);
    return true;
  }
  const behindRows = ix.cutHead < ix.cuts.length;
  const waiting = ix.parked.length > 0 || ix.buffer.size > 0 || behindRows;
  if (!waiting) {
    ix.stallMark = -1;
    ix.rowsMark = -1;
    return false;
  }
  const mark = indexedEnd(ix) + ix.entries.length;
  const stalled = mark === ix.stallMark && ix.blockedOn === null;
  // Rows from one replica per index (params.publishedIndexFeed false): a lost IndexData or a down
  // replica leaves cuts waiting for rows while entries keep arriving, so a whole interval without
  // indexing progress while cuts wait for rows is a stall of its own.
  const rowsStalled = behindRows && !s.cfg.p.publishedIndexFeed && ix.blockedOn === null && indexedEnd(ix) === ix.rowsMark;
  ix.rowsMark = behindRows ? indexedEnd(ix) : -1;
  if (rowsStalled && !stalled) {
    const c = ix.cuts[ix.cutHead]!;
    const vi = s.views.infos[ix.viewId]!;
    for (const st of vi.view.storages) out.push(send(st, { type: 'indexDataReq', ls: ix.ls, from: indexedEnd(ix), to: Math.max(indexedEnd(ix) + 4096, c.startPos) }));
  }
  if (stalled) {
    if (behindRows) {
      // Rows the storages shipped may have been lost: ask every storage of the view again.
      const c = ix.cuts[ix.cutHead]!;
      const to = indexedEnd(ix) + 4096;
      const vi = s.views.infos[ix.viewId]!;
      for (const st of vi.view.storages) out.push(send(st, { type: 'indexDataReq', ls: ix.ls, from: indexedEnd(ix), to: Math.max(to, c.startPos) }));
    }
    // Entries may have been lost too: catch up from the primary (any replica once finalized).
    requestCatchup(s, ix.ls, ix.finalized ? ix.info.group : [ix.info.primary], ix.entries.length, ctx, out);
  }
  ix.stallMark = mark;
  return true;
}
