/**
 * Storage accounting: the time-averaged bytes of log records and store rows a Halfmoon run keeps,
 * under a garbage collector that runs every `gcTickUs` (spec §3.5, §9.3 Fig. 14). An analysis of
 * a finished run's history, deterministic, in the spirit of the artifact's analytic
 * `scripts/compute_logsize.py`, which also derived its storage figures from request timings
 * rather than from a collector that actually ran.
 *
 * Every stored item (a log record, a store row) lives from its birth `a` until the collector
 * deletes it at `d`. The collector may delete it from the moment `c` its rule allows; it deletes
 * it at the first tick at or after `c`. Two tick models:
 * - `mean`: the expectation over a uniformly random tick phase, `d = c + T/2`. This is what a
 *   long run averages to, and it lets a run much shorter than one tick measure the steady state.
 * - `grid`: ticks at fixed multiples of T from the measurement window's start, as the artifact
 *   rounds (`ceil(end / gc) * gc`); meaningful only for runs many ticks long.
 *
 * The steady-state estimator, per item class:
 * - *Current* versions: each key always has exactly one current value (its INIT, BASE or latest
 *   committed version row) and, under HM-R, the latest record of its key stream that points at it.
 *   These are integrated directly over the measurement window W.
 * - *Transient* items (step-stream records, superseded versions and key-stream records): by
 *   Little's law the time-averaged bytes are (1/|W|) Σ b·(d − a) over the items born of the
 *   measured requests, whose lifetimes may run past the window's end. Items born before W (the
 *   warm-up) are left out: in a steady state they are exactly compensated by the measured items'
 *   tails past W.
 * - Items never collectable within the run (INIT rows under the spec's "INIT is never deleted",
 *   versions superseded by a write whose instance never finished) are integrated over W.
 *
 * Rules:
 * - `canonical` (spec §3.5): a step stream (every record of an instance: Intent, steps, Done,
 *   failed conditional-append slots) is collectable once its instance finished and, for a callee,
 *   its caller too. A version row `k@v_i` and its key-stream record are collectable once a newer
 *   committed version `p_{i+1} <= m`, where m is the minimum cursor over unfinished instances; the
 *   latest key-stream record of each key stays (readers need it). INIT rows are never deleted when
 *   `keepInit` holds (the spec's rule); otherwise INIT is collected like any superseded version.
 * - `artifact` (compute_logsize.py): a request's records (all of them, key-stream records
 *   included) live from the request's start until its end; a version lives from its writer's start
 *   until every request started before the next write of its key has finished; INIT is collected
 *   like any version. Failed conditional appends are not counted (the artifact counts only
 *   successful appends and overwrites).
 *
 * Record bytes are the payload plus `tagBytes` per tag (the log stores tags with the record; the
 * artifact counted the uncompressed JSON payload only, so pass 0 to match it). Row bytes are the
 * value's bytes (the artifact counted `value_size` per row).
 *
 * Scope: runs of one protocol, or switching runs, with or without failures. An async callee
 * started after its caller finished takes the caller's last cursor, which can lower m again; the
 * collectability of versions is computed as if m never decreased (it never does otherwise).
 */
import { assert } from '../src/core/assert.ts';
import type { HistoryEvent } from '../src/core/system.ts';
import { payloadBytes } from '../src/boki/api.ts';
import type { Json } from '../src/halfmoon/records.ts';
import { rowKeyOf, rowName } from '../src/halfmoon/records.ts';
import type { RuntimeEvent } from '../src/halfmoon/workflow/events.ts';
import type { StoreEvent } from '../src/halfmoon/store.ts';
import { callsAndReturns } from './liveness.ts';

export type StorageRule = 'canonical' | 'artifact';

/** How the collector behaves: the rule, INIT's fate, the tick and the tick model. */
export interface StorageVariant {
  readonly rule: StorageRule;
  /** canonical only: INIT rows are never deleted (spec §3.5). */
  readonly keepInit: boolean;
  readonly gcTickUs: number;
  readonly ticks: 'mean' | 'grid';
}

