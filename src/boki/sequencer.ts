/**
 * The sequencer (spec §4.2 steps 5-8, §6.1): primary of the physical log it leads, backup of the
 * logs of its metalog-group neighbours.
 *
 * Primary. Storage nodes report contiguous progress per shard; a shard whose minimum progress over
 * its R replicas passed its last cut is dirty. The cut timer (on demand, aligned to the global cut
 * interval) writes one NEW_LOGS entry ordering every dirty shard's new prefix, applies it, and
 * replicates it to the backups. Stop-and-wait: no new cut while an entry is uncommitted. An entry
 * commits once a majority (the primary plus the median backup ack) holds it, and only then leaves
 * the group: to the engines it orders records for, their storages, and every index engine.
 *
 * Backup. Applies replicated entries strictly in metalog order (buffering gaps) and acknowledges
 * its position.
 *
 * Sealing. On the freeze record a sequencer freezes its logs of that view and reports their
 * tails; on the finalize record it adopts the final tail (truncating an uncommitted entry the seal
 * left out, catching up from the group if it fell behind).
 *
 * The metalog lives only in memory (spec §1.1): a restarted sequencer has lost every log it held.
 * It does persist (synced) one marker per view it joins, before it can acknowledge anything in
 * it (project decision): after a restart, a view it had joined is lost for good, but a view it
 * never joined (the controller built it from a registration that outlived the crash) it may
 * still join fresh, or, if that view is already frozen, report honestly that it holds nothing.
 * Either keeps the group's seal quorum reachable; neither can hide a committed entry, because a
 * member that never acknowledged is in no majority that committed one.
 */
import { assert, assertNever } from '../core/assert.ts';
import type { Ctx, DiskImage, Effect, Machine } from '../core/contract.ts';
import { fatal, persist, send } from '../core/contract.ts';
import { ZK_FREEZE } from './coord-api.ts';
import type { ZkResponse } from './coord-api.ts';
import { armGrid, bookRecord, type BokiConfig, CATCHUP_BATCH_MAX, entryEnd, finalLogOf, newViewBook, tailEntry, type ViewBook, armRepair } from './common.ts';
import { progress, seqOf } from './ids.ts';
import type { BokiMessage, CatchupReq, FinalLog, MetaEntry, MetaLogs, NodeMessage, ShardProg, TrimReq } from './messages.ts';
import { type LogInfo, type ViewInfo } from './view.ts';
import { newZkClient, type ViewRecord, zkCreate, type ZkClient, type ZkEvent, zkOnMessage, zkOnTimer, zkRetryOwn, zkStart, ZK_HEARTBEAT_TIMER } from './zk-client.ts';

export interface SeqLog {
  readonly ls: number;
  readonly viewId: number;
  readonly primary: boolean;
  readonly info: LogInfo;
  /** The metalog as applied here, entry k at index k. */
  entries: MetaEntry[];
  frozen: boolean;
  finalized: boolean;
  /** At finalize: the published final position (-1 before). */
  finalPos: number;
  // Primary only.
  /** progress[enginePos][j]: progress of engine's shard on its j-th storage. */
  progress: number[][];
  lastCut: number[];
  dirty: boolean[];
  dirtyCount: number;
  /** Next log position to assign. */
  seqEnd: number;
  /** Per backup (in info.backups order): entries it holds. */
  acked: number[];
  ackedAtUs: number[];
  replicated: number;
  cutArmed: boolean;
  pendingTrims: { readonly req: TrimReq; readonly from: string }[];
  /** storage id -> flattened (enginePos, j) pairs it reports on. */
  slots: Map<string, number[]>;
  // Backup only: replicated entries waiting for a gap to fill.
  buffer: Map<number, MetaEntry>;
  /** Catching up at finalize: when the last catchup request left. */
  catchupSentUs: number;
}

export interface SequencerState {
  readonly cfg: BokiConfig;
  readonly self: string;
  readonly zk: ZkClient;
  views: ViewBook;
  logs: Map<number, SeqLog>;
  /** Booted after a crash (recover): views it had joined before are `lostViews`. */
  restarted: boolean;
  /** Views this node joined in an earlier incarnation (from its disk): their state is lost. */
  lostViews: Set<number>;
  repairArmed: boolean;
  /** For invariants: bumped at every boot, so per-node checks can reset. */
  readonly boot: number;
}

type Eff = Effect<NodeMessage>;

