/**
 * The final audit (spec §10): after the run, every book's ordered slots, visible or not, read from
 * the storage nodes' states, with the decisions of conditional appends and overwrites recomputed
 * by replaying each book in seqnum order with per-stream length counters.
 *
 * Storage replicas of a shard must agree on every position (a disagreement is a total-order
 * violation). Positions that no storage holds, although the metalog orders them and every storage
 * of that view is up, are reported: the data was lost. Trimmed records survive as tombstones
 * (their index rows), so the replay still counts them.
 */
import type { WorldView } from '../../src/core/system.ts';
import { sumDeltas } from '../../src/boki/log-index.ts';
import type { EngineState } from '../../src/boki/engine/state.ts';
import { seqOf } from '../../src/boki/ids.ts';
import type { IndexRow, MetaEntry, Replicate } from '../../src/boki/messages.ts';
import type { SequencerState } from '../../src/boki/sequencer.ts';
import type { StorageState, Tombstone } from '../../src/boki/storage/state.ts';

export interface Slot {
  readonly seq: bigint;
  readonly ls: number;
  readonly pos: number;
  readonly book: number;
  readonly engine: number;
  readonly counter: number;
  readonly kind: IndexRow['kind'];
  readonly tags: readonly bigint[];
  readonly condTag: bigint;
  readonly condPos: number;
  /** null for a filler. */
  readonly attemptId: string | null;
  /** null for a tombstone (a trimmed record). */
  readonly data: string | null;
  /** Recomputed by the replay. */
  visible: boolean;
  decided: boolean | null;
  /** overwrite: the target's seqnum when it applied. */
  target: bigint | null;
}

export interface Audit {
  readonly slots: Map<bigint, Slot>;
  /** Per book, slots in seqnum order. */
  readonly byBook: Map<number, Slot[]>;
  /** Per book and tag (0 = every visible record), visible seqnums in order. */
  readonly streams: Map<number, Map<bigint, bigint[]>>;
  /**
   * Per target seqnum: successful overwrites in log order (overwrite seqnum, payload, attempt);
   * the payload is null where only a trimmed overwrite's tombstone is left.
   */
  readonly overwrites: Map<bigint, Overwrite[]>;
  readonly trimPoints: Map<number, bigint>;
  readonly attemptSlot: Map<string, bigint>;
  /** Views whose storage nodes were all up at the end: their logspaces are fully auditable. */
  readonly auditableViews: ReadonlySet<number>;
  readonly problems: readonly { invariant: string; message: string }[];
}

export function runAudit(view: WorldView): Audit {
  const slots = new Map<bigint, Slot>();
  const trimPoints = new Map<number, bigint>();
  const problems: { invariant: string; message: string }[] = [];
  for (const id of view.nodeIds()) {
    if (view.role(id) !== 'storage' || !view.isUp(id)) continue;
    const st = view.state(id) as StorageState;
    for (const [book, t] of st.trimPoints) if (t > (trimPoints.get(book) ?? 0n)) trimPoints.set(book, t);
    for (const sl of st.logs.values()) {
      for (let pos = 0; pos < sl.ordered.length; pos++) {
        const r = sl.ordered[pos];
        if (r !== undefined) addSlot(slots, problems, slotOfRecord(sl.ls, pos, r), id);
      }
      for (const [pos, row] of sl.tombstones) addSlot(slots, problems, slotOfRow(sl.ls, pos, row), id);
    }
  }
  const auditableViews = checkComplete(view, slots, problems);
  const ordered = [...slots.values()].sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  const byBook = new Map<number, Slot[]>();
  for (const sl of ordered) {
    let l = byBook.get(sl.book);
    if (!l) byBook.set(sl.book, (l = []));
    l.push(sl);
  }
  const streams = new Map<number, Map<bigint, bigint[]>>();
  const overwrites = new Map<bigint, Overwrite[]>();
  for (const [book, list] of byBook) streams.set(book, replay(list, overwrites));
  const attemptSlot = new Map<string, bigint>();
  for (const sl of ordered) {
    if (sl.attemptId === null) continue;
    if (attemptSlot.has(sl.attemptId)) problems.push({ invariant: 'log-no-duplicates', message: `attempt ${sl.attemptId} occupies two slots, ${hex(attemptSlot.get(sl.attemptId)!)} and ${hex(sl.seq)}` });
    else attemptSlot.set(sl.attemptId, sl.seq);
  }
  return { slots, byBook, streams, overwrites, trimPoints, attemptSlot, auditableViews, problems };
}

export function hex(s: bigint): string {
  return '0x' + s.toString(16).padStart(16, '0');
}

function slotOfRecord(ls: number, pos: number, r: Replicate): Slot {
  return { seq: seqOf(ls, pos), ls, pos, book: r.book, engine: r.engine, counter: r.counter, kind: r.kind, tags: r.tags, condTag: r.condTag, condPos: r.condPos, attemptId: r.kind === 'filler' ? null : r.attemptId, data: r.data, visible: false, decided: null, target: null };
}