/** What is stored and what counts, common to every variant. */
export interface StorageBase {
  /** Rows present at time 0: name -> value bytes (the workload's INIT and BASE rows). */
  readonly initialRows: ReadonlyMap<string, number>;
  /** Which row classes the run's protocols read: HM-R's INIT + version rows, the others' BASE rows. */
  readonly layout: { readonly versioned: boolean; readonly base: boolean };
  /** The measured requests: their records and the versions their writes supersede count. */
  readonly measured: ReadonlySet<string>;
  readonly tagBytes: number;
  /**
   * The measured requests' nominal arrival rate (open loop), per second: Little's-law terms then
   * divide by n/λ instead of the observed arrival span. Omit for closed-loop runs.
   */
  readonly ratePerSec?: number;
}

export type StorageOptions = StorageVariant & StorageBase;

export interface StorageParts {
  /** Step-stream records (every record while its instance's stream is kept). */
  readonly stepRecords: number;
  /** The latest key-stream record of each key (HM-R). */
  readonly keyRecordsCurrent: number;
  /** Key-stream records superseded by a newer write, until collected. */
  readonly keyRecordsSuperseded: number;
  /** The current value of each key (its INIT, BASE or latest version row). */
  readonly rowsCurrent: number;
  /** Version rows written but not yet committed, and superseded ones until collected. */
  readonly rowsTransient: number;
  /** INIT rows kept after their key was first written (keepInit). */
  readonly initKept: number;
}

export interface StorageReport {
  readonly rule: StorageRule;
  readonly keepInit: boolean;
  readonly gcTickUs: number;
  readonly windowUs: number;
  readonly requests: number;
  /** Time-averaged bytes of log records. */
  readonly logBytes: number;
  /** Time-averaged bytes of store rows. */
  readonly dataBytes: number;
  readonly totalBytes: number;
  readonly parts: StorageParts;
  /** The measured requests' successful records by kind: count and mean bytes (tags included). */
  readonly records: Readonly<Record<string, { readonly count: number; readonly meanBytes: number }>>;
}

// ---------------------------------------------------------------------------------------------
// What the history says

interface LogItem {
  readonly t: number;
  readonly seq: bigint;
  readonly bytes: number;
  readonly iid: string;
  readonly step: number;
  readonly kind: string;
  readonly post: boolean;
  readonly requestId: string;
  readonly ok: boolean;
  readonly overwrite: boolean;
  /** A PreInvoke whose payload an InvokeResult replaced at this time. */
  replacedAt: number;
}

interface Version {
  readonly key: string;
  readonly row: string;
  /** Commit seqnum: the PostWrite's (or Marker's); 0 for INIT. */
  readonly seq: bigint;
  readonly commitT: number;
  readonly rowBytes: number;
  readonly putT: number;
  /** The key-stream record pointing at it (0 for INIT). */
  readonly keyRecBytes: number;
  /** The request whose write created it ('' for INIT). */
  readonly requestId: string;
  readonly iid: string;
  readonly init: boolean;
  supersededAt: number | null;
  /** The request whose write superseded it. */
  supersededBy: string | null;
  supersedingSeq: bigint;
  collectableAt: number | null;
}

interface Facts {
  readonly reqStart: Map<string, number>;
  readonly reqEnd: Map<string, number>;
  readonly items: LogItem[];
  readonly finished: Map<string, number>;
  readonly callerOf: Map<string, string>;
  /** Version rows put: row -> first put time and bytes. */
  readonly puts: Map<string, { t: number; bytes: number }>;
  /** PreWrite seqnum -> the request and instance that wrote it (names version rows). */
  readonly preWrites: Map<bigint, { requestId: string; iid: string }>;
  /** Per key, its versions in commit order of arrival (canonical collectability filled in). */
  readonly versions: Map<string, Version[]>;
  /** BASE rows: (t, bytes) changes. */
  readonly baseChanges: Map<string, { t: number; bytes: number }[]>;
}

export function valueBytes(v: Json): number {
  return typeof v === 'string' ? payloadBytes(v) : payloadBytes(JSON.stringify(v));
}

