/**
 * The storage node (spec §4.2 steps 3, 4, 11; §5.5; §9.3). Per (view, physical log) it keeps the
 * shards of its source engines: records received but not yet ordered (`pending`), the contiguous
 * received prefix per engine, and the ordered records by log position.
 *
 * Durability (project rule `sync-before-progress`): a record is written to disk on receipt; the
 * local-cut timer syncs the disk once and only then reports the synced prefix to the primary, so
 * a record counted in any cut survives a crash. Every applied metalog entry is synced too, which
 * is all a restarted storage needs to rebuild its ordering from disk. The published behaviour
 * (`lazy-after-order`, variant storage-lazy-unsynced) counts records on receipt and writes them,
 * unsynced, only once ordered.
 *
 * As a lite metalog consumer it applies an entry once the entry's shard starts equal its own
 * applied counters for every source engine with new records; then it orders those records, answers
 * reads parked on them, and ships their tag data to every index engine of the log.
 */
import { assert, assertNever } from '../core/assert.ts';
import type { Ctx, DiskImage, Effect, Machine } from '../core/contract.ts';
import { fatal, persist, send } from '../core/contract.ts';
import type { ZkResponse } from './coord-api.ts';
import { armGrid, bookRecord, type BokiConfig, entryEnd, finalLogOf, newViewBook, type ViewBook, armRepair } from './common.ts';
import { nodeNumber, seqOf } from './ids.ts';
import type { BokiMessage, CatchupResp, FinalLog, IndexRow, MetaEntry, NewLogsEntry, NodeMessage, ReadAt, Replicate, TrimEntry } from './messages.ts';
import { type LogInfo, type ViewInfo } from './view.ts';
import { newZkClient, type ViewRecord, type ZkClient, type ZkEvent, zkOnMessage, zkOnTimer, zkRetryOwn, zkStart, ZK_HEARTBEAT_TIMER } from './zk-client.ts';

export interface SrcShard {
  /** The engine's position in the view's engine order. */
  readonly pos: number;
  /** The engine's numeric id (the localid's high word). */
  readonly engine: number;
  readonly storages: readonly string[];
  pending: Map<number, Replicate>;
  /** Counters below `recv` are received (or ordered). */
  recv: number;
  /** Counters below `synced` are durable and counted in progress. */
  synced: number;
  /** Counters below `applied` are ordered. */
  applied: number;
  /** Metalog position of the last entry that ordered records of this shard (-1: none yet). */
  lastK: number;
  minIncarnation: number;
}

export interface StoLog {
  readonly ls: number;
  readonly viewId: number;
  readonly info: LogInfo;
  readonly sources: SrcShard[];
  /** By engine position: this storage's shard for it, or null. */
  readonly srcByPos: (SrcShard | null)[];
  /**
   * Ordered records by log position (an array, holes for other shards' positions and trimmed
   * records: dense in the common S = R layout, and cheap to hash at the end of a run).
   */
  ordered: (Replicate | undefined)[];
  /** Rows of ordered records deleted by a trim: indexes may still need them, and the audit. */
  tombstones: Map<number, Tombstone>;
  /** End of the last applied NEW_LOGS entry, and its metalog position. */
  appliedEnd: number;
  lastK: number;
  /** Catch-up scan cursor: entries below it were seen (applied, buffered or irrelevant here). */
  scanned: number;
  /** Entries that arrived ahead of a gap. */
  buffered: Map<number, MetaEntry>;
  parked: Map<number, { from: string; m: ReadAt }[]>;
  parkedCount: number;
  /** Progress last reported, per source (aligned to `sources`). */
  reported: number[];
  reportedUs: number;
  /** Sum of applied counters at the last repair tick, to tell a stall from a busy log. */
  stallMark: number;
  finalized: boolean;
  catchupSentUs: number;
  aux: Map<number, string>;
}

export interface StorageState {
  readonly cfg: BokiConfig;
  readonly self: string;
  readonly zk: ZkClient;
  views: ViewBook;
  logs: Map<number, StoLog>;
  /** Disk contents waiting for the view that explains them (after a restart). */
  recovered: Map<number, Recovered>;
  /** Records of logspaces whose view this node has not learned yet. */
  early: Replicate[];
  trimPoints: Map<number, bigint>;
  lcArmed: boolean;
  repairArmed: boolean;
  unsynced: number;
  readonly restarted: boolean;
  readonly boot: number;
}