function slotOfRow(ls: number, pos: number, r: Tombstone): Slot {
  const attemptId = r.kind === 'filler' ? null : r.attemptId;
  return { seq: seqOf(ls, pos), ls, pos, book: r.book, engine: r.engine, counter: r.counter, kind: r.kind, tags: r.tags, condTag: r.condTag, condPos: r.condPos, attemptId, data: null, visible: false, decided: null, target: null };
}

function addSlot(slots: Map<bigint, Slot>, problems: { invariant: string; message: string }[], s: Slot, node: string): void {
  const had = slots.get(s.seq);
  if (!had) {
    slots.set(s.seq, s);
    return;
  }
  if (had.engine !== s.engine || had.counter !== s.counter || had.kind !== s.kind || (had.attemptId !== null && s.attemptId !== null && had.attemptId !== s.attemptId)) {
    problems.push({ invariant: 'log-total-order', message: `storage replicas disagree on seqnum ${hex(s.seq)}: localid ${had.engine}:${had.counter} (${had.attemptId}) vs ${s.engine}:${s.counter} (${s.attemptId}) at ${node}` });
  }
  if (had.data === null && s.data !== null) slots.set(s.seq, s); // prefer the full record to a tombstone
}

/** Every position the metalog orders must be on some storage when all of its view's storages are up. */
function checkComplete(view: WorldView, slots: Map<bigint, Slot>, problems: { invariant: string; message: string }[]): Set<number> {
  const longest = new Map<number, readonly MetaEntry[]>();
  const viewStorages = new Map<number, readonly string[]>();
  for (const id of view.nodeIds()) {
    if (!view.isUp(id)) continue;
    const role = view.role(id);
    if (role === 'sequencer') {
      const st = view.state(id) as SequencerState;
      for (const sl of st.logs.values()) {
        const n = sl.finalized ? sl.entries.length : sl.primary ? sl.replicated : 0;
        if (n > (longest.get(sl.ls)?.length ?? 0)) longest.set(sl.ls, sl.entries.slice(0, n));
      }
      for (const vi of st.views.infos) if (vi) viewStorages.set(vi.view.viewId, vi.view.storages);
    } else if (role === 'engine') {
      const st = view.state(id) as EngineState;
      for (const ix of st.indexes.values()) if (ix.entries.length > (longest.get(ix.ls)?.length ?? 0)) longest.set(ix.ls, ix.entries);
      for (const vi of st.views.infos) if (vi) viewStorages.set(vi.view.viewId, vi.view.storages);
    }
  }
  const auditable = new Set<number>();
  for (const [v, stores] of viewStorages) if (stores.every((s) => view.isUp(s))) auditable.add(v);
  for (const [ls, entries] of longest) {
    if (!auditable.has(Math.floor(ls / 0x1_0000))) continue;
    let end = 0;
    for (const e of entries) end = Math.max(end, e.startPos + sumDeltas(e));
    for (let pos = 0; pos < end; pos++) {
      if (slots.has(seqOf(ls, pos))) continue;
      problems.push({ invariant: 'log-no-lost-ack', message: `position ${pos} of logspace ${ls} (seqnum ${hex(seqOf(ls, pos))}) is ordered but held by no storage replica` });
      break;
    }
  }
  return auditable;
}

/**
 * Replays one book in log order: plain records join their tags' streams; a conditional append
 * succeeds iff its stream holds exactly condPos records; an overwrite applies iff its position
 * exists. Returns the book's streams (tag 0 = every visible record).
 */
export interface Overwrite {
  readonly seq: bigint;
  readonly data: string | null;
  readonly attemptId: string | null;
}

function replay(list: Slot[], overwrites: Map<bigint, Overwrite[]>): Map<bigint, bigint[]> {
  const streams = new Map<bigint, bigint[]>();
  const all: bigint[] = [];
  streams.set(0n, all);
  const push = (t: bigint, seq: bigint) => {
    let l = streams.get(t);
    if (!l) streams.set(t, (l = []));
    l.push(seq);
  };
  for (const s of list) {
    switch (s.kind) {
      case 'filler':
        break;
      case 'normal':
        s.visible = true;
        all.push(s.seq);
        for (const t of s.tags) push(t, s.seq);
        break;
      case 'cond': {
        const len = streams.get(s.condTag)?.length ?? 0;
        s.decided = len === s.condPos;
        if (s.decided) {
          s.visible = true;
          all.push(s.seq);
          push(s.condTag, s.seq);
          for (const t of s.tags) if (t !== s.condTag) push(t, s.seq);
        }
        break;
      }
      case 'overwrite': {
        const stream = s.condTag === 0n ? all : streams.get(s.condTag);
        const target = stream && s.condPos < stream.length ? stream[s.condPos]! : null;
        s.decided = target !== null;
        s.target = target;
        if (target !== null) {
          let l = overwrites.get(target);
          if (!l) overwrites.set(target, (l = []));
          l.push({ seq: s.seq, data: s.data, attemptId: s.attemptId });
        }
        break;
      }
    }
  }
  return streams;
}