/** One pass over the history: the facts both rules need, and the canonical min-cursor sweep. */
function collect(history: readonly HistoryEvent[], opts: StorageBase): Facts {
  const reqStart = new Map<string, number>();
  const reqEnd = new Map<string, number>();
  for (const c of callsAndReturns(history)) {
    reqStart.set(c.reqId, c.call);
    if (c.ret !== Infinity) reqEnd.set(c.reqId, c.ret);
  }
  const f: Facts = { reqStart, reqEnd, items: [], finished: new Map(), callerOf: new Map(), puts: new Map(), preWrites: new Map(), versions: new Map(), baseChanges: new Map() };
  const sweep = new CursorSweep();
  // Each key starts with its INIT row as the current version.
  const current = new Map<string, Version>();
  if (opts.layout.versioned) {
    for (const [row, bytes] of opts.initialRows) {
      const rk = rowKeyOf(row);
      if (rk.suffix !== 'INIT') continue;
      const key = `${rk.table}/${rk.key}`;
      const v: Version = { key, row, seq: 0n, commitT: 0, rowBytes: bytes, putT: 0, keyRecBytes: 0, requestId: '', iid: '', init: true, supersededAt: null, supersededBy: null, supersedingSeq: 0n, collectableAt: null };
      current.set(key, v);
      f.versions.set(key, [v]);
    }
  }
  const preInvoke = new Map<string, LogItem>();
  for (const h of history) {
    if (h.kind !== 'record') continue;
    const e = h.event as RuntimeEvent | StoreEvent;
    switch (e.ev) {
      case 'execStart':
        if (e.callerIid !== null && !f.callerOf.has(e.iid)) f.callerOf.set(e.iid, e.callerIid);
        if (!f.finished.has(e.iid)) sweep.start(e.iid, e.callerIid);
        break;
      case 'execEnd':
        if ((e.outcome === 'done' || e.replayedDone) && !f.finished.has(e.iid)) {
          f.finished.set(e.iid, h.t);
          sweep.finish(e.iid);
        }
        break;
      case 'logOp': {
        const item = logItem(h.t, e, opts.tagBytes);
        if (item === null) break;
        f.items.push(item);
        if (item.kind === 'PreInvoke' && !item.overwrite) preInvoke.set(`${item.iid}#${item.step}`, item);
        if (item.overwrite) {
          const target = preInvoke.get(`${item.iid}#${item.step}`);
          if (target && target.replacedAt === Infinity) target.replacedAt = h.t;
        }
        if (!item.ok || item.overwrite) break;
        if (item.kind === 'PreWrite') f.preWrites.set(item.seq, { requestId: item.requestId, iid: item.iid });
        sweep.advance(item.iid, item.seq);
        if (opts.layout.versioned && e.rec !== null && (e.rec.kind === 'PostWrite' || e.rec.kind === 'Marker') && !e.rec.post) {
          commit(f, current, sweep, e.rec.table!, e.rec.key!, e.rec.version!, item, h.t);
        }
        break;
      }
      case 'storeApply': {
        const rk = rowKeyOf(e.row);
        const bytes = valueBytes(e.value);
        if (rk.suffix === 'BASE') {
          let l = f.baseChanges.get(e.row);
          if (!l) f.baseChanges.set(e.row, (l = []));
          l.push({ t: h.t, bytes });
        } else if (rk.suffix !== 'INIT' && !f.puts.has(e.row)) f.puts.set(e.row, { t: h.t, bytes });
        break;
      }
      default:
        break;
    }
    sweep.release(h.t);
  }
  return f;
}

function logItem(t: number, e: Extract<RuntimeEvent, { ev: 'logOp' }>, tagBytes: number): LogItem | null {
  if (e.op !== 'append' && e.op !== 'condAppend' && e.op !== 'overwrite') return null;
  const ok = e.code === 'APPEND_OK';
  if (!ok && e.code !== 'COND_FAILED') return null;
  if (e.rec === null) return null;
  return {
    t,
    seq: e.seq ?? -1n,
    bytes: e.bytes + tagBytes * e.tags.length,
    iid: e.rec.iid,
    step: e.rec.step,
    kind: e.rec.kind,
    post: e.rec.post,
    requestId: e.requestId,
    ok,
    overwrite: e.op === 'overwrite',
    replacedAt: Infinity,
  };
}

