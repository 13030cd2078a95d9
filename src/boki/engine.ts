/**
 * The engine (function node): it serves the shared-log API (api.ts) to function code, produces
 * records into the log (LogProducer per view and physical log), indexes the logs of its index
 * plan, and answers index queries for peers.
 *
 * Append path (spec §4.2). An append gets a localid (engine, counter) in the book's current log
 * and goes to the R storages of the engine's shard; there is no acknowledgement. The outcome comes
 * through the metalog: a committed entry covering the localid orders it (APPEND_OK with its
 * seqnum); a finalize that does not cover it discards it (DISCARDED, then the client retry policy
 * of §3.3). Conditional appends and overwrites complete when an index decides them.
 *
 * Read path (spec §5.4). A read goes to an index of the book's log in the current view, locally
 * when this engine indexes it; the index admits it once it covers the invocation's progress and
 * walks back across views, one view at a time, locally or by forwarding. The record's body comes
 * from the cache or a storage replica of the record's shard in the record's view. Reads time out
 * and retry at another replica (§3.3), then answer DATA_LOST.
 *
 * Restart within a view (spec §9.3): the engine bumps a synced incarnation, asks its storages what
 * they hold of its shard, gives every replica that lacks a record some other replica holds a copy
 * (fillers for holes nobody holds), resumes its localid counter above everything held, and serves
 * no index it held before the restart.
 */
import { assert, assertNever } from '../core/assert.ts';
import type { Ctx, DiskImage, Effect, Machine } from '../core/contract.ts';
import { fatal, persist, record, reply, send, setTimer } from '../core/contract.ts';
import { MAX_SEQNUM, recordFits, TAG_INVALID, type LogReply, type LogRequest, type Tag } from './api.ts';
import type { ZkResponse } from './coord-api.ts';
import { bookRecord, type BokiConfig, finalLogOf, newViewBook, type ViewBook, armRepair } from './common.ts';
import type { AttemptEndRec, AttemptRec, OpRec } from './history.ts';
import { localid, logspaceView, nodeNumber, progress, progressLogspace, progressPos, seqLogspace, seqOf, seqPos, seqView } from './ids.ts';
import { advance, bookIdx, complete, type Decision, evaluate, indexedEnd, type IndexHooks, type LogIndex, makeHit, newLogIndex, offerIndexEntry, offerRows, type ParkedQuery, streamList } from './log-index.ts';
import type { BokiMessage, CatchupResp, DecisionQuery, FinalLog, Hit, IndexQuery, IndexResult, Kind, MetaEntry, NewLogsEntry, NodeMessage, ReadAtResult, Replicate, ShardRecoverAck, StreamInfo, StreamInfoResp } from './messages.ts';
import { finalCounts } from './storage.ts';
import { type LogInfo, logOfBook, type ViewInfo } from './view.ts';
import { newZkClient, type ViewRecord, type ZkClient, type ZkEvent, zkOnMessage, zkOnTimer, zkRetryOwn, zkStart, ZK_HEARTBEAT_TIMER } from './zk-client.ts';

// ---------------------------------------------------------------------------------------------
// State

export interface Invocation {
  readonly book: number;
  progress: bigint;
}

interface PendingAppend {
  readonly reqId: string;
  readonly rec: Replicate;
  sentUs: number;
  resendUs: number;
}

export interface Producer {
  readonly ls: number;
  readonly viewId: number;
  readonly info: LogInfo;
  /** This engine's position in the view's engine order. */
  readonly pos: number;
  readonly storages: readonly string[];
  counter: number;
  pending: Map<number, PendingAppend>;
  /** Own localids ordered so far (lite consumer position). */
  applied: number;
  lastK: number;
  scanned: number;
  buffered: Map<number, NewLogsEntry>;
  /** Restart recovery (spec §9.3): acks per storage, until all R answered. */
  recovering: Map<string, ShardRecoverAck | null> | null;
  recoverSentUs: number;
  /** Appends waiting for recovery to finish. */
  held: string[];
  finalized: boolean;
  catchupSentUs: number;
  stallMark: number;
}

interface AppendOp {
  readonly k: 'append';
  readonly reqId: string;
  readonly req: LogRequest;
  readonly inv: string;
  readonly book: number;
  readonly recKind: Kind;
  readonly tags: readonly bigint[];
  readonly data: string;
  readonly condTag: bigint;
  readonly condPos: number;
  readonly pin: bigint;
  readonly t0: number;
  tries: number;
  phase: 'backoff' | 'replicating' | 'deciding' | 'held';
  attemptId: string;
  ls: number;
  pos: number;
  orderK: number;
  decQid: number;
  decTries: number;
}

interface ReadOp {
  readonly k: 'read';
  readonly reqId: string;
  readonly req: LogRequest;
  readonly inv: string;
  readonly book: number;
  readonly op: 'next' | 'prev';
  readonly tag: bigint;
  readonly q: bigint;
  readonly blocking: boolean;
  readonly pin: bigint;
  readonly t0: number;
  qid: number;
  tries: number;
  unavailable: number;
  hit: Hit | null;
  frontier: bigint;
  progressOut: bigint;
  fetchTries: number;
  held: boolean;
}

interface TrimOp {
  readonly k: 'trim';
  readonly reqId: string;
  readonly req: LogRequest;
  readonly inv: string;
  readonly book: number;
  readonly trimSeq: bigint;
  readonly pin: bigint;
  readonly t0: number;
  tries: number;
  tid: string;
  ls: number;
  phase: 'backoff' | 'sent';
}

type Op = AppendOp | ReadOp | TrimOp;

interface Lookup {
  readonly key: string;
  readonly op: 'count' | 'seek';
  readonly ls: number;
  readonly book: number;
  readonly tag: bigint;
  readonly pos: number;
  done: boolean;
  count: number;
  hit: Hit | null;
  waiters: LookupWaiter[];
  sid: number;
  sentUs: number;
  tries: number;
}

type LookupWaiter = { readonly k: 'advance'; readonly ls: number } | { readonly k: 'reply'; readonly to: string; readonly sid: number } | { readonly k: 'lookup'; readonly key: string };

type DecWaiter = { readonly k: 'local'; readonly reqId: string } | { readonly k: 'remote'; readonly to: string; readonly qid: number };

export interface EngineState {
  readonly cfg: BokiConfig;
  readonly self: string;
  readonly num: number;
  readonly zk: ZkClient;
  incarnation: number;
  readonly restarted: boolean;
  views: ViewBook;
  producers: Map<number, Producer>;
  indexes: Map<number, LogIndex>;
  /** Logspaces this engine indexed before a restart: lost, never served. */
  lostIndexes: Set<number>;
  /** Peers known to have lost their index of a logspace (they answered 'unavailable'). */
  lostPeers: Map<number, Set<string>>;
  invocations: Map<string, Invocation>;
  ops: Map<string, Op>;
  /** Reads and decision queries in flight, by query id. */
  queries: Map<number, string>;
  /** Trims in flight, by trim id. */
  trims: Map<string, string>;
  /** Ops waiting for a view. */
  heldOps: string[];
  nextQid: number;
  attempts: number;
  rr: number;
  cache: Map<bigint, Replicate>;
  aux: Map<bigint, string>;
  decWaiters: Map<string, DecWaiter[]>;
  lookups: Map<string, Lookup>;
  lookupBySid: Map<number, string>;
  /** Lookups waiting for a local index to become complete, by its logspace. */
  lookupsOn: Map<number, string[]>;
  nextSid: number;
  repairArmed: boolean;
  blockArmedUs: number;
  readonly boot: number;
}