function newState(cfg: BokiConfig, self: string, boot: number, restarted: boolean, lostViews: Set<number>): SequencerState {
  return {
    lostViews,
    cfg,
    self,
    zk: newZkClient(self, 'sequencer', cfg.p.heartbeatIntervalMs, cfg.p.failureTimeoutMs, boot),
    views: newViewBook(),
    logs: new Map(),
    restarted,
    repairArmed: false,
    boot,
  };
}

export const sequencerMachine: Machine<BokiConfig, SequencerState, NodeMessage> = {
  role: 'sequencer',
  init: (cfg, self) => newState(cfg, self, 0, false, new Set()),
  recover(cfg, self, disk: DiskImage) {
    const lost = new Set<number>();
    for (const key of disk.keys()) if (key.startsWith('joined/')) lost.add(Number(key.slice(7)));
    return newState(cfg, self, 1, true, lost);
  },
  step(s, input, ctx) {
    const out: Eff[] = [];
    switch (input.type) {
      case 'start':
      case 'restart':
        s.zk.boot = ctx.randomU32('boot');
        zkStart(s.zk, ctx.nowUs, out);
        break;
      case 'timer':
        onTimer(s, input.timer, ctx, out);
        break;
      case 'message': {
        const m = input.msg;
        if (m.type.startsWith('zk.')) onZk(s, zkOnMessage(s.zk, m as ZkResponse, ctx.nowUs, out), ctx, out);
        else onMessage(s, input.from, m as BokiMessage, ctx, out);
        break;
      }
      case 'client':
      case 'response':
        break;
      default:
        assertNever(input, 'input');
    }
    return { state: s, effects: out };
  },
};

function onTimer(s: SequencerState, timer: string, ctx: Ctx, out: Eff[]): void {
  if (timer === ZK_HEARTBEAT_TIMER) return onZk(s, zkOnTimer(s.zk, ctx.nowUs, out), ctx, out);
  if (timer === 'repair') return repair(s, ctx, out);
  if (timer.startsWith('cut:')) {
    const sl = s.logs.get(Number(timer.slice(4)));
    if (!sl) return;
    sl.cutArmed = false;
    return cut(s, sl, ctx, out);
  }
}

// ---------------------------------------------------------------------------------------------
// Coordination: the view log

function onZk(s: SequencerState, evs: ZkEvent[], ctx: Ctx, out: Eff[]): void {
  for (const ev of evs) {
    if (zkRetryOwn(s.zk, ev, ctx.nowUs, out)) continue;
    switch (ev.k) {
      case 'view':
        onViewRecord(s, ev.seq, ev.rec, ctx, out);
        break;
      case 'reply':
        // Seal reports: nodeExists means an earlier attempt already wrote it.
        break;
      case 'lost':
        if (ev.purpose.startsWith('report:')) reportFreeze(s, Number(ev.purpose.slice(7)), ctx, out);
        break;
      case 'session':
      case 'expired':
      case 'gap':
      case 'watch':
        break;
      default:
        assertNever(ev, 'zk event');
    }
  }
}

function onViewRecord(s: SequencerState, seqNo: number, rec: ViewRecord, ctx: Ctx, out: Eff[]): void {
  // A restarted sequencer first replays the view log as history (records listed in its first
  // pass; the listing's reply precedes every record delivered), then acts on the current view.
  assert(s.zk.firstListingEnd >= 0, 'view records follow the first directory listing');
  const history = s.restarted && seqNo < s.zk.firstListingEnd;
  if (bookRecord(s.views, rec)) {
    switch (rec.kind) {
      case 'new':
        if (!history && !s.lostViews.has(rec.view.viewId)) joinView(s, s.views.infos[rec.view.viewId]!, ctx, out);
        break;
      case 'freeze':
        freezeView(s, rec.viewId, out);
        if (!history) reportFreeze(s, rec.viewId, ctx, out);
        break;
      case 'finalize':
        for (const fl of rec.logs) {
          const sl = s.logs.get(fl.ls);
          if (sl) finalizeLog(s, sl, fl, ctx, out);
        }
        break;
      default:
        assertNever(rec, 'view record');
    }
  }
  if (history && seqNo === s.zk.firstListingEnd - 1) afterHistory(s, ctx, out);
}

/**
 * The end of a restarted sequencer's replay: the current view, if not finalized and not one it
 * had joined, is joined fresh, or, if already frozen, answered with an honest empty report.
 */
