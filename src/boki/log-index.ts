/**
 * The index of one (view, physical log) on an index engine (spec §5.2-§5.4, §3.1-§3.2), as plain
 * data plus pure functions. The engine owns the effects: these functions return what to do.
 *
 * Advancement. The index is a full metalog consumer: it applies every committed entry in order
 * and queues its cut. Storage nodes ship tag rows for every ordered position; while the front cut
 * is fully covered by rows, the rows are indexed in seqnum order and `indexedMeta` (the read
 * frontier) moves past the cut. Conditional appends and overwrites are decided here, as a pure
 * function of the ordered prefix, so every replica decides identically.
 *
 * Streams span views. A cond or overwrite row in view v > 0 needs the visible length of its stream
 * in all older views (`base`); the first such row for a (book, tag) blocks advancement until a
 * lookup into view v-1 answers (locally or by StreamInfo), memoised per index. Old views are
 * finalized, so the answer is deterministic.
 */
import { assert } from '../core/assert.ts';
import { seqOf } from './ids.ts';
import type { CarriedRedirect, Hit, IndexQuery, IndexRow, MetaEntry } from './messages.ts';
import type { LogInfo } from './view.ts';

export interface BookIdx {
  /** Visible positions, ascending (the tag-0 stream). */
  all: number[];
  byTag: Map<bigint, number[]>;
  /** Trim point (a seqnum); 0 when none. */
  trim: bigint;
  /** Visible length of stream(tag) in all older views, once resolved (tag 0 under key 0n). */
  base: Map<bigint, number>;
  /** Overwrites applied here whose targets lie in older views, in log order (last wins). */
  redirectsOld: CarriedRedirect[];
}

export interface Decision {
  readonly ok: boolean;
  /** overwrite: the target's seqnum; cond: the record's own seqnum (both when ok). */
  readonly target: bigint;
}

export interface ParkedQuery {
  readonly q: IndexQuery;
  /** The query arrived from another engine (for the continuation-flag variant). */
  readonly remote: boolean;
  /** Blocking reads: when the park expires (local clock), else -1. */
  readonly deadlineUs: number;
}

export interface LogIndex {
  readonly ls: number;
  readonly viewId: number;
  readonly info: LogInfo;
  /** Metalog entries applied (full consumer), entry k at index k. */
  entries: MetaEntry[];
  buffer: Map<number, MetaEntry>;
  /** Applied entries not yet indexed, from `cutHead`. */
  cuts: MetaEntry[];
  cutHead: number;
  /** Rows received ahead of the indexed end. */
  pendingRows: Map<number, IndexRow>;
  /** Indexed rows, dense: indexed[pos] for pos < indexedEnd. */
  indexed: IndexRow[];
  indexedMeta: number;
  /** Same-view overwrites: target position -> overwrite row position (last wins). */
  redirectLocal: Map<number, number>;
  books: Map<number, BookIdx>;
  decisions: Map<number, Decision>;
  /** For the decision invariant: flattened (pos, ok ? 1 : 0) pairs in decision order. */
  condLog: number[];
  finalized: boolean;
  finalPos: number;
  /** Lookup key advancement waits for, or null. */
  blockedOn: string | null;
  parked: ParkedQuery[];
  catchupSentUs: number;
  /** indexedEnd at the last repair tick while cuts waited for rows (-1: none waited). */
  rowsMark: number;
  /** Sum used to tell a stalled index from a busy one at repair time. */
  stallMark: number;
}

export function newLogIndex(info: LogInfo): LogIndex {
  return {
    ls: info.ls,
    viewId: info.viewId,
    info,
    entries: [],
    buffer: new Map(),
    cuts: [],
    cutHead: 0,
    pendingRows: new Map(),
    indexed: [],
    indexedMeta: 0,
    redirectLocal: new Map(),
    books: new Map(),
    decisions: new Map(),
    condLog: [],
    finalized: false,
    finalPos: -1,
    blockedOn: null,
    parked: [],
    catchupSentUs: -1,
    rowsMark: -1,
    stallMark: -1,
  };
}

export function indexedEnd(ix: LogIndex): number {
  return ix.indexed.length;
}

/** Finalized and fully indexed: continuations and cross-view lookups may be answered. */
export function complete(ix: LogIndex): boolean {
  return ix.finalized && ix.indexedMeta === ix.finalPos;
}

export function bookIdx(ix: LogIndex, book: number): BookIdx {
  let b = ix.books.get(book);
  if (!b) ix.books.set(book, (b = { all: [], byTag: new Map(), trim: 0n, base: new Map(), redirectsOld: [] }));
  return b;
}

export function streamList(b: BookIdx, tag: bigint): readonly number[] {
  if (tag === 0n) return b.all;
  return b.byTag.get(tag) ?? EMPTY_LIST;
}

const EMPTY_LIST: readonly number[] = Object.freeze([]);