/** A commit (PostWrite or Marker) of version row `table/key@version`: it supersedes the current one. */
function commit(f: Facts, current: Map<string, Version>, sweep: CursorSweep, table: string, key: string, version: bigint, item: LogItem, t: number): void {
  const k = `${table}/${key}`;
  const row = rowName(table, key, version);
  const put = f.puts.get(row);
  const writer = f.preWrites.get(version);
  const v: Version = {
    key: k,
    row,
    seq: item.seq,
    commitT: t,
    rowBytes: put?.bytes ?? 0,
    putT: put?.t ?? t,
    keyRecBytes: item.bytes,
    requestId: writer?.requestId ?? item.requestId,
    iid: item.iid,
    init: false,
    supersededAt: null,
    supersededBy: null,
    supersedingSeq: 0n,
    collectableAt: null,
  };
  let list = f.versions.get(k);
  if (!list) f.versions.set(k, (list = []));
  list.push(v);
  const cur = current.get(k);
  // Readers take the latest committed seqnum at or below their cursor, so a commit with a lower
  // seqnum than the current one (concurrent appends completing out of order) is superseded at once.
  const [older, newer] = cur === undefined ? [null, v] : cur.seq < v.seq ? [cur, v] : [v, cur];
  if (older !== null) {
    older.supersededAt = t;
    older.supersededBy = item.requestId;
    older.supersedingSeq = newer.seq;
    sweep.wait(newer.seq, older);
  }
  current.set(k, newer);
}

/**
 * The minimum cursor m over unfinished instances, as the history unfolds, and the versions
 * waiting for m to reach the seqnum that superseded them.
 */
class CursorSweep {
  private readonly cursor = new Map<string, bigint | null>();
  private readonly lastCursor = new Map<string, bigint>();
  private readonly heap = new MinHeap<{ c: bigint; iid: string }>((a, b) => a.c < b.c);
  private readonly waiting = new MinHeap<{ p: bigint; v: Version }>((a, b) => a.p < b.p);

  start(iid: string, callerIid: string | null): void {
    if (this.cursor.has(iid)) return;
    // A callee reads as of its caller's cursor until it logs a step of its own.
    const c = callerIid === null ? null : (this.cursor.get(callerIid) ?? this.lastCursor.get(callerIid) ?? null);
    this.cursor.set(iid, c);
    if (c !== null) this.heap.push({ c, iid });
  }

  advance(iid: string, seq: bigint): void {
    const prev = this.lastCursor.get(iid);
    if (prev === undefined || seq > prev) this.lastCursor.set(iid, seq);
    if (!this.cursor.has(iid)) return;
    const c = this.cursor.get(iid)!;
    if (c !== null && c >= seq) return;
    this.cursor.set(iid, seq);
    this.heap.push({ c: seq, iid });
  }

  finish(iid: string): void {
    this.cursor.delete(iid);
  }

  wait(p: bigint, v: Version): void {
    this.waiting.push({ p, v });
  }

  /** Marks collectable, at time t, every waiting version whose superseding seqnum is now <= m. */
  release(t: number): void {
    if (this.waiting.size === 0) return;
    const m = this.min();
    while (this.waiting.size > 0 && (m === null || this.waiting.peek()!.p <= m)) {
      const w = this.waiting.pop()!;
      if (w.v.collectableAt === null) w.v.collectableAt = t;
    }
  }

  /** m, or null when no unfinished instance has a cursor (nothing holds versions back). */
  private min(): bigint | null {
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined) return null;
      if (this.cursor.get(top.iid) === top.c) return top.c;
      this.heap.pop(); // stale: the instance moved on or finished
    }
  }
}

class MinHeap<T> {
  private readonly a: T[] = [];
  constructor(private readonly less: (x: T, y: T) => boolean) {}
  get size(): number {
    return this.a.length;
  }
  peek(): T | undefined {
    return this.a[0];
  }
  push(x: T): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let s = i;
        if (l < a.length && this.less(a[l]!, a[s]!)) s = l;
        if (r < a.length && this.less(a[r]!, a[s]!)) s = r;
        if (s === i) break;
        [a[i], a[s]] = [a[s]!, a[i]!];
        i = s;
      }
    }
    return top;
  }
}

// ---------------------------------------------------------------------------------------------
// The estimator

interface Window {
  readonly w0: number;
  readonly w1: number;
}