type Eff = Effect<NodeMessage>;

interface Recovered {
  records: Replicate[];
  entries: MetaEntry[];
  tombs: Tombstone[];
}

/** What remains of a trimmed record: its index row (for indexes and replays) and attempt id. */
export interface Tombstone extends IndexRow {
  readonly attemptId: string;
}

function tombOf(r: Replicate, pos: number): Tombstone {
  return { pos, engine: r.engine, counter: r.counter, book: r.book, tags: r.tags, kind: r.kind, condTag: r.condTag, condPos: r.condPos, attemptId: r.attemptId };
}

const EARLY_MAX = 10_000;
const PARKED_MAX = 100_000;

function lazy(s: StorageState): boolean {
  return s.cfg.variant === 'storage-lazy-unsynced' || s.cfg.p.storageSyncPolicy === 'lazy-after-order';
}

function newState(cfg: BokiConfig, self: string, restarted: boolean): StorageState {
  return {
    cfg,
    self,
    zk: newZkClient(self, 'storage', cfg.p.heartbeatIntervalMs, cfg.p.failureTimeoutMs, 0),
    views: newViewBook(),
    logs: new Map(),
    recovered: new Map(),
    early: [],
    trimPoints: new Map(),
    lcArmed: false,
    repairArmed: false,
    unsynced: 0,
    restarted,
    boot: restarted ? 1 : 0,
  };
}

const recKey = (ls: number, engine: number, counter: number) => `r/${ls}/${engine}/${counter}`;