/** Applies a committed entry (strictly in metalog order); false if it is early (a gap). */
export function offerIndexEntry(ix: LogIndex, e: MetaEntry): 'applied' | 'dup' | 'gap' {
  if (e.k < ix.entries.length) return 'dup';
  if (e.k > ix.entries.length) {
    if (ix.buffer.size < 10_000) ix.buffer.set(e.k, e);
    return 'gap';
  }
  pushEntry(ix, e);
  for (;;) {
    const n = ix.buffer.get(ix.entries.length);
    if (!n) break;
    ix.buffer.delete(n.k);
    pushEntry(ix, n);
  }
  return 'applied';
}

function pushEntry(ix: LogIndex, e: MetaEntry): void {
  ix.entries.push(e);
  ix.cuts.push(e);
}

export function offerRows(ix: LogIndex, rows: readonly IndexRow[]): void {
  const end = ix.indexed.length;
  for (const r of rows) {
    if (r.pos < end || ix.pendingRows.has(r.pos)) continue; // storage replicas send duplicates
    ix.pendingRows.set(r.pos, r);
  }
}

/** What indexing a row needs from outside, when it cannot proceed. */
export type Need = { readonly op: 'count' | 'seek'; readonly book: number; readonly tag: bigint; readonly pos: number };

/** Hooks the engine provides: cross-view lookups, the variant, and decision notifications. */
export interface IndexHooks {
  /** Visible length of stream(book, tag) in views older than ix.viewId, or undefined (pending). */
  base(ix: LogIndex, book: number, tag: bigint): number | undefined;
  /** The record at global stream index `pos` in an older view (undefined: pending; null: none). */
  seek(ix: LogIndex, book: number, tag: bigint, pos: number): Hit | null | undefined;
  condGe: boolean;
  gappedCrash: boolean;
  /** A cond row with condPos beyond the stream length under gapped-condpos-crash. */
  crash(reason: string): void;
  decided(ix: LogIndex, pos: number, d: Decision): void;
}

/**
 * Indexes rows and pops cuts while possible. Returns true if anything advanced. Stops (leaving
 * `blockedOn` to the engine's lookup) when a cross-view answer is pending.
 */
export function advance(ix: LogIndex, h: IndexHooks): boolean {
  let moved = false;
  while (ix.cutHead < ix.cuts.length) {
    const c = ix.cuts[ix.cutHead]!;
    if (c.kind === 'trim') {
      const b = bookIdx(ix, c.book);
      if (c.trimSeq > b.trim) b.trim = c.trimSeq;
    } else {
      const end = c.startPos + sumDeltas(c);
      while (ix.indexed.length < end) {
        const pos = ix.indexed.length;
        const row = ix.pendingRows.get(pos);
        if (!row) return moved;
        if (!indexRow(ix, row, h)) return moved;
        ix.pendingRows.delete(pos);
        ix.indexed.push(row);
        moved = true;
      }
    }
    ix.indexedMeta = c.k + 1;
    ix.cutHead++;
    moved = true;
  }
  if (ix.cutHead > 1024) {
    ix.cuts = ix.cuts.slice(ix.cutHead);
    ix.cutHead = 0;
  }
  return moved;
}

export function sumDeltas(e: MetaEntry): number {
  if (e.kind !== 'newLogs') return 0;
  let n = 0;
  for (const d of e.deltas) n += d;
  return n;
}

function addVisible(b: BookIdx, tags: readonly bigint[], extra: bigint | null, pos: number): void {
  b.all.push(pos);
  if (extra !== null) pushTag(b, extra, pos);
  for (const t of tags) if (t !== extra) pushTag(b, t, pos);
}

function pushTag(b: BookIdx, t: bigint, pos: number): void {
  let l = b.byTag.get(t);
  if (!l) b.byTag.set(t, (l = []));
  l.push(pos);
}

/** Indexes one row; false when a cross-view answer is needed first. */
function indexRow(ix: LogIndex, row: IndexRow, h: IndexHooks): boolean {
  switch (row.kind) {
    case 'normal':
      addVisible(bookIdx(ix, row.book), row.tags, null, row.pos);
      return true;
    case 'filler':
      return true;
    case 'cond': {
      const b = bookIdx(ix, row.book);
      const base = h.base(ix, row.book, row.condTag);
      if (base === undefined) return false;
      const len = base + streamList(b, row.condTag).length;
      if (row.condPos > len && h.gappedCrash) {
        h.crash(`condAppend at position ${row.condPos} of a stream of length ${len} (gapped condPos)`);
        return false;
      }
      const ok = h.condGe ? len >= row.condPos : len === row.condPos;
      if (ok) addVisible(b, row.tags, row.condTag, row.pos);
      decide(ix, row.pos, { ok, target: seqOf(ix.ls, row.pos) }, h);
      return true;
    }
    case 'overwrite': {
      const b = bookIdx(ix, row.book);
      const base = h.base(ix, row.book, row.condTag);
      if (base === undefined) return false;
      if (row.condPos >= base) {
        const list = streamList(b, row.condTag);
        const i = row.condPos - base;
        if (i < list.length) {
          ix.redirectLocal.set(list[i]!, row.pos);
          decide(ix, row.pos, { ok: true, target: seqOf(ix.ls, list[i]!) }, h);
        } else decide(ix, row.pos, { ok: false, target: INVALID }, h);
        return true;
      }
      const hit = h.seek(ix, row.book, row.condTag, row.condPos);
      if (hit === undefined) return false;
      if (hit === null) {
        decide(ix, row.pos, { ok: false, target: INVALID }, h);
        return true;
      }
      const target = seqOf(hit.ls, hit.pos);
      b.redirectsOld.push({ target, bodyLs: ix.ls, bodyPos: row.pos, bodyEngine: row.engine });
      decide(ix, row.pos, { ok: true, target }, h);
      return true;
    }
  }
}