/**
 * W spans the measured requests' arrivals: from the first one's start, n inter-arrival gaps long
 * (so n requests at rate λ give |W| = n/λ, the denominator of Little's law).
 */
function windowOf(f: Facts, measured: ReadonlySet<string>): Window {
  const starts = [...measured].map((r) => f.reqStart.get(r)).filter((t): t is number => t !== undefined).sort((a, b) => a - b);
  assert(starts.length >= 2, 'storage accounting needs at least two measured requests');
  const w0 = starts[0]!;
  const gap = (starts[starts.length - 1]! - w0) / (starts.length - 1);
  assert(gap > 0, 'measured requests must not all start at one instant');
  return { w0, w1: w0 + gap * starts.length };
}

function overlap(a: number, b: number, w: Window): number {
  return Math.max(0, Math.min(b, w.w1) - Math.max(a, w.w0));
}

function deleter(opts: StorageOptions, w: Window): (c: number) => number {
  const T = opts.gcTickUs;
  if (T <= 0) return (c) => c;
  if (opts.ticks === 'mean') return (c) => c + T / 2;
  return (c) => w.w0 + Math.ceil((c - w.w0) / T) * T;
}

type Part = keyof StorageParts;

/**
 * Byte·µs per part, in two sums: items integrated over the window (divided by |W|) and items
 * counted whole by Little's law (divided by the measured requests' arrival span, n/λ).
 */
class Acc {
  readonly integral = new Map<Part, number>();
  readonly little = new Map<Part, number>();
  over(part: Part, byteUs: number): void {
    this.integral.set(part, (this.integral.get(part) ?? 0) + byteUs);
  }
  whole(part: Part, byteUs: number): void {
    this.little.set(part, (this.little.get(part) ?? 0) + byteUs);
  }
  average(part: Part, windowUs: number, arrivalsUs: number): number {
    return (this.integral.get(part) ?? 0) / windowUs + (this.little.get(part) ?? 0) / arrivalsUs;
  }
}

export function storageAccounting(history: readonly HistoryEvent[], opts: StorageOptions): StorageReport {
  return storageAccountingMany(history, opts, [opts])[0]!;
}

/** The same run under several collector variants: the history is read once. */
export function storageAccountingMany(history: readonly HistoryEvent[], base: StorageBase, variants: readonly StorageVariant[]): StorageReport[] {
  const f = collect(history, base);
  const w = windowOf(f, base.measured);
  return variants.map((v) => evaluate(f, w, { ...base, ...v }));
}

function evaluate(f: Facts, w: Window, opts: StorageOptions): StorageReport {
  assert(opts.gcTickUs >= 0, 'gcTickUs must be >= 0');
  const del = deleter(opts, w);
  const acc = new Acc();
  if (opts.layout.base) baseRows(f, opts, w, acc);
  if (opts.rule === 'canonical') canonical(f, opts, w, del, acc);
  else artifact(f, opts, w, del, acc);
  const span = w.w1 - w.w0;
  // With a known open-loop rate λ, n/λ is the unbiased arrival span; the observed one carries the
  // Poisson spread of n arrivals (about 1/√n).
  const arrivals = opts.ratePerSec !== undefined && opts.ratePerSec > 0 ? (opts.measured.size * 1e6) / opts.ratePerSec : span;
  const avg = (part: Part) => acc.average(part, span, arrivals);
  const parts: StorageParts = {
    stepRecords: avg('stepRecords'),
    keyRecordsCurrent: avg('keyRecordsCurrent'),
    keyRecordsSuperseded: avg('keyRecordsSuperseded'),
    rowsCurrent: avg('rowsCurrent'),
    rowsTransient: avg('rowsTransient'),
    initKept: avg('initKept'),
  };
  const logBytes = parts.stepRecords + parts.keyRecordsCurrent + parts.keyRecordsSuperseded;
  const dataBytes = parts.rowsCurrent + parts.rowsTransient + parts.initKept;
  return {
    rule: opts.rule,
    keepInit: opts.rule === 'canonical' && opts.keepInit,
    gcTickUs: opts.gcTickUs,
    windowUs: span,
    requests: opts.measured.size,
    logBytes,
    dataBytes,
    totalBytes: logBytes + dataBytes,
    parts,
    records: recordSizes(f, opts.measured),
  };
}