function afterHistory(s: SequencerState, ctx: Ctx, out: Eff[]): void {
  const v = s.views.current;
  if (v < 0 || s.views.finals.has(v) || s.lostViews.has(v)) return;
  if (s.views.frozen < v) return joinView(s, s.views.infos[v]!, ctx, out);
  reportFreeze(s, v, ctx, out);
}

function joinView(s: SequencerState, vi: ViewInfo, ctx: Ctx, out: Eff[]): void {
  let marked = false;
  for (const info of vi.logs) {
    const isPrimary = info.primary === s.self;
    if (!isPrimary && !info.backups.includes(s.self)) continue;
    if (!marked) {
      // Synced before any acknowledgement this view could see (effects run in order).
      out.push(persist(`joined/${vi.view.viewId}`, true, true));
      marked = true;
    }
    const E = vi.view.engines.length;
    const slots = new Map<string, number[]>();
    for (let e = 0; e < E; e++) {
      vi.storagesOfEngine[e]!.forEach((st, j) => {
        let a = slots.get(st);
        if (!a) slots.set(st, (a = []));
        a.push(e, j);
      });
    }
    const R = vi.view.userlogReplicas;
    s.logs.set(info.ls, {
      ls: info.ls,
      viewId: info.viewId,
      primary: isPrimary,
      info,
      entries: [],
      frozen: false,
      finalized: false,
      finalPos: -1,
      progress: isPrimary ? Array.from({ length: E }, () => new Array<number>(R).fill(0)) : [],
      lastCut: isPrimary ? new Array<number>(E).fill(0) : [],
      dirty: isPrimary ? new Array<boolean>(E).fill(false) : [],
      dirtyCount: 0,
      seqEnd: 0,
      acked: new Array<number>(info.backups.length).fill(0),
      ackedAtUs: new Array<number>(info.backups.length).fill(ctx.nowUs),
      replicated: 0,
      cutArmed: false,
      pendingTrims: [],
      slots,
      buffer: new Map(),
      catchupSentUs: -1,
    });
  }
  void out;
}

function freezeView(s: SequencerState, viewId: number, out: Eff[]): void {
  for (const sl of s.logs.values()) {
    if (sl.viewId !== viewId || sl.frozen) continue;
    sl.frozen = true;
    // Trims not yet cut will never be: the requester retries in the next view.
    for (const t of sl.pendingTrims) out.push(send(t.from, { type: 'trimResp', tid: t.req.tid, code: 'DISCARDED', progressOut: 0n }));
    sl.pendingTrims = [];
  }
}

/**
 * Writes this sequencer's seal report: the tail of every log of the view it replicates, and an
 * empty one for every log of the view whose group it belongs to without ever having joined it.
 */
function reportFreeze(s: SequencerState, viewId: number, ctx: Ctx, out: Eff[]): void {
  const logs: { ls: number; position: number; tail: MetaEntry[] }[] = [];
  for (const sl of s.logs.values()) {
    if (sl.viewId !== viewId) continue;
    const n = sl.entries.length;
    logs.push({ ls: sl.ls, position: n, tail: sl.entries.slice(Math.max(0, n - s.cfg.p.sealTailEntries)) });
  }
  const vi = s.views.infos[viewId];
  if (vi && !s.lostViews.has(viewId)) {
    for (const info of vi.logs) if (info.group.includes(s.self) && !s.logs.has(info.ls)) logs.push({ ls: info.ls, position: 0, tail: [] });
  }
  if (logs.length === 0) return;
  zkCreate(s.zk, ctx.nowUs, `report:${viewId}`, `${ZK_FREEZE}/${viewId}-${s.self}`, { viewId, sequencer: s.self, logs }, 'persistent', out);
}

function finalizeLog(s: SequencerState, sl: SeqLog, fl: FinalLog, ctx: Ctx, out: Eff[]): void {
  if (sl.finalized) return;
  sl.frozen = true;
  sl.finalPos = fl.finalPos;
  for (;;) {
    const e = tailEntry(fl, sl.entries.length);
    if (!e) break;
    sl.entries.push(e);
  }
  const n = sl.entries.length;
  if (n > fl.finalPos) {
    if (s.cfg.variant === 'finalize-ahead-by-one' && n === fl.finalPos + 1) {
      // The published Finalize keeps an entry one past the final position, with a warning.
    } else if (s.cfg.variant === 'finalize-ahead-by-one') {
      out.push(fatal(`${s.self}: logspace ${sl.ls} is ${n - fl.finalPos} entries past the final position`));
      return;
    } else {
      // Canonical: an entry the seal left out was never committed; drop it.
      sl.entries.length = fl.finalPos;
    }
  }
  if (sl.entries.length < fl.finalPos) {
    if (s.cfg.variant === 'finalize-no-catchup') {
      out.push(fatal(`${s.self}: logspace ${sl.ls} is ${fl.finalPos - sl.entries.length} entries short of the final position at finalize`));
      return;
    }
    requestCatchup(s, sl, ctx, out);
    armRepair(s, out);
    return;
  }
  sl.finalized = true;
  sl.buffer.clear();
}

