/**
 * View changes for the storage (spec §6): a new view opens this storage's logs of it (rebuilding
 * them from disk after a restart) and admits records that raced ahead of it; a finalize finalizes
 * its logs. Storage accepts records until finalize (a freeze changes nothing here).
 */
import { assertNever } from '../../core/assert.ts';
import type { Ctx } from '../../core/contract.ts';
import { bookRecord, armRepair } from '../common.ts';
import type { NewLogsEntry, Replicate } from '../messages.ts';
import type { LogInfo, ViewInfo } from '../view.ts';
import { type ViewRecord, type ZkEvent, zkRetryOwn } from '../zk-client.ts';
import { applyEntry } from './apply.ts';
import { tryFinalize, requestCatchup } from './finalize.ts';
import { onReplicate, advanceRecv, armLocalCut } from './replication.ts';
import { type SrcShard, type StoLog, type StorageState, type Eff, type Recovered, srcOfEngine } from './state.ts';

export function onZk(s: StorageState, evs: ZkEvent[], ctx: Ctx, out: Eff[]): void {
  for (const ev of evs) {
    if (zkRetryOwn(s.zk, ev, ctx.nowUs, out)) continue;
    if (ev.k === 'view') onViewRecord(s, ev.rec, ctx, out);
  }
}

function onViewRecord(s: StorageState, rec: ViewRecord, ctx: Ctx, out: Eff[]): void {
  if (!bookRecord(s.views, rec)) return;
  switch (rec.kind) {
    case 'new': {
      const vi = s.views.infos[rec.view.viewId]!;
      for (const info of vi.logs) openLog(s, vi, info, ctx, out);
      // Records that raced ahead of the view.
      const early = s.early;
      s.early = [];
      for (const r of early) onReplicate(s, r, ctx, out);
      return;
    }
    case 'freeze':
      return; // storage accepts records until finalize (spec §6.1 step 2)
    case 'finalize':
      for (const fl of rec.logs) {
        const sl = s.logs.get(fl.ls);
        if (sl) tryFinalize(s, sl, fl, ctx, out);
      }
      return;
    default:
      assertNever(rec, 'view record');
  }
}

function openLog(s: StorageState, vi: ViewInfo, info: LogInfo, ctx: Ctx, out: Eff[]): void {
  const mine = vi.enginesOfStorage.get(s.self);
  if (!mine || mine.length === 0) return;
  const srcByPos: (SrcShard | null)[] = new Array<SrcShard | null>(vi.view.engines.length).fill(null);
  const sources: SrcShard[] = [];
  for (const pos of mine) {
    const src: SrcShard = { pos, engine: vi.engineNums[pos]!, storages: vi.storagesOfEngine[pos]!, pending: new Map(), recv: 0, synced: 0, applied: 0, lastK: -1, minIncarnation: 0 };
    sources.push(src);
    srcByPos[pos] = src;
  }
  const sl: StoLog = {
    ls: info.ls,
    viewId: info.viewId,
    info,
    sources,
    srcByPos,
    ordered: [],
    tombstones: new Map(),
    appliedEnd: 0,
    lastK: -1,
    scanned: 0,
    buffered: new Map(),
    parked: new Map(),
    parkedCount: 0,
    reported: new Array<number>(sources.length).fill(0),
    reportedUs: 0,
    stallMark: -1,
    finalized: false,
    catchupSentUs: -1,
    aux: new Map(),
  };
  s.logs.set(info.ls, sl);
  const rec = s.recovered.get(info.ls);
  if (rec) {
    s.recovered.delete(info.ls);
    restoreLog(s, sl, rec, ctx, out);
  }
}

/** Rebuilds a log from disk after a restart: pending records, then the applied entries replayed. */
function restoreLog(s: StorageState, sl: StoLog, rec: Recovered, ctx: Ctx, out: Eff[]): void {
  for (const t of rec.tombs) sl.tombstones.set(t.pos, t);
  const byKey = new Map<string, Replicate>();
  for (const r of rec.records) byKey.set(`${r.engine}/${r.counter}`, r);
  for (const e of rec.entries) {
    if (e.kind !== 'newLogs') continue;
    // Ordered records come back as pending first; replaying the entry orders them again.
    forEachCovered(sl, e, (src, counter) => {
      const r = byKey.get(`${src.engine}/${counter}`);
      if (r) src.pending.set(counter, r);
    });
  }
  if (s.cfg.variant !== 'storage-restart-abort') {
    // The prototype persists only ordered records; canonically unordered ones survive too.
    for (const r of rec.records) {
      const src = srcOfEngine(sl, r.engine);
      if (src && !src.pending.has(r.counter)) src.pending.set(r.counter, r);
    }
  }
  for (const e of rec.entries) applyEntry(s, sl, e, false, ctx, out);
  for (const src of sl.sources) {
    advanceRecv(src);
    src.synced = src.recv; // what survived the crash is on the platter
  }
  if (sl.viewId === s.views.current) {
    armLocalCut(s, ctx, out);
    // Entries committed while this node was down never reached it: ask for them (spec §9.3).
    requestCatchup(s, sl, ctx, out);
  }
  armRepair(s, out);
}

function forEachCovered(sl: StoLog, e: NewLogsEntry, f: (src: SrcShard, counter: number) => void): void {
  for (const src of sl.sources) {
    const d = e.deltas[src.pos]!;
    for (let c = e.starts[src.pos]!; c < e.starts[src.pos]! + d; c++) f(src, c);
  }
}