/** BASE rows hold each key's current value in place: integrate their sizes over W. */
function baseRows(f: Facts, opts: StorageOptions, w: Window, acc: Acc): void {
  for (const [row, bytes0] of opts.initialRows) {
    if (rowKeyOf(row).suffix !== 'BASE') continue;
    let t = 0;
    let bytes = bytes0;
    for (const ch of f.baseChanges.get(row) ?? []) {
      acc.over('rowsCurrent', bytes * overlap(t, ch.t, w));
      t = ch.t;
      bytes = ch.bytes;
    }
    acc.over('rowsCurrent', bytes * overlap(t, Infinity, w));
  }
}

/** When an instance's step stream may be trimmed: its Done, and its caller's (spec §3.5). */
function streamCollectable(f: Facts, iid: string): number {
  const done = f.finished.get(iid) ?? Infinity;
  const caller = f.callerOf.get(iid);
  return caller === undefined ? done : Math.max(done, f.finished.get(caller) ?? Infinity);
}

function canonical(f: Facts, opts: StorageOptions, w: Window, del: (c: number) => number, acc: Acc): void {
  const keyStreamEnd = new Map<bigint, number>(); // commit seqnum -> when its key-stream record goes
  if (opts.layout.versioned) {
    for (const list of f.versions.values()) {
      for (const v of list) {
        const end = versionPhases(v, opts, w, del, acc);
        if (!v.init) keyStreamEnd.set(v.seq, end);
      }
    }
  }
  for (const it of f.items) {
    if (!opts.measured.has(it.requestId)) continue;
    const stepEnd = Math.min(it.replacedAt, del(streamCollectable(f, it.iid)));
    const born = it.t;
    // A key-stream record's life up to its own collection is counted with its version; its step
    // stream may keep it longer.
    const keyEnd = keyStreamEnd.get(it.seq);
    const from = keyEnd === undefined ? born : Math.max(born, keyEnd);
    if (stepEnd === Infinity) acc.over('stepRecords', it.bytes * overlap(from, Infinity, w));
    else acc.whole('stepRecords', it.bytes * Math.max(0, stepEnd - from));
  }
  // Version rows put but never committed (the writer crashed for good): gone with its stream.
  if (!opts.layout.versioned) return;
  for (const [row, put] of f.puts) {
    const rk = rowKeyOf(row);
    const list = f.versions.get(`${rk.table}/${rk.key}`) ?? [];
    if (list.some((v) => v.row === row)) continue;
    const writer = f.preWrites.get(BigInt('0x' + rk.suffix.slice(1)));
    if (writer === undefined || !opts.measured.has(writer.requestId)) continue;
    const end = del(streamCollectable(f, writer.iid));
    if (end === Infinity) acc.over('rowsTransient', put.bytes * overlap(put.t, Infinity, w));
    else acc.whole('rowsTransient', put.bytes * (end - put.t));
  }
}

/**
 * One version's row and key-stream record: pending (put, not committed), current (integrated over
 * W), superseded until collected (Little, attributed to the superseding write's request).
 * Returns when its key-stream record is deleted (Infinity: never within the run).
 */
function versionPhases(v: Version, opts: StorageOptions, w: Window, del: (c: number) => number, acc: Acc): number {
  if (!v.init && opts.measured.has(v.requestId)) acc.whole('rowsTransient', v.rowBytes * Math.max(0, v.commitT - v.putT));
  const curEnd = v.supersededAt ?? Infinity;
  acc.over('rowsCurrent', v.rowBytes * overlap(v.commitT, curEnd, w));
  acc.over('keyRecordsCurrent', v.keyRecBytes * overlap(v.commitT, curEnd, w));
  if (v.supersededAt === null) return Infinity;
  const kept = v.init && opts.keepInit;
  const end = kept || v.collectableAt === null ? Infinity : del(v.collectableAt);
  if (end === Infinity) {
    const span = overlap(v.supersededAt, Infinity, w);
    acc.over(kept ? 'initKept' : 'rowsTransient', v.rowBytes * span);
    acc.over('keyRecordsSuperseded', v.keyRecBytes * span);
    return Infinity;
  }
  if (v.supersededBy !== null && opts.measured.has(v.supersededBy)) {
    acc.whole('rowsTransient', v.rowBytes * (end - v.supersededAt));
    acc.whole('keyRecordsSuperseded', v.keyRecBytes * (end - v.supersededAt));
  }
  return end;
}

