/**
 * Applying metalog entries as a lite consumer (spec §4.2 step 11): an entry applies once its shard
 * starts equal this storage's applied counters; its records become ordered (or tombstones below a
 * trim point), parked reads on them are answered, and their index rows go to the log's index
 * engines. Trim entries (spec §9.3 step 5) delete a book's records below the trim point.
 */
import { assert } from '../../core/assert.ts';
import { type Ctx, fatal, persist, send } from '../../core/contract.ts';
import { entryEnd, armRepair } from '../common.ts';
import { seqOf } from '../ids.ts';
import type { IndexData, IndexRow, MetaEntry, TrimEntry } from '../messages.ts';
import { answerRead } from './reads.ts';
import { type SrcShard, type StoLog, type StorageState, type Eff, tombOf, lazy, recKey, rowOf } from './state.ts';

export function onEntries(s: StorageState, ls: number, entries: readonly MetaEntry[], ctx: Ctx, out: Eff[]): void {
  const sl = s.logs.get(ls);
  if (!sl) return;
  for (const e of entries) offerEntry(s, sl, e, ctx, out);
}

/** Applies an entry if it is next for every shard it touches here; buffers it if it is early. */
export function offerEntry(s: StorageState, sl: StoLog, e: MetaEntry, ctx: Ctx, out: Eff[]): void {
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

export function applyEntry(s: StorageState, sl: StoLog, e: MetaEntry, live: boolean, ctx: Ctx, out: Eff[]): void {
  if (e.kind === 'trim') return applyTrim(s, e, out);
  const rows: IndexRow[] = [];
  /** The source shard of each row (parallel to rows): who ships a row depends on its shard. */
  const rowSrc: SrcShard[] = [];
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
        if (live) {
          rows.push(row);
          rowSrc.push(src);
        }
        continue;
      }
      sl.ordered[pos] = r;
      if (live) {
        rows.push(rowOf(r, pos));
        rowSrc.push(src);
      }
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
    if (rows.length > 0) shipRows(s, sl, e, rows, rowSrc, out);
  }
  void ctx;
}

/**
 * Sends an applied entry's index rows to the log's index engines (spec §4.2 step 11). With
 * `publishedIndexFeed` every replica sends every row to every index engine; otherwise index engine
 * j takes the rows of shard k from replica storagesOf(k)[j mod R] alone (issue 18: R times fewer
 * messages), with the entry itself, which the primary then sends to the producing engines and
 * storages only; an index that waits a repair interval for rows asks every replica (repair.ts).
 */
function shipRows(s: StorageState, sl: StoLog, e: MetaEntry, rows: IndexRow[], rowSrc: readonly SrcShard[], out: Eff[]): void {
  const ies = sl.info.indexEngines;
  if (s.cfg.p.publishedIndexFeed) {
    const msg = { type: 'indexData' as const, ls: sl.ls, rows };
    for (const ie of ies) out.push(send(ie, msg));
    return;
  }
  let whole: IndexData | null = null;
  for (let j = 0; j < ies.length; j++) {
    let mine: IndexRow[] | null = null;
    let all = true;
    for (let i = 0; i < rows.length; i++) {
      const st = rowSrc[i]!.storages;
      if (st[j % st.length] === s.self) {
        if (mine === null) mine = [];
        mine.push(rows[i]!);
      } else all = false;
    }
    if (mine === null) continue;
    if (all) out.push(send(ies[j]!, (whole ??= { type: 'indexData', ls: sl.ls, rows, entry: e })));
    else out.push(send(ies[j]!, { type: 'indexData', ls: sl.ls, rows: mine, entry: e }));
  }
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
