/**
 * Advancing this engine's indexes (spec §5.2) and the cross-view lookups their advance needs: the
 * visible length of a stream in earlier views ('count') and the record at a stream position in an
 * earlier view ('seek'), answered from a local complete index or asked of a replica (streamInfo),
 * memoised and woken when they resolve. One module because advance, its hooks and the lookups
 * call each other: a resolved lookup advances the index that waited for it.
 */
import { type Ctx, fatal, send } from '../../core/contract.ts';
import { armRepair } from '../common.ts';
import { advance, bookIdx, complete, type IndexHooks, type LogIndex, makeHit, streamList } from '../log-index.ts';
import type { Hit, StreamInfo, StreamInfoResp } from '../messages.ts';
import { onDecided } from './decisions.ts';
import { reserveParked } from './reads.ts';
import { hasIndex, prevLogOf, pickIndexReplica, peerLost } from './shared.ts';
import type { Lookup, LookupWaiter, EngineState, Eff } from './state.ts';

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

export function indexAdvance(s: EngineState, ix: LogIndex, ctx: Ctx, out: Eff[]): void {
  const moved = advanceWithHooks(s, ix, ctx, out);
  // Rows come from one replica (params.publishedIndexFeed false): while cuts wait for rows the
  // repair timer runs, to re-request them should that replica's IndexData be lost (repair.ts).
  if (ix.cutHead < ix.cuts.length && !s.cfg.p.publishedIndexFeed) armRepair(s, out);
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

export function askRemote(s: EngineState, L: Lookup, ctx: Ctx, out: Eff[]): void {
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

export function onStreamInfo(s: EngineState, from: string, m: StreamInfo, ctx: Ctx, out: Eff[]): void {
  if (!hasIndex(s, m.ls)) {
    out.push(send(from, { type: 'streamInfoResp', sid: m.sid, status: 'unavailable', count: 0, target: null }));
    return;
  }
  const L = ensureLookup(s, m.op, m.ls, m.book, m.tag, m.pos, ctx, out);
  if (L.done) out.push(send(from, { type: 'streamInfoResp', sid: m.sid, status: 'ok', count: L.count, target: L.hit }));
  else L.waiters.push({ k: 'reply', to: from, sid: m.sid });
}

export function onStreamInfoResp(s: EngineState, from: string, m: StreamInfoResp, ctx: Ctx, out: Eff[]): void {
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