export const storageMachine: Machine<BokiConfig, StorageState, NodeMessage> = {
  role: 'storage',
  init: (cfg, self) => newState(cfg, self, false),
  recover(cfg, self, disk: DiskImage) {
    const s = newState(cfg, self, true);
    for (const [key, value] of disk) {
      if (key.startsWith('r/')) {
        const r = value as Replicate;
        bucket(s, r.ls).records.push(r);
      } else if (key.startsWith('m/')) {
        const e = value as MetaEntry;
        bucket(s, e.ls).entries.push(e);
      } else if (key.startsWith('x/')) {
        const row = value as Tombstone;
        bucket(s, Number(key.split('/')[1])).tombs.push(row);
      } else if (key.startsWith('t/')) {
        s.trimPoints.set(Number(key.slice(2)), value as bigint);
      }
    }
    for (const b of s.recovered.values()) b.entries.sort((x, y) => x.k - y.k);
    return s;
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
        if (input.timer === ZK_HEARTBEAT_TIMER) onZk(s, zkOnTimer(s.zk, ctx.nowUs, out), ctx, out);
        else if (input.timer === 'lc') localCut(s, ctx, out);
        else if (input.timer === 'repair') repair(s, ctx, out);
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

function bucket(s: StorageState, ls: number): Recovered {
  let b = s.recovered.get(ls);
  if (!b) s.recovered.set(ls, (b = { records: [], entries: [], tombs: [] }));
  return b;
}

// ---------------------------------------------------------------------------------------------
// Views

function onZk(s: StorageState, evs: ZkEvent[], ctx: Ctx, out: Eff[]): void {
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

function srcOfEngine(sl: StoLog, engine: number): SrcShard | null {
  for (const src of sl.sources) if (src.engine === engine) return src;
  return null;
}

function forEachCovered(sl: StoLog, e: NewLogsEntry, f: (src: SrcShard, counter: number) => void): void {
  for (const src of sl.sources) {
    const d = e.deltas[src.pos]!;
    for (let c = e.starts[src.pos]!; c < e.starts[src.pos]! + d; c++) f(src, c);
  }
}

// ---------------------------------------------------------------------------------------------
// Messages

function onMessage(s: StorageState, from: string, m: BokiMessage, ctx: Ctx, out: Eff[]): void {
  switch (m.type) {
    case 'replicate':
      return onReplicate(s, m, ctx, out);
    case 'metaLogs':
      if (!m.committed) return;
      return onEntries(s, m.ls, m.entries, ctx, out);
    case 'catchupResp':
      return onCatchupResp(s, from, m, ctx, out);
    case 'readAt':
      return onReadAt(s, from, m, out);
    case 'indexDataReq': {
      const sl = s.logs.get(m.ls);
      if (!sl) return;
      const rows: IndexRow[] = [];
      const to = Math.min(m.to, m.from + 4096);
      for (let pos = m.from; pos < to; pos++) {
        const r = sl.ordered[pos];
        if (r) rows.push(rowOf(r, pos));
        else {
          const t = sl.tombstones.get(pos);
          if (t) rows.push(t);
        }
      }
      if (rows.length > 0) out.push(send(from, { type: 'indexData', ls: m.ls, rows }));
      return;
    }
    case 'shardRecover':
      return onShardRecover(s, from, m.ls, m.engine, m.incarnation, out);
    case 'setAux': {
      const sl = s.logs.get(m.ls);
      if (!sl) return;
      sl.aux.delete(m.pos);
      sl.aux.set(m.pos, m.data);
      if (sl.aux.size > s.cfg.p.storageCacheEntries) sl.aux.delete(sl.aux.keys().next().value!);
      return;
    }
    case 'shardProg':
    case 'metaProg':
    case 'catchupReq':
    case 'indexData':
    case 'shardRecoverAck':
    case 'indexQuery':
    case 'indexResult':
    case 'readAtResult':
    case 'decisionQuery':
    case 'decisionResult':
    case 'streamInfo':
    case 'streamInfoResp':
    case 'trimReq':
    case 'trimResp':
      return;
    default:
      assertNever(m, 'message');
  }
}

function onReplicate(s: StorageState, m: Replicate, ctx: Ctx, out: Eff[]): void {
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
    // engine sends fillers only for counters no replica holds, see engine.ts repairShard); the
    // published storage replaces any entry, which is how a reused localid overwrites a record.
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

function advanceRecv(src: SrcShard): void {
  if (src.recv < src.applied) src.recv = src.applied;
  while (src.pending.has(src.recv)) src.recv++;
}

function armLocalCut(s: StorageState, ctx: Ctx, out: Eff[]): void {
  if (s.lcArmed) return;
  s.lcArmed = true;
  armGrid(out, 'lc', ctx.nowUs, s.cfg.p.localCutIntervalUs);
}

/** The local cut (spec §4.2 step 4): sync once, then report every changed log's progress. */
function localCut(s: StorageState, ctx: Ctx, out: Eff[]): void {
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

function report(sl: StoLog, ctx: Ctx, out: Eff[]): void {
  const progress = new Array<number>(sl.sources.length);
  for (let i = 0; i < sl.sources.length; i++) progress[i] = sl.sources[i]!.synced;
  sl.reported = progress;
  sl.reportedUs = ctx.nowUs;
  out.push(send(sl.info.primary, { type: 'shardProg', ls: sl.ls, progress }));
}

// ---------------------------------------------------------------------------------------------
// Applying metalog entries (lite consumer)

function onEntries(s: StorageState, ls: number, entries: readonly MetaEntry[], ctx: Ctx, out: Eff[]): void {
  const sl = s.logs.get(ls);
  if (!sl) return;
  for (const e of entries) offerEntry(s, sl, e, ctx, out);
}

/** Applies an entry if it is next for every shard it touches here; buffers it if it is early. */
function offerEntry(s: StorageState, sl: StoLog, e: MetaEntry, ctx: Ctx, out: Eff[]): void {
  if (e.kind === 'trim') return applyTrim(s, e, out);
  let relevant = false;
  let early = false;
  let late = false;
  for (const src of sl.sources) {
    if (e.deltas[src.pos] === 0) continue;
    relevant = true;
    const st = e.starts[src.pos]!;
    if (st > src.applied) early = true;
    else if (st < src.applied) late = true;
  }
  if (!relevant || late) {
    assert(!(late && early), 'an entry is either applied or not, for all its shards at once');
    return;
  }
  if (early) {
    if (sl.buffered.size < 10_000) sl.buffered.set(e.k, e);
    armRepair(s, out);
    return;
  }
  applyEntry(s, sl, e, true, ctx, out);
  // Entries buffered behind this one may now apply.
  while (sl.buffered.size > 0) {
    let next: MetaEntry | null = null;
    for (const b of sl.buffered.values()) {
      if (b.kind === 'newLogs' && sl.sources.every((src) => b.deltas[src.pos] === 0 || b.starts[src.pos] === src.applied)) {
        next = b;
        break;
      }
    }
    if (!next) break;
    sl.buffered.delete(next.k);
    applyEntry(s, sl, next, true, ctx, out);
  }
  // Drop buffered entries that turned out to be duplicates of applied ones.
  for (const [k, b] of sl.buffered) {
    if (b.kind === 'newLogs' && sl.sources.some((src) => b.deltas[src.pos]! > 0 && b.starts[src.pos]! < src.applied)) sl.buffered.delete(k);
  }
}

function applyEntry(s: StorageState, sl: StoLog, e: MetaEntry, live: boolean, ctx: Ctx, out: Eff[]): void {
  if (e.kind === 'trim') return applyTrim(s, e, out);
  const rows: IndexRow[] = [];
  let pos = e.startPos;
  for (let i = 0; i < e.deltas.length; i++) {
    const d = e.deltas[i]!;
    const src = sl.srcByPos[i];
    if (!src || d === 0) {
      pos += d;
      continue;
    }
    if (e.starts[i] !== src.applied) {
      // Only on replay after a restart: the entry was applied before the crash and is again now.
      assert(!live, 'a live entry applies exactly at the shard\'s applied counter');
      pos += d;
      continue;
    }
    for (let c = src.applied; c < src.applied + d; c++, pos++) {
      const r = src.pending.get(c);
      if (r === undefined && !live && sl.tombstones.has(pos)) continue; // trimmed before a restart
      if (r === undefined) {
        // Impossible canonically: the cut is a minimum over synced replicas. The prototype's
        // restarted storage (empty memory) dies here.
        out.push(fatal(`${s.self}: metalog entry ${e.k} of logspace ${sl.ls} covers localid ${src.engine}:${c}, which this storage lacks`));
        return;
      }
      src.pending.delete(c);
      if (isTrimmed(s, r.book, sl.ls, pos)) {
        // Ordered below its book's trim point: kept on disk (a replay recomputes this), served never.
        const row = tombOf(r, pos);
        sl.tombstones.set(pos, row);
        if (live) rows.push(row);
        continue;
      }
      sl.ordered[pos] = r;
      if (live) rows.push(rowOf(r, pos));
      if (lazy(s)) out.push(persist(recKey(sl.ls, r.engine, r.counter), r, false));
      const parked = sl.parked.get(pos);
      if (parked) {
        sl.parked.delete(pos);
        sl.parkedCount -= parked.length;
        for (const p of parked) answerRead(sl, p.from, p.m, out);
      }
    }
    src.applied += d;
    if (e.k > src.lastK) src.lastK = e.k;
    if (src.recv < src.applied) src.recv = src.applied;
    if (src.synced < src.applied) src.synced = src.applied;
  }
  if (e.k > sl.lastK) {
    sl.lastK = e.k;
    sl.appliedEnd = entryEnd(e);
  }
  if (live) {
    out.push(persist(`m/${sl.ls}/${e.k}`, e, !lazy(s)));
    if (rows.length > 0) {
      const msg = { type: 'indexData' as const, ls: sl.ls, rows };
      for (const ie of sl.info.indexEngines) out.push(send(ie, msg));
    }
  }
  void ctx;
}

function rowOf(r: Replicate, pos: number): IndexRow {
  return { pos, engine: r.engine, counter: r.counter, book: r.book, tags: r.tags, kind: r.kind, condTag: r.condTag, condPos: r.condPos };
}

function isTrimmed(s: StorageState, book: number, ls: number, pos: number): boolean {
  const t = s.trimPoints.get(book);
  return t !== undefined && seqOf(ls, pos) < t;
}

/** Trim (spec §9.3 step 5): delete the book's records below the trim point in every view held. */
function applyTrim(s: StorageState, e: TrimEntry, out: Eff[]): void {
  const old = s.trimPoints.get(e.book);
  if (old !== undefined && old >= e.trimSeq) return;
  s.trimPoints.set(e.book, e.trimSeq);
  for (const sl of s.logs.values()) {
    for (let pos = 0; pos < sl.ordered.length; pos++) {
      const r = sl.ordered[pos];
      if (r === undefined || r.book !== e.book || seqOf(sl.ls, pos) >= e.trimSeq) continue;
      sl.ordered[pos] = undefined;
      const row = tombOf(r, pos);
      sl.tombstones.set(pos, row);
      out.push(persist(`x/${sl.ls}/${pos}`, row, false));
      out.push(persist(recKey(sl.ls, r.engine, r.counter), undefined, false));
    }
  }
  // One sync makes the tombstones, the deletions and the trim point durable together.
  out.push(persist(`t/${e.book}`, e.trimSeq, true));
}

// ---------------------------------------------------------------------------------------------
// Reads (spec §5.5)

function onReadAt(s: StorageState, from: string, m: ReadAt, out: Eff[]): void {
  const sl = s.logs.get(m.ls);
  if (!sl) {
    out.push(send(from, { type: 'readAtResult', qid: m.qid, ls: m.ls, pos: m.pos, rec: null, aux: null }));
    return;
  }
  if (sl.ordered[m.pos] !== undefined || sl.finalized || m.pos < sl.appliedEnd) return answerRead(sl, from, m, out);
  if (sl.parkedCount >= PARKED_MAX) return answerRead(sl, from, m, out);
  let list = sl.parked.get(m.pos);
  if (!list) sl.parked.set(m.pos, (list = []));
  list.push({ from, m });
  sl.parkedCount++;
  armRepair(s, out);
}

function answerRead(sl: StoLog, from: string, m: ReadAt, out: Eff[]): void {
  const r = sl.ordered[m.pos] ?? null;
  out.push(send(from, { type: 'readAtResult', qid: m.qid, ls: m.ls, pos: m.pos, rec: r, aux: r ? (sl.aux.get(m.pos) ?? null) : null }));
}

// ---------------------------------------------------------------------------------------------
// Engine restart (spec §9.3)

function onShardRecover(s: StorageState, from: string, ls: number, engine: number, incarnation: number, out: Eff[]): void {
  const sl = s.logs.get(ls);
  if (!sl) return;
  const src = srcOfEngine(sl, engine);
  if (!src) return;
  if (incarnation > src.minIncarnation) src.minIncarnation = incarnation;
  // Whatever this replica reports holding must survive a crash: sync first.
  if (s.unsynced > 0) {
    out.push(persist('sync', incarnation, true));
    s.unsynced = 0;
    for (const l of s.logs.values()) for (const x of l.sources) x.synced = x.recv;
  }
  const held: number[] = [];
  for (const c of src.pending.keys()) if (c >= src.recv) held.push(c);
  held.sort((a, b) => a - b);
  const records = [...src.pending.values()].sort((a, b) => a.counter - b.counter);
  out.push(send(from, { type: 'shardRecoverAck', ls, engine, incarnation, progress: src.recv, held, records, finalized: sl.finalized }));
}

// ---------------------------------------------------------------------------------------------
// Finalize and catch-up

/** The final applied counter per engine position, from the last NEW_LOGS entry of the tail. */
export function finalCounts(fl: FinalLog): readonly number[] | null {
  for (let i = fl.tail.length - 1; i >= 0; i--) {
    const e = fl.tail[i]!;
    if (e.kind === 'newLogs') return e.starts.map((st, j) => st + e.deltas[j]!);
  }
  return fl.finalPos === 0 ? [] : null;
}

function tryFinalize(s: StorageState, sl: StoLog, fl: FinalLog, ctx: Ctx, out: Eff[]): void {
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

function requestCatchup(s: StorageState, sl: StoLog, ctx: Ctx, out: Eff[]): void {
  sl.catchupSentUs = ctx.nowUs;
  const from = catchupFrom(sl);
  // While the view is live only the primary knows what is committed; after finalize any replica.
  const fl = finalLogOf(s.views, sl.ls, sl.viewId);
  const to = fl ? sl.info.group : [sl.info.primary];
  for (const n of to) out.push(send(n, { type: 'catchupReq', ls: sl.ls, from }));
}

function onCatchupResp(s: StorageState, from: string, m: CatchupResp, ctx: Ctx, out: Eff[]): void {
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
function repair(s: StorageState, ctx: Ctx, out: Eff[]): void {
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

/** Numeric id of this storage (for reports). */
export function storageNumber(s: StorageState): number {
  return nodeNumber(s.self);
}