// ---------------------------------------------------------------------------------------------
// Messages

function onMessage(s: SequencerState, from: string, m: BokiMessage, ctx: Ctx, out: Eff[]): void {
  switch (m.type) {
    case 'shardProg':
      return onShardProg(s, from, m, ctx, out);
    case 'metaLogs':
      return onMetaLogs(s, from, m, out);
    case 'metaProg':
      return onMetaProg(s, from, m.ls, m.pos, ctx, out);
    case 'catchupReq':
      return onCatchupReq(s, from, m, out);
    case 'catchupResp': {
      const sl = s.logs.get(m.ls);
      if (!sl || sl.finalized || sl.finalPos < 0) return;
      for (const e of m.entries) if (e.k === sl.entries.length && e.k < sl.finalPos) sl.entries.push(e);
      const fl = finalLogOf(s.views, sl.ls, sl.viewId);
      if (fl) finalizeLog(s, sl, fl, ctx, out);
      return;
    }
    case 'trimReq':
      return onTrimReq(s, from, m, ctx, out);
    case 'replicate':
    case 'indexData':
    case 'indexDataReq':
    case 'shardRecover':
    case 'shardRecoverAck':
    case 'setAux':
    case 'indexQuery':
    case 'indexResult':
    case 'readAt':
    case 'readAtResult':
    case 'decisionQuery':
    case 'decisionResult':
    case 'streamInfo':
    case 'streamInfoResp':
    case 'trimResp':
      return;
    default:
      assertNever(m, 'message');
  }
}

function onShardProg(s: SequencerState, from: string, m: ShardProg, ctx: Ctx, out: Eff[]): void {
  const sl = s.logs.get(m.ls);
  if (!sl || !sl.primary || sl.frozen) return;
  const slots = sl.slots.get(from);
  if (!slots) return;
  assert(m.progress.length * 2 === slots.length, 'a shard report covers exactly the storage\'s shards');
  const cutMax = s.cfg.variant === 'bug-cut-skips-min';
  for (let i = 0; i < m.progress.length; i++) {
    const e = slots[2 * i]!;
    const j = slots[2 * i + 1]!;
    const row = sl.progress[e]!;
    const v = m.progress[i]!;
    if (v <= row[j]!) continue;
    row[j] = v;
    const bound = cutBound(row, cutMax);
    if (bound > sl.lastCut[e]! && !sl.dirty[e]) {
      sl.dirty[e] = true;
      sl.dirtyCount++;
    }
  }
  maybeArmCut(s, sl, ctx, out);
}

/** The shard's orderable prefix: the minimum over its replicas (the maximum under the bug). */
function cutBound(row: readonly number[], max: boolean): number {
  let b = row[0]!;
  for (let i = 1; i < row.length; i++) {
    const v = row[i]!;
    if (max ? v > b : v < b) b = v;
  }
  return b;
}

function canCut(sl: SeqLog): boolean {
  return !sl.frozen && sl.replicated === sl.entries.length && (sl.dirtyCount > 0 || sl.pendingTrims.length > 0);
}

function maybeArmCut(s: SequencerState, sl: SeqLog, ctx: Ctx, out: Eff[]): void {
  if (sl.cutArmed || !canCut(sl)) return;
  sl.cutArmed = true;
  armGrid(out, `cut:${sl.ls}`, ctx.nowUs, s.cfg.p.globalCutIntervalUs);
}

