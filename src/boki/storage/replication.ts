/**
 * Receiving records and the local cut (spec §4.2 steps 3-4): a replicated record is kept pending
 * (written to disk on receipt unless the lazy policy is on), records for a view not learned yet are
 * held, and the local-cut timer syncs the disk once and then reports every changed log's synced
 * prefix to the primary (project rule `sync-before-progress`).
 */
import { type Ctx, persist, send } from '../../core/contract.ts';
import { armGrid, armRepair } from '../common.ts';
import type { Replicate } from '../messages.ts';
import { type SrcShard, type StoLog, type StorageState, type Eff, lazy, recKey, srcOfEngine } from './state.ts';

const EARLY_MAX = 10_000;

export function onReplicate(s: StorageState, m: Replicate, ctx: Ctx, out: Eff[]): void {
  const sl = s.logs.get(m.ls);
  if (!sl) {
    // A record for a view this node has not learned yet is held; one for a past view dropped.
    const viewId = Math.floor(m.ls / 0x1_0000);
    if (viewId > s.views.current && s.early.length < EARLY_MAX) s.early.push(m);
    return;
  }
  if (sl.finalized) return;
  const src = srcOfEngine(sl, m.engine);
  if (!src) return;
  if (m.incarnation < src.minIncarnation) return; // a message of an engine incarnation that restarted
  if (m.incarnation > src.minIncarnation) src.minIncarnation = m.incarnation;
  if (m.counter < src.applied) return; // already ordered
  const had = src.pending.get(m.counter);
  if (had !== undefined) {
    // A filler replaces whatever is pending under its localid (spec §9.3; canonically a restarted
    // engine sends fillers only for counters no replica holds, see engine/recovery.ts
    // repairShard); the published storage replaces any entry, which is how a reused localid
    // overwrites a record.
    const replace = m.kind === 'filler' || s.cfg.variant === 'localid-reuse-after-restart';
    if (!replace || had.attemptId === m.attemptId) return;
  }
  src.pending.set(m.counter, m);
  if (!lazy(s)) {
    out.push(persist(recKey(m.ls, m.engine, m.counter), m, false));
    s.unsynced++;
  }
  const before = src.recv;
  advanceRecv(src);
  if (lazy(s)) src.synced = src.recv;
  if (src.recv !== before || had !== undefined) armLocalCut(s, ctx, out);
}

export function advanceRecv(src: SrcShard): void {
  if (src.recv < src.applied) src.recv = src.applied;
  while (src.pending.has(src.recv)) src.recv++;
}

export function armLocalCut(s: StorageState, ctx: Ctx, out: Eff[]): void {
  if (s.lcArmed) return;
  s.lcArmed = true;
  armGrid(out, 'lc', ctx.nowUs, s.cfg.p.localCutIntervalUs);
}

/** The local cut (spec §4.2 step 4): sync once, then report every changed log's progress. */
export function localCut(s: StorageState, ctx: Ctx, out: Eff[]): void {
  s.lcArmed = false;
  if (s.unsynced > 0) {
    out.push(persist('sync', ctx.nowUs, true));
    s.unsynced = 0;
  }
  for (const sl of s.logs.values()) {
    if (sl.finalized) continue;
    let changed = false;
    for (let i = 0; i < sl.sources.length; i++) {
      const src = sl.sources[i]!;
      src.synced = src.recv;
      if (src.synced !== sl.reported[i]) changed = true;
    }
    if (changed) report(sl, ctx, out);
  }
  armRepair(s, out);
}

export function report(sl: StoLog, ctx: Ctx, out: Eff[]): void {
  const progress = new Array<number>(sl.sources.length);
  for (let i = 0; i < sl.sources.length; i++) progress[i] = sl.sources[i]!.synced;
  sl.reported = progress;
  sl.reportedUs = ctx.nowUs;
  out.push(send(sl.info.primary, { type: 'shardProg', ls: sl.ls, progress }));
}