type Eff = Effect<NodeMessage, never, LogReply>;

const OPS_MAX = 100_000;
const INVOCATIONS_MAX = 100_000;
const PARKED_MAX = 100_000;
/** Work bound per step for loops over parked queries (readprev-pending-hang trips it). */
const PARKED_LOOP_MAX = 1_000_000;

/**
 * Query and lookup ids are unique across incarnations: each incarnation numbers from its own
 * base. Answers to the previous incarnation's queries may still be in flight after a restart, and
 * a reused id would hand one of them to a new query of another stream (wf-crash-storm seed 299
 * under hm-read: a readNext answered with a record below its minSeq, from another stream).
 */
const ID_SPACE = 2 ** 32;
/** Incarnations below this keep every id under 2^53, exact as a JS number. */
const INCARNATIONS_MAX = 2 ** 20;

function newState(cfg: BokiConfig, self: string, incarnation: number, restarted: boolean): EngineState {
  assert(Number.isInteger(incarnation) && incarnation >= 0 && incarnation < INCARNATIONS_MAX, `engine ${self}: incarnation ${incarnation} out of range`);
  return {
    cfg,
    self,
    num: nodeNumber(self),
    zk: newZkClient(self, 'engine', cfg.p.heartbeatIntervalMs, cfg.p.failureTimeoutMs, 0),
    incarnation,
    restarted,
    views: newViewBook(),
    producers: new Map(),
    indexes: new Map(),
    lostIndexes: new Set(),
    lostPeers: new Map(),
    invocations: new Map(),
    ops: new Map(),
    queries: new Map(),
    trims: new Map(),
    heldOps: [],
    nextQid: incarnation * ID_SPACE,
    attempts: 0,
    rr: 0,
    cache: new Map(),
    aux: new Map(),
    decWaiters: new Map(),
    lookups: new Map(),
    lookupBySid: new Map(),
    lookupsOn: new Map(),
    nextSid: incarnation * ID_SPACE,
    repairArmed: false,
    blockArmedUs: -1,
    boot: incarnation,
  };
}

export const engineMachine: Machine<BokiConfig, EngineState, NodeMessage, LogRequest, LogReply> = {
  role: 'engine',
  init: (cfg, self) => newState(cfg, self, 0, false),
  recover(cfg, self, disk: DiskImage) {
    const inc = (disk.get('incarnation') as number | undefined) ?? 0;
    return newState(cfg, self, inc + 1, true);
  },
  step(s, input, ctx) {
    const out: Eff[] = [];
    switch (input.type) {
      case 'start':
      case 'restart':
        s.zk.boot = ctx.randomU32('boot');
        // The incarnation must be durable before anything this incarnation sends.
        if (input.type === 'restart') out.push(persist('incarnation', s.incarnation, true));
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
        onClient(s, input.reqId, input.body, ctx, out);
        break;
      case 'response':
        break;
      default:
        assertNever(input, 'input');
    }
    return { state: s, effects: out };
  },
};

function onTimer(s: EngineState, timer: string, ctx: Ctx, out: Eff[]): void {
  if (timer === ZK_HEARTBEAT_TIMER) return onZk(s, zkOnTimer(s.zk, ctx.nowUs, out), ctx, out);
  if (timer === 'repair') return repair(s, ctx, out);
  if (timer === 'block') return expireBlocking(s, ctx, out);
  if (timer.startsWith('op:')) {
    const op = s.ops.get(timer.slice(3));
    if (op) onOpTimer(s, op, ctx, out);
  }
}

function curView(s: EngineState): ViewInfo | null {
  return s.views.current >= 0 ? s.views.infos[s.views.current]! : null;
}

function hasIndex(s: EngineState, ls: number): LogIndex | null {
  return s.indexes.get(ls) ?? null;
}

// ---------------------------------------------------------------------------------------------
// Views