/** The global cut (spec §4.2 step 6). */
function cut(s: SequencerState, sl: SeqLog, ctx: Ctx, out: Eff[]): void {
  if (!canCut(sl)) return;
  const k = sl.entries.length;
  let entry: MetaEntry;
  if (sl.dirtyCount > 0) {
    const E = sl.lastCut.length;
    const starts = new Array<number>(E);
    const deltas = new Array<number>(E);
    const cutMax = s.cfg.variant === 'bug-cut-skips-min';
    let total = 0;
    for (let e = 0; e < E; e++) {
      starts[e] = sl.lastCut[e]!;
      let d = 0;
      if (sl.dirty[e]) {
        const row = sl.progress[e]!;
        d = cutBound(row, cutMax) - sl.lastCut[e]!;
        assert(d > 0, 'a dirty shard has new records');
        sl.dirty[e] = false;
      }
      deltas[e] = d;
      sl.lastCut[e]! += d;
      total += d;
    }
    sl.dirtyCount = 0;
    entry = { kind: 'newLogs', ls: sl.ls, k, startPos: sl.seqEnd, starts, deltas };
    sl.seqEnd += total;
  } else {
    const t = sl.pendingTrims.shift()!;
    entry = { kind: 'trim', ls: sl.ls, k, startPos: sl.seqEnd, book: t.req.book, trimSeq: t.req.trimSeq, tid: t.req.tid, requester: t.from };
  }
  sl.entries.push(entry);
  const msg: MetaLogs = { type: 'metaLogs', ls: sl.ls, entries: [entry], committed: false };
  for (let b = 0; b < sl.info.backups.length; b++) {
    out.push(send(sl.info.backups[b]!, msg));
    sl.ackedAtUs[b] = ctx.nowUs;
  }
  if (sl.info.backups.length === 0 && s.cfg.variant !== 'metalog-single-replica-stall') {
    // A group of one: the primary alone is the majority. (The published code waits for backup
    // acks that never come: variant metalog-single-replica-stall.)
    commitUpTo(s, sl, sl.entries.length, out);
    maybeArmCut(s, sl, ctx, out);
  }
  if (sl.info.backups.length > 0) armRepair(s, out);
}

function onMetaProg(s: SequencerState, from: string, ls: number, pos: number, ctx: Ctx, out: Eff[]): void {
  const sl = s.logs.get(ls);
  if (!sl || !sl.primary || sl.frozen) return;
  const b = sl.info.backups.indexOf(from);
  if (b < 0) return;
  if (pos > sl.entries.length) {
    out.push(fatal(`${s.self}: backup ${from} acknowledged position ${pos} of logspace ${ls}, beyond the primary's ${sl.entries.length}`));
    return;
  }
  if (pos <= sl.acked[b]!) return;
  sl.acked[b] = pos;
  sl.ackedAtUs[b] = ctx.nowUs;
  const sorted = [...sl.acked].sort((x, y) => x - y);
  const rep = sorted[Math.floor(sorted.length / 2)]!;
  if (rep > sl.replicated) commitUpTo(s, sl, rep, out);
  maybeArmCut(s, sl, ctx, out);
}

/** Commits entries up to `upTo` and propagates them (spec §4.2 step 8). */
function commitUpTo(s: SequencerState, sl: SeqLog, upTo: number, out: Eff[]): void {
  assert(upTo <= sl.entries.length, 'only applied entries commit');
  const vi = s.views.infos[sl.viewId]!;
  while (sl.replicated < upTo) {
    const e = sl.entries[sl.replicated++]!;
    const msg: MetaLogs = { type: 'metaLogs', ls: sl.ls, entries: [e], committed: true };
    // The compact feed (params.publishedIndexFeed false): index engines get a NEW_LOGS entry with
    // its rows from a storage, so it goes to them only as producers.
    const to = new Set<string>(e.kind === 'newLogs' && !s.cfg.p.publishedIndexFeed ? [] : sl.info.indexEngines);
    if (e.kind === 'newLogs') {
      for (let i = 0; i < e.deltas.length; i++) {
        if (e.deltas[i] === 0) continue;
        to.add(vi.view.engines[i]!);
        for (const st of vi.storagesOfEngine[i]!) to.add(st);
      }
    } else {
      for (const st of vi.view.storages) to.add(st);
      to.add(e.requester);
      out.push(send(e.requester, { type: 'trimResp', tid: e.tid, code: 'TRIM_OK', progressOut: progress(sl.ls, e.k + 1) }));
    }
    for (const n of to) out.push(send(n, msg));
  }
}

