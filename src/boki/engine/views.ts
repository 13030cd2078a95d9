/**
 * View changes (spec §6): the engine follows the view log through its ZooKeeper session. A new
 * view creates this engine's producers and indexes of it (after a restart, views it held before
 * are recovered or marked lost) and releases operations that waited for a view; a freeze closes
 * appends; a finalize completes producers, indexes and trims of the view.
 */
import { assertNever } from '../../core/assert.ts';
import type { Ctx } from '../../core/contract.ts';
import { bookRecord, armRepair } from '../common.ts';
import { newLogIndex } from '../log-index.ts';
import type { ViewInfo } from '../view.ts';
import { type ViewRecord, type ZkEvent, zkRetryOwn } from '../zk-client.ts';
import { attempt } from './appends.ts';
import { finalizeProducer, finalizeIndex } from './metalog.ts';
import { startRead } from './reads.ts';
import { startRecovery } from './recovery.ts';
import { requestCatchup } from './shared.ts';
import type { Producer, EngineState, Eff } from './state.ts';
import { startTrim, finalizeTrims } from './trim.ts';

export function onZk(s: EngineState, evs: ZkEvent[], ctx: Ctx, out: Eff[]): void {
  for (const ev of evs) {
    if (zkRetryOwn(s.zk, ev, ctx.nowUs, out)) continue;
    if (ev.k === 'view') onViewRecord(s, ev.seq, ev.rec, ctx, out);
  }
}

function onViewRecord(s: EngineState, seqNo: number, rec: ViewRecord, ctx: Ctx, out: Eff[]): void {
  if (!bookRecord(s.views, rec)) return;
  switch (rec.kind) {
    case 'new':
      return onNewView(s, seqNo, s.views.infos[rec.view.viewId]!, ctx, out);
    case 'freeze':
      return; // viewActive turns false: new appends are DISCARDED, in-flight ones wait
    case 'finalize':
      for (const fl of rec.logs) {
        const p = s.producers.get(fl.ls);
        if (p) finalizeProducer(s, p, fl, ctx, out);
        const ix = s.indexes.get(fl.ls);
        if (ix) finalizeIndex(s, ix, fl, ctx, out);
      }
      finalizeTrims(s, rec.viewId, rec.logs, ctx, out);
      return;
    default:
      assertNever(rec, 'view record');
  }
}

function onNewView(s: EngineState, seqNo: number, vi: ViewInfo, ctx: Ctx, out: Eff[]): void {
  // After a restart, views listed in the first pass over the view log are ones whose volatile
  // state (producer counters, indexes) this engine lost.
  const history = s.restarted && seqNo < s.zk.firstListingEnd;
  const pos = vi.enginePos.get(s.self);
  for (const info of vi.logs) {
    if (info.indexEngines.includes(s.self)) {
      if (history) s.lostIndexes.add(info.ls);
      else s.indexes.set(info.ls, newLogIndex(info));
    }
    if (pos === undefined) continue;
    const p: Producer = {
      ls: info.ls,
      viewId: info.viewId,
      info,
      pos,
      storages: vi.storagesOfEngine[pos]!,
      counter: 0,
      pending: new Map(),
      applied: 0,
      lastK: -1,
      scanned: 0,
      buffered: new Map(),
      recovering: null,
      recoverSentUs: -1,
      held: [],
      finalized: false,
      catchupSentUs: -1,
      stallMark: -1,
    };
    s.producers.set(info.ls, p);
    if (history && s.cfg.variant !== 'localid-reuse-after-restart') startRecovery(s, p, ctx, out);
    else if (history) {
      // The published engine restarts its counter at 0 and replays the metalog as if nothing
      // happened: covered localids complete whatever now sits under them.
      requestCatchup(s, p.ls, [p.info.primary], 0, ctx, out);
      armRepair(s, out);
    }
  }
  const held = s.heldOps;
  s.heldOps = [];
  for (const reqId of held) {
    const op = s.ops.get(reqId);
    if (!op) continue;
    if (op.k === 'read') startRead(s, op, ctx, out);
    else if (op.k === 'append') attempt(s, op, ctx, out);
    else startTrim(s, op, ctx, out);
  }
}