function onZk(s: EngineState, evs: ZkEvent[], ctx: Ctx, out: Eff[]): void {
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

function appendsOpen(s: EngineState): ViewInfo | null {
  const vi = curView(s);
  if (!vi || s.views.frozen >= vi.view.viewId || !vi.enginePos.has(s.self)) return null;
  return vi;
}

// ---------------------------------------------------------------------------------------------
// The API

function badArgs(s: EngineState, reqId: string, req: LogRequest, reason: string, out: Eff[]): void {
  out.push(reply(reqId, { code: 'BAD_ARGS', reason }));
  void s;
  void req;
}

function validTag(t: Tag): boolean {
  return t !== 0n && t !== TAG_INVALID && t > 0n && t <= TAG_INVALID;
}

function dedupTags(tags: readonly Tag[]): Tag[] | null {
  const out: Tag[] = [];
  for (const t of tags) {
    if (typeof t !== 'bigint' || !validTag(t)) return null;
    if (!out.includes(t)) out.push(t);
  }
  return out;
}

function onClient(s: EngineState, reqId: string, req: LogRequest, ctx: Ctx, out: Eff[]): void {
  if (s.ops.has(reqId)) return; // a duplicate request: the first one will be answered
  switch (req.op) {
    case 'begin': {
      if (s.invocations.has(req.inv)) return badArgs(s, reqId, req, 'invocation exists', out);
      let prog = 0n;
      if (req.parent !== null) {
        const parent = s.invocations.get(req.parent);
        if (!parent) return badArgs(s, reqId, req, 'unknown parent invocation', out);
        if (parent.book !== req.book) return badArgs(s, reqId, req, 'a child runs in its parent\'s book', out);
        prog = parent.progress;
      }
      if (!Number.isInteger(req.book) || req.book < 0 || req.book > 0xffff_ffff) return badArgs(s, reqId, req, 'book must be a 32-bit id', out);
      assert(s.invocations.size < INVOCATIONS_MAX, 'too many open invocations');
      s.invocations.set(req.inv, { book: req.book, progress: prog });
      out.push(reply(reqId, { code: 'OK' }));
      out.push(record<OpRec>({ ev: 'op', reqId, inv: req.inv, book: req.book, req, rep: { code: 'OK' }, pin: prog, pout: prog, frontier: 0n, t0: ctx.nowUs, attemptId: null }));
      return;
    }
    case 'end':
      if (!s.invocations.delete(req.inv)) return badArgs(s, reqId, req, 'unknown invocation', out);
      out.push(reply(reqId, { code: 'OK' }));
      return;
    default:
      break;
  }
  const inv = s.invocations.get(req.inv);
  if (!inv) return badArgs(s, reqId, req, 'unknown invocation', out);
  assert(s.ops.size < OPS_MAX, 'too many operations in flight');
  switch (req.op) {
    case 'append':
    case 'condAppend': {
      const tags = dedupTags(req.tags);
      if (tags === null) return badArgs(s, reqId, req, 'tags must be in [1, 2^64-2]', out);
      if (req.data.length === 0) return badArgs(s, reqId, req, 'empty data', out);
      if (!recordFits(req.data, tags.length) || !fitsParam(s, req.data, tags.length)) return badArgs(s, reqId, req, 'record too large', out);
      if (req.op === 'condAppend') {
        if (typeof req.condTag !== 'bigint' || !validTag(req.condTag)) return badArgs(s, reqId, req, 'condTag must be in [1, 2^64-2]', out);
        if (!Number.isInteger(req.condPos) || req.condPos < 0) return badArgs(s, reqId, req, 'condPos must be a non-negative integer', out);
      }
      const cond = req.op === 'condAppend';
      return startAppend(s, reqId, req, inv, cond ? 'cond' : 'normal', tags, req.data, cond ? req.condTag : 0n, cond ? req.condPos : 0, ctx, out);
    }
    case 'overwrite':
      if (typeof req.tag !== 'bigint' || !validTag(req.tag)) return badArgs(s, reqId, req, 'tag must be in [1, 2^64-2]', out);
      if (!Number.isInteger(req.pos) || req.pos < 0) return badArgs(s, reqId, req, 'pos must be a non-negative integer', out);
      if (req.data.length === 0) return badArgs(s, reqId, req, 'empty data', out);
      if (!recordFits(req.data, 0) || !fitsParam(s, req.data, 0)) return badArgs(s, reqId, req, 'record too large', out);
      return startAppend(s, reqId, req, inv, 'overwrite', [], req.data, req.tag, req.pos, ctx, out);
    case 'readNext':
    case 'readPrev':
    case 'checkTail': {
      const tag = req.tag;
      if (typeof tag !== 'bigint' || tag < 0n || tag >= TAG_INVALID) return badArgs(s, reqId, req, 'tag must be in [0, 2^64-2]', out);
      const q = req.op === 'readNext' ? req.minSeq : req.op === 'readPrev' ? req.maxSeq : MAX_SEQNUM;
      if (typeof q !== 'bigint' || q < 0n || q > MAX_SEQNUM) return badArgs(s, reqId, req, 'seqnum out of range', out);
      const op: ReadOp = {
        k: 'read',
        reqId,
        req,
        inv: req.inv,
        book: inv.book,
        op: req.op === 'readNext' ? 'next' : 'prev',
        tag,
        q,
        blocking: req.op === 'readNext' && req.blocking === true,
        pin: inv.progress,
        t0: ctx.nowUs,
        qid: -1,
        tries: 0,
        unavailable: 0,
        hit: null,
        frontier: 0n,
        progressOut: 0n,
        fetchTries: 0,
        held: false,
      };
      s.ops.set(reqId, op);
      return startRead(s, op, ctx, out);
    }
    case 'setAuxData': {
      if (req.data.length === 0 || !recordFits(req.data, 0)) return badArgs(s, reqId, req, 'aux data must be 1..2496 bytes', out);
      if (typeof req.seqnum !== 'bigint' || req.seqnum < 0n || req.seqnum >= MAX_SEQNUM) return badArgs(s, reqId, req, 'seqnum out of range', out);
      setAux(s, req.seqnum, req.data, out);
      const rep: LogReply = { code: 'AUXDATA_OK' };
      out.push(reply(reqId, rep));
      out.push(record<OpRec>({ ev: 'op', reqId, inv: req.inv, book: inv.book, req, rep, pin: inv.progress, pout: inv.progress, frontier: 0n, t0: ctx.nowUs, attemptId: null }));
      return;
    }
    case 'trim': {
      if (typeof req.uptoSeq !== 'bigint' || req.uptoSeq < 0n || req.uptoSeq > MAX_SEQNUM) return badArgs(s, reqId, req, 'seqnum out of range', out);
      if (s.cfg.variant === 'trim-unimplemented') {
        out.push(fatal(`${s.self}: trim is NOT_IMPLEMENTED`));
        return;
      }
      const op: TrimOp = { k: 'trim', reqId, req, inv: req.inv, book: inv.book, trimSeq: req.uptoSeq, pin: inv.progress, t0: ctx.nowUs, tries: 0, tid: '', ls: -1, phase: 'backoff' };
      s.ops.set(reqId, op);
      return startTrim(s, op, ctx, out);
    }
    default:
      assertNever(req, 'log request');
  }
}

function fitsParam(s: EngineState, data: string, tags: number): boolean {
  // Cheap bound first: UTF-8 takes at least one byte per UTF-16 unit.
  return data.length + 8 * tags <= s.cfg.p.maxRecordBytes || recordFits(data, tags);
}

function finishOp(s: EngineState, op: Op, rep: LogReply, frontier: bigint, attemptId: string | null, ctx: Ctx, out: Eff[]): void {
  s.ops.delete(op.reqId);
  out.push({ type: 'cancelTimer', timer: `op:${op.reqId}` });
  out.push(reply(op.reqId, rep));
  const inv = s.invocations.get(op.inv);
  out.push(record<OpRec>({ ev: 'op', reqId: op.reqId, inv: op.inv, book: op.book, req: op.req, rep, pin: op.pin, pout: inv ? inv.progress : op.pin, frontier, t0: op.t0, attemptId }));
  void ctx;
}

function bumpProgress(s: EngineState, invId: string, p: bigint): void {
  const inv = s.invocations.get(invId);
  if (inv && p > inv.progress) inv.progress = p;
}

// ---------------------------------------------------------------------------------------------
// Appends

function startAppend(s: EngineState, reqId: string, req: LogRequest, inv: Invocation, recKind: Kind, tags: readonly bigint[], data: string, condTag: bigint, condPos: number, ctx: Ctx, out: Eff[]): void {
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
function attempt(s: EngineState, op: AppendOp, ctx: Ctx, out: Eff[]): void {
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
function discarded(s: EngineState, op: AppendOp, ctx: Ctx, out: Eff[]): void {
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

function onOpTimer(s: EngineState, op: Op, ctx: Ctx, out: Eff[]): void {
  switch (op.k) {
    case 'append':
      if (op.phase === 'backoff') return attempt(s, op, ctx, out);
      if (op.phase === 'deciding') return requestDecision(s, op, ctx, out);
      return;
    case 'read':
      return readTimeout(s, op, ctx, out);
    case 'trim':
      if (op.phase === 'backoff') return startTrim(s, op, ctx, out);
      return sendTrim(s, op, ctx, out);
    default:
      assertNever(op, 'op');
  }
}

/** Lite consumer (spec §4.2 step 10): apply an entry once its shard start equals `applied`. */
function producerOffer(s: EngineState, p: Producer, e: MetaEntry, ctx: Ctx, out: Eff[]): void {
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

/** Spec §5.3 issuer notification: decide locally if this engine indexes the log, else ask. */
function requestDecision(s: EngineState, op: AppendOp, ctx: Ctx, out: Eff[]): void {
  const ix = hasIndex(s, op.ls);
  if (ix) {
    const d = ix.decisions.get(op.pos);
    if (d) return decisionDone(s, op, d, progress(op.ls, Math.max(ix.indexedMeta, op.orderK + 1)), ctx, out);
    addDecWaiter(s, op.ls, op.pos, { k: 'local', reqId: op.reqId });
    return;
  }
  const to = pickIndexReplica(s, op.ls, op.decTries++);
  if (to === null) return; // no replica known: the op timer retries
  const qid = ++s.nextQid;
  op.decQid = qid;
  s.queries.set(qid, op.reqId);
  out.push(send(to, { type: 'decisionQuery', qid, ls: op.ls, pos: op.pos }));
  out.push(setTimer(`op:${op.reqId}`, s.cfg.p.readTimeoutMs * 1000));
}

function addDecWaiter(s: EngineState, ls: number, pos: number, w: DecWaiter): void {
  const key = `${ls}:${pos}`;
  let l = s.decWaiters.get(key);
  if (!l) s.decWaiters.set(key, (l = []));
  l.push(w);
}

function decisionDone(s: EngineState, op: AppendOp, d: Decision, prog: bigint, ctx: Ctx, out: Eff[]): void {
  if (op.phase !== 'deciding') return;
  s.queries.delete(op.decQid);
  bumpProgress(s, op.inv, prog);
  if (s.cfg.variant !== 'bug-no-progress') bumpProgress(s, op.inv, progress(op.ls, op.orderK + 1));
  out.push(record<AttemptEndRec>({ ev: 'attemptEnd', attemptId: op.attemptId, code: d.ok ? 'APPEND_OK' : 'COND_FAILED', ls: op.ls, pos: op.pos }));
  const rep: LogReply = d.ok ? { code: 'APPEND_OK', seqnum: d.target } : { code: 'COND_FAILED' };
  finishOp(s, op, rep, 0n, op.attemptId, ctx, out);
}

function onDecisionQuery(s: EngineState, from: string, m: DecisionQuery, out: Eff[]): void {
  const ix = hasIndex(s, m.ls);
  if (!ix) {
    out.push(send(from, { type: 'decisionResult', qid: m.qid, ls: m.ls, pos: m.pos, status: 'unavailable', ok: false, target: TAG_INVALID, progressOut: 0n }));
    return;
  }
  const d = ix.decisions.get(m.pos);
  if (d) {
    out.push(send(from, { type: 'decisionResult', qid: m.qid, ls: m.ls, pos: m.pos, status: 'decided', ok: d.ok, target: d.target, progressOut: progress(ix.ls, ix.indexedMeta) }));
    return;
  }
  addDecWaiter(s, m.ls, m.pos, { k: 'remote', to: from, qid: m.qid });
}

/** The index hook: a cond/overwrite row was decided here. */
function onDecided(s: EngineState, ix: LogIndex, pos: number, d: Decision, ctx: Ctx, out: Eff[]): void {
  const key = `${ix.ls}:${pos}`;
  const ws = s.decWaiters.get(key);
  if (!ws) return;
  s.decWaiters.delete(key);
  for (const w of ws) {
    if (w.k === 'remote') {
      out.push(send(w.to, { type: 'decisionResult', qid: w.qid, ls: ix.ls, pos, status: 'decided', ok: d.ok, target: d.target, progressOut: progress(ix.ls, ix.indexedMeta) }));
      continue;
    }
    const op = s.ops.get(w.reqId);
    if (op && op.k === 'append' && op.ls === ix.ls && op.pos === pos) decisionDone(s, op, d, 0n, ctx, out);
  }
}

// ---------------------------------------------------------------------------------------------
// Restart recovery within a view (spec §9.3)

/**
 * Makes every replica of the shard hold the same record at every counter some replica holds, and
 * resumes the counter above all of them (spec §9.3, steps 2-4).
 *
 * Deviation from the spec's step 3, which fills every counter some replica lacks with a filler
 * that *replaces* pending entries: a replica that already holds the real record may have counted
 * it in a progress report, so once the lacking replicas receive their fillers the cut covers the
 * counter while the filler meant to replace the real record may still be in flight (or lost), and
 * replicas order different records at one seqnum. Relaying the real record, taken from a replica
 * that holds it, to the replicas that lack it cannot diverge; fillers remain only for counters no
 * replica holds. Both are resent like pending appends until ordered (a lost copy would stall the
 * shard), under the new incarnation so storages accept them.
 */
function repairShard(s: EngineState, p: Producer, all: readonly ShardRecoverAck[], relay: boolean, ctx: Ctx, out: Eff[]): void {
  let hi = -1;
  const byCounter = new Map<number, Replicate>();
  for (const a of all) {
    hi = Math.max(hi, a.progress - 1);
    for (const r of a.records) {
      hi = Math.max(hi, r.counter);
      if (!byCounter.has(r.counter)) byCounter.set(r.counter, r);
    }
  }
  const lo = Math.min(...all.map((a) => a.progress));
  for (let c = lo; relay && c <= hi; c++) {
    const lacking = all.some((a) => c >= a.progress && !a.held.includes(c));
    if (!lacking) continue;
    const real = byCounter.get(c);
    const rec: Replicate = real
      ? { ...real, incarnation: s.incarnation }
      : { type: 'replicate', ls: p.ls, engine: s.num, counter: c, incarnation: s.incarnation, book: 0, tags: [], data: '', kind: 'filler', condTag: 0n, condPos: 0, attemptId: `${s.self}:${s.incarnation}:filler:${c}` };
    for (const st of p.storages) out.push(send(st, rec));
    p.pending.set(c, { reqId: '', rec, sentUs: ctx.nowUs, resendUs: s.cfg.p.repairIntervalMs * 1000 });
  }
  p.counter = hi + 1;
}

function startRecovery(s: EngineState, p: Producer, ctx: Ctx, out: Eff[]): void {
  p.recovering = new Map(p.storages.map((st) => [st, null]));
  sendRecover(s, p, ctx, out);
}

function sendRecover(s: EngineState, p: Producer, ctx: Ctx, out: Eff[]): void {
  p.recoverSentUs = ctx.nowUs;
  for (const [st, ack] of p.recovering!) if (ack === null) out.push(send(st, { type: 'shardRecover', ls: p.ls, engine: s.num, incarnation: s.incarnation }));
  armRepair(s, out);
}

function onRecoverAck(s: EngineState, from: string, m: ShardRecoverAck, ctx: Ctx, out: Eff[]): void {
  const p = s.producers.get(m.ls);
  if (!p || p.recovering === null || m.incarnation !== s.incarnation || !p.recovering.has(from)) return;
  p.recovering.set(from, m);
  const acks = [...p.recovering.values()];
  if (acks.some((a) => a === null)) return;
  const all = acks as ShardRecoverAck[];
  // Even when the view is already finalized somewhere, the counter must resume above every
  // counter held: a replay of the metalog would otherwise complete new appends with old records.
  repairShard(s, p, all, !all.some((a) => a.finalized), ctx, out);
  p.recovering = null;
  // Replay the committed metalog in lite mode to learn this shard's applied position.
  requestCatchup(s, p.ls, [p.info.primary], 0, ctx, out);
  const held = p.held;
  p.held = [];
  for (const reqId of held) {
    const op = s.ops.get(reqId);
    if (op && op.k === 'append') attempt(s, op, ctx, out);
  }
}

// ---------------------------------------------------------------------------------------------
// Finalize (spec §6.1 step 4)

function finalizeProducer(s: EngineState, p: Producer, fl: FinalLog, ctx: Ctx, out: Eff[]): void {
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

function finalizeIndex(s: EngineState, ix: LogIndex, fl: FinalLog, ctx: Ctx, out: Eff[]): void {
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

function finalizeTrims(s: EngineState, viewId: number, logs: readonly FinalLog[], ctx: Ctx, out: Eff[]): void {
  for (const op of [...s.ops.values()]) {
    if (op.k !== 'trim' || op.phase !== 'sent' || logspaceView(op.ls) !== viewId) continue;
    const fl = logs.find((l) => l.ls === op.ls);
    const done = fl?.tail.some((e) => e.kind === 'trim' && e.tid === op.tid);
    if (done) trimDone(s, op, 'TRIM_OK', progress(op.ls, fl!.finalPos), ctx, out);
    else trimDiscarded(s, op, ctx, out);
  }
}

// ---------------------------------------------------------------------------------------------
// Metalog consumption

function onMetaEntries(s: EngineState, ls: number, entries: readonly MetaEntry[], ctx: Ctx, out: Eff[]): void {
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

function onCatchupResp(s: EngineState, from: string, m: CatchupResp, ctx: Ctx, out: Eff[]): void {
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

function requestCatchup(s: EngineState, ls: number, to: readonly string[], from: number, ctx: Ctx, out: Eff[]): void {
  const p = s.producers.get(ls);
  if (p) p.catchupSentUs = ctx.nowUs;
  const ix = s.indexes.get(ls);
  if (ix) ix.catchupSentUs = ctx.nowUs;
  for (const n of to) if (n !== s.self) out.push(send(n, { type: 'catchupReq', ls, from }));
}

// ---------------------------------------------------------------------------------------------
// The index: advancement, cross-view lookups, serving queries

/**
 * The index hooks, built once: they act on the engine step in progress, held in `cur` for the
 * duration of a synchronous `advance` call (steps never interleave), which spares a closure
 * allocation per advance on the hottest path of the engine.
 */
const cur: { s: EngineState | null; ctx: Ctx | null; out: Eff[] | null } = { s: null, ctx: null, out: null };

const HOOKS_CANONICAL: IndexHooks = makeHooks(false, false);
const HOOKS_COND_GE: IndexHooks = makeHooks(true, false);
const HOOKS_GAPPED: IndexHooks = makeHooks(false, true);

function makeHooks(condGe: boolean, gappedCrash: boolean): IndexHooks {
  return {
    base: (ix, book, tag) => {
      const b = baseFor(cur.s!, ix, book, tag, { k: 'advance', ls: ix.ls }, cur.ctx!, cur.out!);
      if (b === undefined) ix.blockedOn = `count ${book} ${tag}`;
      return b;
    },
    seek: (ix, book, tag, pos) => {
      const s = cur.s!;
      const L = ensureLookup(s, 'seek', prevLogOf(s, ix.viewId, book), book, tag, pos, cur.ctx!, cur.out!);
      if (L.done) return L.hit;
      addLookupWaiter(L, { k: 'advance', ls: ix.ls });
      ix.blockedOn = L.key;
      return undefined;
    },
    condGe,
    gappedCrash,
    crash: (reason) => cur.out!.push(fatal(`${cur.s!.self}: ${reason}`)),
    decided: (ix, pos, d) => onDecided(cur.s!, ix, pos, d, cur.ctx!, cur.out!),
  };
}

function advanceWithHooks(s: EngineState, ix: LogIndex, ctx: Ctx, out: Eff[]): boolean {
  const saved = { s: cur.s, ctx: cur.ctx, out: cur.out };
  cur.s = s;
  cur.ctx = ctx;
  cur.out = out;
  ix.blockedOn = null;
  try {
    const v = s.cfg.variant;
    return advance(ix, v === 'bug-cond-ge' ? HOOKS_COND_GE : v === 'gapped-condpos-crash' ? HOOKS_GAPPED : HOOKS_CANONICAL);
  } finally {
    cur.s = saved.s;
    cur.ctx = saved.ctx;
    cur.out = saved.out;
  }
}

function indexAdvance(s: EngineState, ix: LogIndex, ctx: Ctx, out: Eff[]): void {
  const moved = advanceWithHooks(s, ix, ctx, out);
  if (!moved && !ix.finalized) return;
  if (ix.parked.length > 0) reserveParked(s, ix, ctx, out);
  const waiting = s.lookupsOn.get(ix.ls);
  if (waiting && complete(ix)) {
    s.lookupsOn.delete(ix.ls);
    for (const key of waiting) {
      const L = s.lookups.get(key);
      if (L && !L.done) resolveLookup(s, L, ctx, out);
    }
  }
}

function prevLogOf(s: EngineState, viewId: number, book: number): number {
  assert(viewId > 0, 'view 0 has no predecessor');
  return logOfBook(s.views.infos[viewId - 1]!, book).ls;
}

/** Visible length of stream(book, tag) in views before ix's, memoised; undefined while pending. */
function baseFor(s: EngineState, ix: LogIndex, book: number, tag: bigint, w: LookupWaiter, ctx: Ctx, out: Eff[]): number | undefined {
  if (ix.viewId === 0) return 0;
  const b = bookIdx(ix, book);
  const memo = b.base.get(tag);
  if (memo !== undefined) return memo;
  const L = ensureLookup(s, 'count', prevLogOf(s, ix.viewId, book), book, tag, 0, ctx, out);
  if (L.done) {
    b.base.set(tag, L.count);
    return L.count;
  }
  addLookupWaiter(L, w);
  return undefined;
}

function addLookupWaiter(L: Lookup, w: LookupWaiter): void {
  for (const x of L.waiters) {
    if (x.k === 'advance' && w.k === 'advance' && x.ls === w.ls) return;
    if (x.k === 'lookup' && w.k === 'lookup' && x.key === w.key) return;
  }
  L.waiters.push(w);
}

function ensureLookup(s: EngineState, op: 'count' | 'seek', ls: number, book: number, tag: bigint, pos: number, ctx: Ctx, out: Eff[]): Lookup {
  const key = `${op}|${ls}|${book}|${tag}|${op === 'seek' ? pos : 0}`;
  let L = s.lookups.get(key);
  if (L) return L;
  L = { key, op, ls, book, tag, pos, done: false, count: 0, hit: null, waiters: [], sid: -1, sentUs: -1, tries: 0 };
  s.lookups.set(key, L);
  resolveLookup(s, L, ctx, out);
  return L;
}

/** Answers a lookup from a local complete index, recursing to older views, or asks a replica. */
function resolveLookup(s: EngineState, L: Lookup, ctx: Ctx, out: Eff[]): void {
  if (L.done) return;
  const ix = hasIndex(s, L.ls);
  if (!ix) return askRemote(s, L, ctx, out);
  if (!complete(ix)) {
    let l = s.lookupsOn.get(ix.ls);
    if (!l) s.lookupsOn.set(ix.ls, (l = []));
    if (!l.includes(L.key)) l.push(L.key);
    armRepair(s, out);
    return;
  }
  const base = baseFor(s, ix, L.book, L.tag, { k: 'lookup', key: L.key }, ctx, out);
  if (base === undefined) return;
  const b = ix.books.get(L.book);
  const list = b ? streamList(b, L.tag) : [];
  if (L.op === 'count') return lookupDone(s, L, base + list.length, null, ctx, out);
  if (L.pos >= base) {
    const i = L.pos - base;
    return lookupDone(s, L, 0, i < list.length ? makeHit(ix, list[i]!, []) : null, ctx, out);
  }
  const sub = ensureLookup(s, 'seek', prevLogOf(s, ix.viewId, L.book), L.book, L.tag, L.pos, ctx, out);
  if (sub.done) return lookupDone(s, L, 0, sub.hit, ctx, out);
  addLookupWaiter(sub, { k: 'lookup', key: L.key });
}

function askRemote(s: EngineState, L: Lookup, ctx: Ctx, out: Eff[]): void {
  const to = pickIndexReplica(s, L.ls, L.tries++);
  L.sentUs = ctx.nowUs;
  armRepair(s, out);
  if (to === null) return;
  if (L.sid >= 0) s.lookupBySid.delete(L.sid);
  L.sid = ++s.nextSid;
  s.lookupBySid.set(L.sid, L.key);
  out.push(send(to, { type: 'streamInfo', sid: L.sid, op: L.op, ls: L.ls, book: L.book, tag: L.tag, pos: L.pos }));
}

function lookupDone(s: EngineState, L: Lookup, count: number, hit: Hit | null, ctx: Ctx, out: Eff[]): void {
  L.done = true;
  L.count = count;
  L.hit = hit;
  if (L.sid >= 0) s.lookupBySid.delete(L.sid);
  const ws = L.waiters;
  L.waiters = [];
  for (const w of ws) {
    if (w.k === 'reply') out.push(send(w.to, { type: 'streamInfoResp', sid: w.sid, status: 'ok', count, target: hit }));
    else if (w.k === 'lookup') {
      const parent = s.lookups.get(w.key);
      if (parent && !parent.done) resolveLookup(s, parent, ctx, out);
    } else {
      const ix = s.indexes.get(w.ls);
      if (ix) indexAdvance(s, ix, ctx, out);
    }
  }
}

function onStreamInfo(s: EngineState, from: string, m: StreamInfo, ctx: Ctx, out: Eff[]): void {
  if (!hasIndex(s, m.ls)) {
    out.push(send(from, { type: 'streamInfoResp', sid: m.sid, status: 'unavailable', count: 0, target: null }));
    return;
  }
  const L = ensureLookup(s, m.op, m.ls, m.book, m.tag, m.pos, ctx, out);
  if (L.done) out.push(send(from, { type: 'streamInfoResp', sid: m.sid, status: 'ok', count: L.count, target: L.hit }));
  else L.waiters.push({ k: 'reply', to: from, sid: m.sid });
}

function onStreamInfoResp(s: EngineState, from: string, m: StreamInfoResp, ctx: Ctx, out: Eff[]): void {
  const key = s.lookupBySid.get(m.sid);
  if (key === undefined) return;
  const L = s.lookups.get(key);
  if (!L || L.done) return;
  if (m.status === 'unavailable') {
    peerLost(s, L.ls, from);
    return askRemote(s, L, ctx, out);
  }
  lookupDone(s, L, m.count, m.target, ctx, out);
}

/** Serves an index query here (spec §5.4 steps 2-7). */
function serveQuery(s: EngineState, q: IndexQuery, remote: boolean, ctx: Ctx, out: Eff[]): void {
  const ix = hasIndex(s, q.ls);
  if (!ix) return sendResult(s, q.origin, { type: 'indexResult', qid: q.qid, status: 'unavailable', lostLs: s.lostIndexes.has(q.ls) ? q.ls : -1, hit: null, frontier: 0n, progressOut: 0n }, ctx, out);
  if (!admitted(s, ix, q, remote, out)) return park(s, ix, { q, remote, deadlineUs: -1 }, out);
  let qq = q;
  if (q.initial) qq = { ...q, frontier: seqOf(ix.ls, indexedEnd(ix)), progressOut: progress(ix.ls, ix.indexedMeta) };
  const r = evaluate(ix, qq);
  switch (r.k) {
    case 'answer':
      return sendResult(s, q.origin, { type: 'indexResult', qid: q.qid, status: r.hit ? 'found' : 'empty', lostLs: -1, hit: r.hit, frontier: qq.frontier, progressOut: qq.progressOut }, ctx, out);
    case 'blockMiss':
      return park(s, ix, { q, remote, deadlineUs: ctx.nowUs + s.cfg.p.blockingReadTimeoutMs * 1000 }, out, ctx);
    case 'continue': {
      const prevLs = prevLogOf(s, ix.viewId, q.book);
      const next: IndexQuery = { ...qq, ls: prevLs, initial: false, blocking: false, best: r.best, trimSeq: r.trim, redirects: r.redirects };
      if (hasIndex(s, prevLs)) return serveQuery(s, next, false, ctx, out);
      const to = pickIndexReplica(s, prevLs, q.qid);
      if (to === null) return sendResult(s, q.origin, { type: 'indexResult', qid: q.qid, status: 'unavailable', lostLs: -1, hit: null, frontier: 0n, progressOut: 0n }, ctx, out);
      out.push(send(to, next));
      return;
    }
    default:
      assertNever(r, 'evaluation');
  }
}

/** Admission (spec §5.4 steps 2-3), with Halfmoon's readPrev wait for coverage. */
function admitted(s: EngineState, ix: LogIndex, q: IndexQuery, remote: boolean, out: Eff[]): boolean {
  const asInitial = q.initial || (remote && s.cfg.variant === 'continuation-flag');
  if (asInitial) {
    const p = q.progress;
    if (p !== 0n) {
      const pls = progressLogspace(p);
      const pv = logspaceView(pls);
      if (pv === ix.viewId) {
        if (pls === ix.ls && progressPos(p) > ix.indexedMeta) return false;
      } else if (pv > ix.viewId) {
        if (!q.initial) {
          // The published remote index takes a continuation for an initial query.
          out.push(fatal(`${s.self}: index query with progress from the future (view ${pv} at a view-${ix.viewId} index)`));
          return false;
        }
        if (!complete(ix)) return false;
      }
    }
  } else if (!complete(ix)) return false;
  if (q.op === 'prev' && !complete(ix)) {
    // Halfmoon: readPrev waits until the index covers maxSeq, so its answer is final.
    if (q.q >= seqOf(ix.ls, indexedEnd(ix)) && q.q < seqOf(ix.ls + 1, 0)) return false;
  }
  return true;
}

function park(s: EngineState, ix: LogIndex, pq: ParkedQuery, out: Eff[], ctx?: Ctx): void {
  if (ix.parked.length >= PARKED_MAX) {
    sendResult(s, pq.q.origin, { type: 'indexResult', qid: pq.q.qid, status: 'unavailable', lostLs: -1, hit: null, frontier: 0n, progressOut: 0n }, ctx!, out);
    return;
  }
  ix.parked.push(pq);
  armRepair(s, out);
  if (pq.deadlineUs >= 0 && ctx && s.cfg.variant !== 'lazy-blocking-timeout') armBlock(s, pq.deadlineUs, ctx, out);
}

/** Re-runs parked queries after the index moved (spec §5.2 "after each advance"). */
function reserveParked(s: EngineState, ix: LogIndex, ctx: Ctx, out: Eff[]): void {
  const parked = ix.parked;
  ix.parked = [];
  const hang = s.cfg.variant === 'readprev-pending-hang';
  let work = 0;
  let i = 0;
  while (i < parked.length) {
    assert(++work < PARKED_LOOP_MAX, `${s.self}: per-step work bound exceeded re-examining parked index queries`);
    const pq = parked[i]!;
    if (pq.deadlineUs >= 0) {
      // A parked blocking read: re-evaluate; expire lazily under the published behaviour.
      if (hang || s.cfg.variant === 'lazy-blocking-timeout') {
        if (ctx.nowUs >= pq.deadlineUs) {
          answerEmpty(s, ix, pq.q, ctx, out);
          i++;
          continue;
        }
      }
      const r = evaluate(ix, { ...pq.q, frontier: seqOf(ix.ls, indexedEnd(ix)), progressOut: progress(ix.ls, ix.indexedMeta) });
      if (r.k === 'blockMiss') ix.parked.push(pq);
      else serveQuery(s, { ...pq.q, blocking: false }, pq.remote, ctx, out);
      i++;
      continue;
    }
    if (hang && pq.q.op === 'prev' && !admitted(s, ix, pq.q, pq.remote, out)) {
      // The published loop over parked readPrev queries neither advances nor erases: it spins.
      continue;
    }
    if (admitted(s, ix, pq.q, pq.remote, out)) serveQuery(s, pq.q, pq.remote, ctx, out);
    else ix.parked.push(pq);
    i++;
  }
}

function answerEmpty(s: EngineState, ix: LogIndex, q: IndexQuery, ctx: Ctx, out: Eff[]): void {
  sendResult(s, q.origin, { type: 'indexResult', qid: q.qid, status: 'empty', lostLs: -1, hit: null, frontier: seqOf(ix.ls, indexedEnd(ix)), progressOut: progress(ix.ls, ix.indexedMeta) }, ctx, out);
}

function armBlock(s: EngineState, deadlineUs: number, ctx: Ctx, out: Eff[]): void {
  if (s.blockArmedUs >= 0 && s.blockArmedUs <= deadlineUs) return;
  s.blockArmedUs = deadlineUs;
  out.push(setTimer('block', Math.max(1, deadlineUs - ctx.nowUs)));
}

function expireBlocking(s: EngineState, ctx: Ctx, out: Eff[]): void {
  s.blockArmedUs = -1;
  let next = Infinity;
  for (const ix of s.indexes.values()) {
    if (ix.parked.length === 0) continue;
    const keep: ParkedQuery[] = [];
    for (const pq of ix.parked) {
      if (pq.deadlineUs >= 0 && ctx.nowUs >= pq.deadlineUs) answerEmpty(s, ix, pq.q, ctx, out);
      else {
        keep.push(pq);
        if (pq.deadlineUs >= 0) next = Math.min(next, pq.deadlineUs);
      }
    }
    ix.parked = keep;
  }
  if (next !== Infinity) armBlock(s, next, ctx, out);
}

function sendResult(s: EngineState, origin: string, res: IndexResult, ctx: Ctx, out: Eff[]): void {
  if (origin === s.self) onIndexResult(s, res, ctx, out);
  else out.push(send(origin, res));
}

/** An index replica of `ls` to ask, round-robin from `salt`, preferring engines of the current view. */
function pickIndexReplica(s: EngineState, ls: number, salt: number): string | null {
  const vi = s.views.infos[logspaceView(ls)];
  if (!vi) return null;
  const info = vi.logBySeqNum.get(ls % 0x1_0000);
  if (!info) return null;
  const cur = curView(s);
  const lost = s.lostPeers.get(ls);
  const ok = (e: string) => e !== s.self && (lost === undefined || !lost.has(e));
  const live = info.indexEngines.filter((e) => ok(e) && (!cur || cur.enginePos.has(e)));
  const pool = live.length > 0 ? live : info.indexEngines.filter(ok);
  if (pool.length === 0) return null;
  void salt;
  return pool[s.rr++ % pool.length]!;
}

/** A peer answered that it lost its index of `ls` (it restarted): never ask it again. */
function peerLost(s: EngineState, ls: number, peer: string): void {
  let set = s.lostPeers.get(ls);
  if (!set) s.lostPeers.set(ls, (set = new Set()));
  set.add(peer);
}

// ---------------------------------------------------------------------------------------------
// Reads (origin side)

function startRead(s: EngineState, op: ReadOp, ctx: Ctx, out: Eff[]): void {
  const inv = s.invocations.get(op.inv);
  const pv = inv && inv.progress !== 0n ? logspaceView(progressLogspace(inv.progress)) : 0;
  if (s.views.current < 0 || pv > s.views.current) {
    op.held = true;
    s.heldOps.push(op.reqId);
    return;
  }
  op.held = false;
  const vi = curView(s)!;
  const log = logOfBook(vi, op.book);
  if (op.qid >= 0) s.queries.delete(op.qid);
  op.qid = ++s.nextQid;
  s.queries.set(op.qid, op.reqId);
  op.hit = null;
  op.fetchTries = 0;
  const q: IndexQuery = {
    type: 'indexQuery',
    qid: op.qid,
    origin: s.self,
    op: op.op,
    blocking: op.blocking,
    ls: log.ls,
    book: op.book,
    tag: op.tag,
    q: op.q,
    progress: inv ? inv.progress : 0n,
    initial: true,
    best: null,
    trimSeq: 0n,
    redirects: [],
    frontier: 0n,
    progressOut: 0n,
    issuedUs: ctx.nowUs,
  };
  if (s.cfg.variant !== 'read-no-timeout') {
    const ms = s.cfg.p.readTimeoutMs + (op.blocking ? s.cfg.p.blockingReadTimeoutMs : 0);
    out.push(setTimer(`op:${op.reqId}`, ms * 1000));
  }
  let local = hasIndex(s, log.ls) !== null && !s.cfg.p.forceRemoteIndex;
  if (local && s.cfg.p.probRemoteIndex > 0 && ctx.maybe('remoteIndex', s.cfg.p.probRemoteIndex)) local = false;
  if (local) return serveQuery(s, q, false, ctx, out);
  const to = pickIndexReplica(s, log.ls, op.tries + op.unavailable);
  if (to === null) {
    if (hasIndex(s, log.ls)) return serveQuery(s, q, false, ctx, out);
    return; // nobody to ask: the read timer retries
  }
  out.push(send(to, q));
}

function readTimeout(s: EngineState, op: ReadOp, ctx: Ctx, out: Eff[]): void {
  if (op.held) return;
  if (op.tries >= s.cfg.p.readRetries) return finishRead(s, op, { code: 'DATA_LOST' }, ctx, out);
  op.tries++;
  startRead(s, op, ctx, out);
}

function onIndexResult(s: EngineState, res: IndexResult, ctx: Ctx, out: Eff[]): void {
  const reqId = s.queries.get(res.qid);
  if (reqId === undefined) return;
  const op = s.ops.get(reqId);
  if (!op || op.k !== 'read' || op.qid !== res.qid || op.hit !== null) return;
  if (res.status === 'unavailable') {
    // A replica that lost its index: route around it at once, a bounded number of times.
    op.unavailable++;
    if (op.unavailable > 2 * (curView(s)?.view.engines.length ?? 1)) return;
    s.queries.delete(op.qid);
    op.qid = -1;
    return startRead(s, op, ctx, out);
  }
  op.frontier = res.frontier;
  op.progressOut = res.progressOut;
  if (res.status === 'empty') {
    bumpProgress(s, op.inv, res.progressOut);
    return finishRead(s, op, { code: 'EMPTY' }, ctx, out);
  }
  op.hit = res.hit!;
  fetchBody(s, op, ctx, out);
}

function fetchBody(s: EngineState, op: ReadOp, ctx: Ctx, out: Eff[]): void {
  const h = op.hit!;
  const bodySeq = seqOf(h.bodyLs, h.bodyPos);
  const cached = cacheGet(s, bodySeq);
  if (cached) return readDone(s, op, cached, null, ctx, out);
  const vi = s.views.infos[logspaceView(h.bodyLs)]!;
  const epos = vi.enginePosByNum.get(h.bodyEngine)!;
  const stores = vi.storagesOfEngine[epos]!;
  const to = stores[(op.qid + op.fetchTries) % stores.length]!;
  out.push(send(to, { type: 'readAt', qid: op.qid, ls: h.bodyLs, pos: h.bodyPos }));
}

function onReadAtResult(s: EngineState, m: ReadAtResult, ctx: Ctx, out: Eff[]): void {
  const reqId = s.queries.get(m.qid);
  if (reqId === undefined) return;
  const op = s.ops.get(reqId);
  if (!op || op.k !== 'read' || op.qid !== m.qid || op.hit === null) return;
  if (m.rec === null) {
    op.fetchTries++;
    const vi = s.views.infos[logspaceView(m.ls)]!;
    if (op.fetchTries >= vi.view.userlogReplicas) return finishRead(s, op, { code: 'DATA_LOST' }, ctx, out);
    return fetchBody(s, op, ctx, out);
  }
  cachePut(s, seqOf(m.ls, m.pos), m.rec);
  readDone(s, op, m.rec, m.aux, ctx, out);
}

function readDone(s: EngineState, op: ReadOp, body: Replicate, aux: string | null, ctx: Ctx, out: Eff[]): void {
  const h = op.hit!;
  const seqnum = seqOf(h.ls, h.pos);
  bumpProgress(s, op.inv, op.progressOut);
  const auxData = s.aux.get(seqnum) ?? aux;
  finishRead(s, op, { code: 'READ_OK', record: { book: h.book, seqnum, localid: localid(h.engine, h.counter), tags: h.tags, data: body.data, auxData } }, ctx, out);
}

function finishRead(s: EngineState, op: ReadOp, rep: LogReply, ctx: Ctx, out: Eff[]): void {
  s.queries.delete(op.qid);
  finishOp(s, op, rep, op.frontier, null, ctx, out);
}

// ---------------------------------------------------------------------------------------------
// Aux data and trim

function setAux(s: EngineState, seqnum: bigint, data: string, out: Eff[]): void {
  s.aux.delete(seqnum);
  s.aux.set(seqnum, data);
  if (s.aux.size > s.cfg.p.engineCacheEntries) s.aux.delete(s.aux.keys().next().value!);
  if (!s.cfg.p.propagateAuxData) return;
  const rec = s.cache.get(seqnum);
  if (!rec) return;
  const vi = s.views.infos[seqView(seqnum)];
  const epos = vi?.enginePosByNum.get(rec.engine);
  if (!vi || epos === undefined) return;
  const msg = { type: 'setAux' as const, ls: seqLogspace(seqnum), pos: seqPos(seqnum), data };
  for (const st of vi.storagesOfEngine[epos]!) out.push(send(st, msg));
}

function startTrim(s: EngineState, op: TrimOp, ctx: Ctx, out: Eff[]): void {
  if (s.views.current < 0) {
    s.heldOps.push(op.reqId);
    return;
  }
  const vi = curView(s)!;
  if (s.views.frozen >= vi.view.viewId) return trimDiscarded(s, op, ctx, out);
  const log = logOfBook(vi, op.book);
  op.ls = log.ls;
  op.tid = `${s.self}#${op.reqId}#${op.tries}`;
  s.trims.set(op.tid, op.reqId);
  op.phase = 'sent';
  sendTrim(s, op, ctx, out);
}

function sendTrim(s: EngineState, op: TrimOp, ctx: Ctx, out: Eff[]): void {
  const vi = s.views.infos[logspaceView(op.ls)]!;
  const log = vi.logBySeqNum.get(op.ls % 0x1_0000)!;
  out.push(send(log.primary, { type: 'trimReq', tid: op.tid, ls: op.ls, book: op.book, trimSeq: op.trimSeq }));
  out.push(setTimer(`op:${op.reqId}`, s.cfg.p.readTimeoutMs * 1000));
  void ctx;
}

function onTrimResp(s: EngineState, tid: string, code: 'TRIM_OK' | 'TRIM_FAILED' | 'DISCARDED', prog: bigint, ctx: Ctx, out: Eff[]): void {
  const reqId = s.trims.get(tid);
  if (reqId === undefined) return;
  const op = s.ops.get(reqId);
  if (!op || op.k !== 'trim' || op.tid !== tid || op.phase !== 'sent') return;
  if (code === 'DISCARDED') return trimDiscarded(s, op, ctx, out);
  trimDone(s, op, code, prog, ctx, out);
}

function trimDone(s: EngineState, op: TrimOp, code: 'TRIM_OK' | 'TRIM_FAILED', prog: bigint, ctx: Ctx, out: Eff[]): void {
  s.trims.delete(op.tid);
  if (code === 'TRIM_OK') bumpProgress(s, op.inv, prog);
  finishOp(s, op, { code }, 0n, null, ctx, out);
}

function trimDiscarded(s: EngineState, op: TrimOp, ctx: Ctx, out: Eff[]): void {
  s.trims.delete(op.tid);
  if (op.tries >= s.cfg.p.appendRetries) return finishOp(s, op, { code: 'DISCARDED' }, 0n, null, ctx, out);
  const delayMs = s.cfg.p.appendRetryBaseMs * 2 ** op.tries;
  op.tries++;
  op.phase = 'backoff';
  out.push(setTimer(`op:${op.reqId}`, Math.max(1, delayMs * 1000)));
}

// ---------------------------------------------------------------------------------------------
// Messages

function onMessage(s: EngineState, from: string, m: BokiMessage, ctx: Ctx, out: Eff[]): void {
  switch (m.type) {
    case 'metaLogs':
      if (m.committed) onMetaEntries(s, m.ls, m.entries, ctx, out);
      return;
    case 'catchupResp':
      return onCatchupResp(s, from, m, ctx, out);
    case 'indexData': {
      const ix = s.indexes.get(m.ls);
      if (!ix) return;
      offerRows(ix, m.rows);
      return indexAdvance(s, ix, ctx, out);
    }
    case 'indexQuery':
      return serveQuery(s, m, true, ctx, out);
    case 'indexResult':
      if (m.status === 'unavailable' && m.lostLs >= 0) peerLost(s, m.lostLs, from);
      return onIndexResult(s, m, ctx, out);
    case 'readAtResult':
      return onReadAtResult(s, m, ctx, out);
    case 'decisionQuery':
      return onDecisionQuery(s, from, m, out);
    case 'decisionResult': {
      const reqId = s.queries.get(m.qid);
      if (reqId === undefined) return;
      const op = s.ops.get(reqId);
      if (!op || op.k !== 'append' || op.decQid !== m.qid) return;
      if (m.status === 'unavailable') {
        peerLost(s, m.ls, from);
        return requestDecision(s, op, ctx, out);
      }
      return decisionDone(s, op, { ok: m.ok, target: m.target }, m.progressOut, ctx, out);
    }
    case 'streamInfo':
      return onStreamInfo(s, from, m, ctx, out);
    case 'streamInfoResp':
      return onStreamInfoResp(s, from, m, ctx, out);
    case 'shardRecoverAck':
      return onRecoverAck(s, from, m, ctx, out);
    case 'trimResp':
      return onTrimResp(s, m.tid, m.code, m.progressOut, ctx, out);
    case 'replicate':
    case 'shardProg':
    case 'metaProg':
    case 'catchupReq':
    case 'indexDataReq':
    case 'shardRecover':
    case 'setAux':
    case 'readAt':
    case 'trimReq':
      return;
    default:
      assertNever(m, 'message');
  }
}

// ---------------------------------------------------------------------------------------------
// Cache

function cachePut(s: EngineState, seq: bigint, rec: Replicate): void {
  if (!s.cfg.p.engineCache || s.cfg.p.engineCacheEntries === 0) return;
  s.cache.delete(seq);
  s.cache.set(seq, rec);
  if (s.cache.size > s.cfg.p.engineCacheEntries) s.cache.delete(s.cache.keys().next().value!);
}

function cacheGet(s: EngineState, seq: bigint): Replicate | undefined {
  if (!s.cfg.p.engineCache) return undefined;
  return s.cache.get(seq);
}

// ---------------------------------------------------------------------------------------------
// Repair: resend what may have been lost on a broken channel

function repair(s: EngineState, ctx: Ctx, out: Eff[]): void {
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
    return false;
  }
  const mark = indexedEnd(ix) + ix.entries.length;
  if (mark === ix.stallMark && ix.blockedOn === null) {
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
