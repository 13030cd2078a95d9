/**
 * Finalize, catch-up and repair (spec §6.1 step 4): a finalized view's tail is applied and the log
 * finalizes once every shard here reached its final count, catching up from the group otherwise;
 * the repair timer re-reports progress and catches up logs that stall (channels break silently).
 */
import { type Ctx, fatal, persist, send } from '../../core/contract.ts';
import { finalLogOf, armRepair } from '../common.ts';
import type { CatchupResp, FinalLog } from '../messages.ts';
import { offerEntry } from './apply.ts';
import { answerRead } from './reads.ts';
import { report } from './replication.ts';
import { type StoLog, type StorageState, type Eff, lazy, recKey } from './state.ts';

/** The final applied counter per engine position, from the last NEW_LOGS entry of the tail. */
export function finalCounts(fl: FinalLog): readonly number[] | null {
  for (let i = fl.tail.length - 1; i >= 0; i--) {
    const e = fl.tail[i]!;
    if (e.kind === 'newLogs') return e.starts.map((st, j) => st + e.deltas[j]!);
  }
  return fl.finalPos === 0 ? [] : null;
}

export function tryFinalize(s: StorageState, sl: StoLog, fl: FinalLog, ctx: Ctx, out: Eff[]): void {
  if (sl.finalized) return;
  for (const e of fl.tail) offerEntry(s, sl, e, ctx, out);
  if (tryFinalizeNoRequest(s, sl, fl, out)) return;
  if (s.cfg.variant === 'finalize-no-catchup' && fl.tail.length >= s.cfg.p.sealTailEntries) {
    out.push(fatal(`${s.self}: logspace ${sl.ls} is more than ${s.cfg.p.sealTailEntries} entries behind at finalize`));
    return;
  }
  requestCatchup(s, sl, ctx, out);
  armRepair(s, out);
}

/** Finalizes if every shard here reached its final count; true when finalized. */
function tryFinalizeNoRequest(s: StorageState, sl: StoLog, fl: FinalLog, out: Eff[]): boolean {
  if (sl.finalized) return true;
  const counts = finalCounts(fl);
  const caughtUp = counts !== null && sl.sources.every((src) => (counts[src.pos] ?? 0) === src.applied);
  if (!caughtUp) return false;
  finishFinalize(s, sl, out);
  return true;
}

function finishFinalize(s: StorageState, sl: StoLog, out: Eff[]): void {
  sl.finalized = true;
  sl.buffered.clear();
  for (const src of sl.sources) {
    for (const r of src.pending.values()) if (!lazy(s)) out.push(persist(recKey(sl.ls, r.engine, r.counter), undefined, false));
    src.pending.clear();
  }
  for (const list of sl.parked.values()) for (const p of list) answerRead(sl, p.from, p.m, out);
  sl.parked.clear();
  sl.parkedCount = 0;
}

/**
 * Where a catch-up must start: entries reach a lite consumer only for its shards, so the entry it
 * misses lies after the last entry applied for some shard that is behind. Below the scan cursor
 * every entry was already seen.
 */
function catchupFrom(sl: StoLog): number {
  let from = Infinity;
  const early = new Set<number>();
  for (const b of sl.buffered.values()) {
    if (b.kind !== 'newLogs') continue;
    for (const src of sl.sources) if (b.deltas[src.pos]! > 0 && b.starts[src.pos]! > src.applied) early.add(src.pos);
  }
  for (const src of sl.sources) {
    if (src.synced > src.applied || early.has(src.pos)) from = Math.min(from, src.lastK + 1);
  }
  if (from === Infinity) for (const src of sl.sources) from = Math.min(from, src.lastK + 1);
  return Math.max(from, sl.scanned);
}

export function requestCatchup(s: StorageState, sl: StoLog, ctx: Ctx, out: Eff[]): void {
  sl.catchupSentUs = ctx.nowUs;
  const from = catchupFrom(sl);
  // While the view is live only the primary knows what is committed; after finalize any replica.
  const fl = finalLogOf(s.views, sl.ls, sl.viewId);
  const to = fl ? sl.info.group : [sl.info.primary];
  for (const n of to) out.push(send(n, { type: 'catchupReq', ls: sl.ls, from }));
}

export function onCatchupResp(s: StorageState, from: string, m: CatchupResp, ctx: Ctx, out: Eff[]): void {
  const sl = s.logs.get(m.ls);
  if (!sl || sl.finalized) return;
  for (const e of m.entries) offerEntry(s, sl, e, ctx, out);
  // Every scanned entry is now applied, buffered, or irrelevant here: never scan it again.
  const end = m.from + m.entries.length;
  if (m.from <= sl.scanned && end > sl.scanned) sl.scanned = end;
  const fl = finalLogOf(s.views, sl.ls, sl.viewId);
  if (fl) {
    if (finalCounts(fl) === null && sl.scanned >= fl.finalPos) {
      // A tail of trims only: the scan covered every entry, so whatever applies here has.
      return finishFinalize(s, sl, out);
    }
    tryFinalizeNoRequest(s, sl, fl, out);
    if (!sl.finalized && end < m.upTo && m.entries.length > 0) out.push(send(from, { type: 'catchupReq', ls: sl.ls, from: end }));
  } else if (end < m.upTo && m.entries.length > 0 && needsCatchup(sl)) {
    out.push(send(from, { type: 'catchupReq', ls: sl.ls, from: end }));
  }
}

function needsCatchup(sl: StoLog): boolean {
  if (sl.buffered.size > 0 || sl.parkedCount > 0) return true;
  for (const src of sl.sources) if (src.synced > src.applied) return true;
  return false;
}

/**
 * Repair: channels break silently, so what may be missing is asked for again. A log with records
 * that stay unordered re-reports its progress (a lost ShardProg) and asks the primary for the
 * committed entries it may have missed (a lost MetaLogs); a log not yet finalized at finalize
 * keeps catching up from the group.
 */
export function repair(s: StorageState, ctx: Ctx, out: Eff[]): void {
  s.repairArmed = false;
  const waitUs = s.cfg.p.repairIntervalMs * 1000;
  let again = false;
  for (const sl of s.logs.values()) {
    if (sl.finalized) continue;
    const fl = finalLogOf(s.views, sl.ls, sl.viewId);
    if (fl) {
      again = true;
      if (ctx.nowUs - sl.catchupSentUs >= waitUs) tryFinalize(s, sl, fl, ctx, out);
      continue;
    }
    if (!needsCatchup(sl)) {
      sl.stallMark = -1;
      continue;
    }
    again = true;
    // Act only when nothing was ordered over a whole repair interval: a stall, not a busy log.
    let mark = 0;
    for (const src of sl.sources) mark += src.applied;
    if (mark === sl.stallMark) {
      report(sl, ctx, out);
      requestCatchup(s, sl, ctx, out);
    }
    sl.stallMark = mark;
  }
  if (again) armRepair(s, out);
}