function artifact(f: Facts, opts: StorageOptions, w: Window, del: (c: number) => number, acc: Acc): void {
  // A request's log (successful appends and overwrites) lives from its start until its end.
  const bytesOf = new Map<string, number>();
  for (const it of f.items) {
    if (!it.ok) continue;
    bytesOf.set(it.requestId, (bytesOf.get(it.requestId) ?? 0) + it.bytes);
  }
  for (const r of opts.measured) {
    const start = f.reqStart.get(r);
    if (start === undefined) continue;
    const end = f.reqEnd.get(r);
    const b = bytesOf.get(r) ?? 0;
    if (end === undefined) acc.over('stepRecords', b * overlap(start, Infinity, w));
    else acc.whole('stepRecords', b * (del(end) - start));
  }
  if (!opts.layout.versioned) return;
  // Versions by their writer's start; each lives until every request started before the next
  // write of its key has finished (the artifact's "readers").
  const order = [...f.reqStart.entries()].sort((a, b) => a[1] - b[1]);
  const rmq = new RangeMax(order.map(([r]) => f.reqEnd.get(r) ?? Infinity));
  const starts = order.map(([, t]) => t);
  for (const list of f.versions.values()) {
    const writes = list
      .map((v) => ({ v, start: v.init ? 0 : (f.reqStart.get(v.requestId) ?? v.commitT) }))
      .sort((a, b) => a.start - b.start);
    for (let i = 0; i < writes.length; i++) {
      const { v, start } = writes[i]!;
      const next = writes[i + 1];
      const curEnd = next === undefined ? Infinity : next.start;
      acc.over('rowsCurrent', v.rowBytes * overlap(start, curEnd, w));
      if (next === undefined || !opts.measured.has(next.v.requestId)) continue;
      const lo = lowerBound(starts, start);
      const hi = upperBound(starts, next.start);
      const lastEnd = hi > lo ? rmq.max(lo, hi) : next.start;
      const end = lastEnd === Infinity ? Infinity : del(Math.max(lastEnd, next.start));
      if (end === Infinity) acc.over('rowsTransient', v.rowBytes * overlap(next.start, Infinity, w));
      else acc.whole('rowsTransient', v.rowBytes * (end - next.start));
    }
  }
}

function recordSizes(f: Facts, measured: ReadonlySet<string>): Record<string, { count: number; meanBytes: number }> {
  const m = new Map<string, { n: number; b: number }>();
  for (const it of f.items) {
    if (!it.ok || !measured.has(it.requestId)) continue;
    const k = it.overwrite ? `${it.kind}(overwrite)` : it.post ? `${it.kind}(post)` : it.kind;
    const x = m.get(k) ?? { n: 0, b: 0 };
    x.n++;
    x.b += it.bytes;
    m.set(k, x);
  }
  const out: Record<string, { count: number; meanBytes: number }> = {};
  for (const k of [...m.keys()].sort()) {
    const x = m.get(k)!;
    out[k] = { count: x.n, meanBytes: Math.round((x.b / x.n) * 10) / 10 };
  }
  return out;
}

/** Sparse table for range maxima over a fixed array: O(n log n) build, O(1) query on [lo, hi). */
class RangeMax {
  private readonly t: number[][];
  constructor(a: readonly number[]) {
    this.t = [a.slice()];
    for (let k = 1; 1 << k <= a.length; k++) {
      const prev = this.t[k - 1]!;
      const row: number[] = [];
      for (let i = 0; i + (1 << k) <= a.length; i++) row.push(Math.max(prev[i]!, prev[i + (1 << (k - 1))]!));
      this.t.push(row);
    }
  }
  max(lo: number, hi: number): number {
    const k = 31 - Math.clz32(hi - lo);
    return Math.max(this.t[k]![lo]!, this.t[k]![hi - (1 << k)]!);
  }
}

function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