function onMetaLogs(s: SequencerState, from: string, m: MetaLogs, out: Eff[]): void {
  const sl = s.logs.get(m.ls);
  if (!sl || sl.primary || sl.frozen || m.committed) return;
  if (from !== sl.info.primary) return;
  if (s.cfg.variant === 'bug-backup-reorders') {
    // The bug: no gap buffering, entries are appended in arrival order.
    for (const e of m.entries) if (e.k >= sl.entries.length || sl.entries[e.k] !== e) sl.entries.push(e);
  } else {
    for (const e of m.entries) if (e.k >= sl.entries.length) sl.buffer.set(e.k, e);
    for (;;) {
      const e = sl.buffer.get(sl.entries.length);
      if (!e) break;
      sl.buffer.delete(e.k);
      sl.entries.push(e);
    }
  }
  // Always answer, duplicates included: the primary may have missed an earlier ack.
  out.push(send(sl.info.primary, { type: 'metaProg', ls: sl.ls, pos: sl.entries.length }));
}

function onCatchupReq(s: SequencerState, from: string, m: CatchupReq, out: Eff[]): void {
  const sl = s.logs.get(m.ls);
  if (!sl) return;
  // Only entries known to be committed leave the group: the primary's replicated prefix, or a
  // finalized log's entries.
  let upTo: number;
  if (sl.finalized) upTo = sl.entries.length;
  else if (sl.primary) upTo = sl.replicated;
  else if (sl.finalPos >= 0) upTo = Math.min(sl.entries.length, sl.finalPos);
  else return;
  if (m.from >= upTo) {
    out.push(send(from, { type: 'catchupResp', ls: sl.ls, from: m.from, entries: [], upTo }));
    return;
  }
  const end = Math.min(upTo, m.from + CATCHUP_BATCH_MAX);
  out.push(send(from, { type: 'catchupResp', ls: sl.ls, from: m.from, entries: sl.entries.slice(m.from, end), upTo }));
}

function onTrimReq(s: SequencerState, from: string, m: TrimReq, ctx: Ctx, out: Eff[]): void {
  const sl = s.logs.get(m.ls);
  if (!sl || !sl.primary || sl.frozen) {
    out.push(send(from, { type: 'trimResp', tid: m.tid, code: 'DISCARDED', progressOut: 0n }));
    return;
  }
  if (m.trimSeq > seqOf(sl.ls, sl.seqEnd)) {
    out.push(send(from, { type: 'trimResp', tid: m.tid, code: 'TRIM_FAILED', progressOut: 0n }));
    return;
  }
  if (sl.pendingTrims.some((t) => t.req.tid === m.tid)) return;
  assert(sl.pendingTrims.length < 10_000, 'trim requests pile up');
  sl.pendingTrims.push({ req: m, from });
  maybeArmCut(s, sl, ctx, out);
}

// ---------------------------------------------------------------------------------------------
// Repair: resend to lagging backups, catch up at finalize

function repair(s: SequencerState, ctx: Ctx, out: Eff[]): void {
  s.repairArmed = false;
  const waitUs = s.cfg.p.repairIntervalMs * 1000;
  let again = false;
  for (const sl of s.logs.values()) {
    if (sl.primary && !sl.frozen) {
      for (let b = 0; b < sl.acked.length; b++) {
        const a = sl.acked[b]!;
        if (a >= sl.entries.length) continue;
        again = true;
        if (ctx.nowUs - sl.ackedAtUs[b]! < waitUs) continue;
        // The channel may have broken: resend everything above the backup's acked position.
        const batch = sl.entries.slice(a, a + CATCHUP_BATCH_MAX);
        out.push(send(sl.info.backups[b]!, { type: 'metaLogs', ls: sl.ls, entries: batch, committed: false }));
        sl.ackedAtUs[b] = ctx.nowUs;
      }
    }
    if (!sl.finalized && sl.finalPos >= 0) {
      again = true;
      if (ctx.nowUs - sl.catchupSentUs >= waitUs) requestCatchup(s, sl, ctx, out);
    }
  }
  if (again) armRepair(s, out);
}

function requestCatchup(s: SequencerState, sl: SeqLog, ctx: Ctx, out: Eff[]): void {
  sl.catchupSentUs = ctx.nowUs;
  for (const n of sl.info.group) if (n !== s.self) out.push(send(n, { type: 'catchupReq', ls: sl.ls, from: sl.entries.length }));
}

/** The committed end of a log as this sequencer knows it (for selectors and reports). */
export function seqLogEnd(sl: SeqLog): number {
  return sl.entries.length === 0 ? 0 : entryEnd(sl.entries[sl.entries.length - 1]!);
}