const INVALID = 0xffff_ffff_ffff_ffffn;

function decide(ix: LogIndex, pos: number, d: Decision, h: IndexHooks): void {
  assert(!ix.decisions.has(pos), 'a row is decided once');
  ix.decisions.set(pos, d);
  ix.condLog.push(pos, d.ok ? 1 : 0);
  h.decided(ix, pos, d);
}

// ---------------------------------------------------------------------------------------------
// Query evaluation (spec §5.4 steps 4-7)

export type Eval =
  | { readonly k: 'answer'; readonly hit: Hit | null }
  | { readonly k: 'continue'; readonly best: Hit | null; readonly trim: bigint; readonly redirects: readonly CarriedRedirect[] }
  | { readonly k: 'blockMiss' };

/** First index in `list` with value >= x (lists are ascending). */
export function lowerBound(list: readonly number[], x: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The smallest position here whose seqnum is >= s (Infinity when every record here is below). */
function posAtLeast(ix: LogIndex, s: bigint): number {
  const first = seqOf(ix.ls, 0);
  if (s <= first) return 0;
  if (s >= seqOf(ix.ls + 1, 0)) return Infinity;
  return Number(s - first);
}

/** The largest position here whose seqnum is <= s (-1 when every record here is above). */
function posAtMost(ix: LogIndex, s: bigint): number {
  const first = seqOf(ix.ls, 0);
  if (s < first) return -1;
  if (s >= seqOf(ix.ls + 1, 0)) return Infinity;
  return Number(s - first);
}

export function makeHit(ix: LogIndex, pos: number, carried: readonly CarriedRedirect[]): Hit {
  const row = ix.indexed[pos]!;
  const seqnum = seqOf(ix.ls, pos);
  for (const r of carried) {
    if (r.target === seqnum) return { ls: ix.ls, pos, book: row.book, engine: row.engine, counter: row.counter, tags: row.tags, bodyLs: r.bodyLs, bodyPos: r.bodyPos, bodyEngine: r.bodyEngine };
  }
  const over = ix.redirectLocal.get(pos);
  if (over !== undefined) {
    const o = ix.indexed[over]!;
    return { ls: ix.ls, pos, book: row.book, engine: row.engine, counter: row.counter, tags: row.tags, bodyLs: ix.ls, bodyPos: over, bodyEngine: o.engine };
  }
  return { ls: ix.ls, pos, book: row.book, engine: row.engine, counter: row.counter, tags: row.tags, bodyLs: ix.ls, bodyPos: pos, bodyEngine: row.engine };
}

/**
 * Evaluates an admitted query against this index. Continuations carry the best readNext hit, the
 * largest trim point seen, and the redirects of the views passed (newest first).
 */
export function evaluate(ix: LogIndex, q: IndexQuery): Eval {
  const b = ix.books.get(q.book);
  const trim = b && b.trim > q.trimSeq ? b.trim : q.trimSeq;
  const list = b ? streamList(b, q.tag) : EMPTY_LIST;
  const redirects = b && b.redirectsOld.length > 0 ? [...q.redirects, ...[...b.redirectsOld].reverse()] : q.redirects;
  if (q.op === 'next') {
    const lb = q.q > trim ? q.q : trim;
    const from = posAtLeast(ix, lb);
    let best = q.best;
    if (from !== Infinity) {
      const i = lowerBound(list, from);
      if (i < list.length) best = makeHit(ix, list[i]!, q.redirects);
    }
    // The lower bound lies in this log or a newer one: nothing older can be >= it.
    if (lb >= seqOf(ix.ls, 0) || ix.viewId === 0) {
      if (best === null && q.blocking && q.initial) return { k: 'blockMiss' };
      return { k: 'answer', hit: best };
    }
    return { k: 'continue', best, trim, redirects };
  }
  const to = posAtMost(ix, q.q);
  if (to >= 0) {
    const i = lowerBound(list, to === Infinity ? Number.MAX_SAFE_INTEGER : to + 1) - 1;
    if (i >= 0) {
      const pos = list[i]!;
      if (seqOf(ix.ls, pos) < trim) return { k: 'answer', hit: null };
      return { k: 'answer', hit: makeHit(ix, pos, q.redirects) };
    }
  }
  if (trim >= seqOf(ix.ls, 0) || ix.viewId === 0) return { k: 'answer', hit: null };
  return { k: 'continue', best: null, trim, redirects };
}
