/**
 * The exactly-once checker (Halfmoon spec §11) and log accounting (§5.4, §7.3), over the history a
 * run records: execution starts and ends, every operation as it returns to its handler, every log
 * append/read outcome, every store mutation and read as the store applied it, and the client's
 * calls and returns. Each check is one pass with hash maps: expected O(|history|).
 *
 *   C1 final state      each key's value as the final mode's read path sees it equals the value of
 *                       the committed logical write with the largest commit position (INIT if none)
 *   C2 replay           every execution of a path issued a prefix of the completing execution's
 *                       operations (kind, key, value) and completing executions agree on output
 *   C3 no double apply  a logical write's store mutation of one row class happened with one
 *                       version only, by one instance id per path, with the completing value
 *   C4 one completion   one successful Done per request (identical Done outputs for Boki); one
 *                       InvokeResult content per path; no execution ended fatally
 *   C5 stable output    every response to a request carries the same output, equal to Done's
 *   C6 read consistency each read returned the value its witness names, the witness was the
 *                       latest write at the read's position, and program order holds
 *
 * A *logical* operation is (path, ordinal): the request id followed by the ordinals of the invokes
 * down the call tree, then the operation's ordinal in its function.
 */
import type { Checker, FinishedRun, HistoryEvent, Violation } from '../src/core/system.ts';
import type { Json, Mode, Version } from '../src/halfmoon/records.ts';
import { rowName, VERSION_ZERO, versionCmp } from '../src/halfmoon/records.ts';
import type { AuditSlot } from '../src/boki/api.ts';
import { type RecSummary, type RuntimeEvent, summarizeData } from '../src/halfmoon/runtime.ts';
import type { StoreEvent, StoreState } from '../src/halfmoon/store.ts';
import { callsAndReturns } from './liveness.ts';

type OpEv = Extract<RuntimeEvent, { ev: 'wfOp' }>;
type EndEv = Extract<RuntimeEvent, { ev: 'execEnd' }>;
type StartEv = Extract<RuntimeEvent, { ev: 'execStart' }>;
type LogEv = Extract<RuntimeEvent, { ev: 'logOp' }>;

interface Parsed {
  starts: Map<string, StartEv>;
  ends: Map<string, EndEv>;
  /** exec -> its operations by ordinal */
  ops: Map<string, OpEv[]>;
  /** exec keys per path, in start order */
  execsByPath: Map<string, string[]>;
  logs: LogEv[];
  /** In history order: store applies and reads, for C3 and C6. */
  store: StoreEvent[];
  responses: Map<string, { output: Json; ok: boolean }[]>;
}

/**
 * Executions started by the recovery driver do not know their logical path; every execution of an
 * instance id shares the path of its first, so events are re-labelled through the iid.
 */
function normalizer(history: readonly HistoryEvent[]) {
  const byIid = new Map<string, { path: string; requestId: string }>();
  const execIid = new Map<string, string>();
  const orphans: StartEv[] = [];
  for (const h of history) {
    if (h.kind !== 'record') continue;
    const e = h.event as RuntimeEvent;
    if (e.ev !== 'execStart') continue;
    execIid.set(e.exec, e.iid);
    if (e.path !== '' && !byIid.has(e.iid)) byIid.set(e.iid, { path: e.path, requestId: e.requestId });
    if (e.path === '') orphans.push(e);
  }
  // A re-run callee whose first execution never started: its path is its caller's plus ordinal.
  for (let changed = true, guard = 0; changed && guard < 64; guard++) {
    changed = false;
    for (const e of orphans) {
      if (byIid.has(e.iid) || e.callerIid === null) continue;
      const c = byIid.get(e.callerIid);
      if (c) {
        byIid.set(e.iid, { path: `${c.path}/${e.ordinal}`, requestId: c.requestId });
        changed = true;
      }
    }
  }
  return {
    path(exec: string, path: string): string {
      if (path !== '') return path;
      return byIid.get(execIid.get(exec) ?? '')?.path ?? `?${exec}`;
    },
    requestId(exec: string, rq: string): string {
      if (rq !== '') return rq;
      return byIid.get(execIid.get(exec) ?? '')?.requestId ?? `?${exec}`;
    },
    pathOfIid(iid: string): string | null {
      return byIid.get(iid)?.path ?? null;
    },
  };
}

/** Parsed histories, per history array: the checkers and the reports share one pass. */
const parsedCache = new WeakMap<readonly HistoryEvent[], Parsed>();

function parse(history: readonly HistoryEvent[]): Parsed {
  const cached = parsedCache.get(history);
  if (cached) return cached;
  const p = parseUncached(history);
  parsedCache.set(history, p);
  return p;
}

function parseUncached(history: readonly HistoryEvent[]): Parsed {
  const p: Parsed = { starts: new Map(), ends: new Map(), ops: new Map(), execsByPath: new Map(), logs: [], store: [], responses: new Map() };
  const norm = normalizer(history);
  for (const h0 of history) {
    let h = h0;
    if (h.kind === 'record') {
      const e = h.event as RuntimeEvent | StoreEvent;
      if ('exec' in e && 'path' in e && (e.path === '' || e.requestId === '')) {
        h = { ...h, event: { ...e, path: norm.path(e.exec, e.path), requestId: norm.requestId(e.exec, e.requestId) } };
      } else if (e.ev === 'storeApply' && e.writeId !== null && e.writeId.startsWith('|')) {
        const [, ordinal, iid, cls] = e.writeId.split('|');
        h = { ...h, event: { ...e, writeId: `${norm.pathOfIid(iid!) ?? '?'}|${ordinal}|${iid}|${cls}` } };
      }
    }
    if (h.kind === 'ret') {
      const b = h.body as { ok: boolean; output?: Json };
      let l = p.responses.get(h.reqId);
      if (!l) p.responses.set(h.reqId, (l = []));
      l.push({ output: b.output ?? null, ok: b.ok });
      continue;
    }
    if (h.kind !== 'record') continue;
    const e = h.event as RuntimeEvent | StoreEvent;
    switch (e.ev) {
      case 'execStart': {
        p.starts.set(e.exec, e);
        let l = p.execsByPath.get(e.path);
        if (!l) p.execsByPath.set(e.path, (l = []));
        l.push(e.exec);
        break;
      }
      case 'execEnd':
        p.ends.set(e.exec, e);
        break;
      case 'wfOp': {
        let l = p.ops.get(e.exec);
        if (!l) p.ops.set(e.exec, (l = []));
        l.push(e);
        break;
      }
      case 'logOp':
        p.logs.push(e);
        break;
      case 'storeApply':
      case 'storeRead':
        p.store.push(e);
        break;
      case 'storeOp':
        break;
    }
  }
  return p;
}

function show(v: Json | undefined): string {
  const s = JSON.stringify(v ?? null);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

function opSig(o: OpEv): string {
  return `${o.kind} ${o.table ?? ''}/${o.key ?? ''} ${JSON.stringify(o.value)}`;
}

function showSig(sig: string | undefined): string {
  if (sig === undefined) return '(nothing)';
  return sig.length > 90 ? sig.slice(0, 87) + '...' : sig;
}

function asVersion(x: unknown, iid: string): Version {
  if (typeof x === 'bigint') return { s: x, w: 0, iid };
  return x as Version;
}

function vstr(v: Version): string {
  return `(${v.s},${v.w},${v.iid || '-'})`;
}

/**
 * The canonical execution of each path: the one that got furthest (the most operations returned
 * to its handler), whatever its outcome. The execution that logged Done may well have crashed a
 * moment later, leaving a retry that only replays the Done; every execution of the path must have
 * issued a prefix of the canonical one's operations (C2), so the longest is the reference.
 */
function completing(p: Parsed): Map<string, string> {
  const out = new Map<string, string>();
  for (const [path, execs] of p.execsByPath) {
    let best: string | null = null;
    let bestOps = -1;
    for (const ex of execs) {
      const n = p.ops.get(ex)?.length ?? 0;
      if (n > bestOps) {
        best = ex;
        bestOps = n;
      }
    }
    if (best !== null) out.set(path, best);
  }
  return out;
}

export interface ExactlyOnceOptions {
  /** The run's protocol; under switching, instances carry their own modes (execStart). */
  readonly mode: Mode;
  /** The mode whose read path sees the final state (default `mode`; TRANS reads the base row). */
  readonly finalMode?: (run: FinishedRun) => Mode;
  readonly variant: string | null;
  /** The log's final audit (ground truth); without it the checker uses the observed outcomes. */
  readonly audit?: (run: FinishedRun) => readonly AuditSlot[] | null;
}

/** What the log holds at the end, as the checks need it. */
interface LogView {
  /** Visible version records (PostWrite, Marker) per "table/key", in seqnum order. */
  readonly versions: Map<string, { seq: bigint; version: bigint }[]>;
  /** Visible Done outputs per instance id. */
  readonly dones: Map<string, string[]>;
  /** Records held per instance id (a slot overwritten by an InvokeResult holds two). */
  readonly held: Map<string, number>;
  readonly fromAudit: boolean;
}

function logView(run: FinishedRun, p: Parsed, opts: ExactlyOnceOptions): LogView {
  const versions = new Map<string, { seq: bigint; version: bigint }[]>();
  const dones = new Map<string, string[]>();
  const held = new Map<string, number>();
  const add = (rec: RecSummary, seq: bigint, visible: boolean) => {
    if (visible && (rec.kind === 'PostWrite' || rec.kind === 'Marker') && rec.version !== null) {
      const k = `${rec.table}/${rec.key}`;
      let l = versions.get(k);
      if (!l) versions.set(k, (l = []));
      l.push({ seq, version: rec.version });
    }
    if (visible && rec.kind === 'Done') {
      let l = dones.get(rec.iid);
      if (!l) dones.set(rec.iid, (l = []));
      l.push(JSON.stringify(rec.output));
    }
    if (visible) held.set(rec.iid, (held.get(rec.iid) ?? 0) + (rec.kind === 'InvokeResult' ? 2 : 1));
  };
  const audit = opts.audit?.(run) ?? null;
  if (audit) {
    for (const sl of audit) {
      const rec = summarizeData(sl.data);
      if (rec) add(rec, sl.seqnum, sl.visible);
    }
  } else {
    for (const l of p.logs) {
      if (l.code !== 'APPEND_OK' || !l.rec || l.seq === null || l.op === 'overwrite') continue;
      add(l.rec, l.seq, true);
    }
  }
  for (const l of versions.values()) l.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  return { versions, dones, held, fromAudit: audit !== null };
}

/** Verdicts per finished run: the checker and the report ask once each. */
const verdictCache = new WeakMap<FinishedRun, Violation[]>();

export function checkExactlyOnce(run: FinishedRun, opts: ExactlyOnceOptions): Violation[] {
  const cached = verdictCache.get(run);
  if (cached) return cached;
  const v = checkExactlyOnceUncached(run, opts);
  verdictCache.set(run, v);
  return v;
}

function checkExactlyOnceUncached(run: FinishedRun, opts: ExactlyOnceOptions): Violation[] {
  const p = parse(run.history);
  const v: Violation[] = [];
  const fail = (invariant: string, message: string) => {
    if (v.length < 20) v.push({ invariant, message });
  };
  const comp = completing(p);
  const lv = logView(run, p, opts);

  // ---- C2: replay consistency, and C4's fatal executions.
  for (const [path, execs] of p.execsByPath) {
    const winner = comp.get(path);
    const canonical = winner ? (p.ops.get(winner) ?? []).map(opSig) : null;
    let output: string | null = null;
    for (const ex of execs) {
      const end = p.ends.get(ex);
      if (end?.outcome === 'fatal') fail('C4-no-fatal', `execution ${ex} of ${path} ended fatally: ${end.reason}`);
      if (canonical) {
        const mine = (p.ops.get(ex) ?? []).map(opSig);
        for (let i = 0; i < mine.length; i++) {
          if (i >= canonical.length || mine[i] !== canonical[i]) {
            fail('C2-replay', `${path}: execution ${ex} issued operation ${i} as ${showSig(mine[i])}, the completing execution ${winner} as ${showSig(canonical[i])}`);
            break;
          }
        }
      }
      if (end?.outcome === 'done' && !end.replayedDone) {
        const o = JSON.stringify(end.output);
        if (output !== null && o !== output) fail('C2-replay', `${path}: completing executions returned different outputs ${show(JSON.parse(output))} and ${show(end.output)}`);
        output = o;
      }
    }
  }

  // ---- Committed logical writes, their commit positions and values.
  interface W {
    value: Json;
    pos: Version;
    path: string;
    ordinal: number;
    iid: string;
  }
  const writesByKey = new Map<string, W[]>();
  const writeAt = new Map<string, W>(); // `${path}|${ordinal}` -> write
  const pathIid = new Map<string, string>();
  for (const [path, ex] of comp) {
    const st = p.starts.get(ex)!;
    pathIid.set(path, st.iid);
    for (const o of p.ops.get(ex) ?? []) {
      if (o.kind !== 'write') continue;
      const commit = o.note.commit;
      // A write that a completing execution performed but that never gained a commit position
      // never becomes visible: the request's effect is lost (C1). Protocols always commit a write
      // (a log position or a version), so only a broken protocol reports null.
      if (commit === null) fail('C1-uncommitted', `${path} op ${o.ordinal}: write of ${o.table}/${o.key} completed without a commit position, so it never becomes visible`);
      if (commit === undefined || commit === null || (typeof commit === 'bigint' && commit < 0n)) continue;
      const w: W = { value: o.value, pos: asVersion(commit, o.iid), path, ordinal: o.ordinal, iid: o.iid };
      const key = `${o.table}/${o.key}`;
      let l = writesByKey.get(key);
      if (!l) writesByKey.set(key, (l = []));
      l.push(w);
      writeAt.set(`${path}|${o.ordinal}`, w);
    }
  }

  // ---- C1: final state through the final mode's read path.
  const store = run.view.state('store') as StoreState | undefined;
  if (store && !run.truncated) {
    const hmrStyle = (opts.finalMode ? opts.finalMode(run) : opts.mode) === 'HMR';
    // The latest version record per key (PostWrite or Marker), for HM-R's read path.
    const latest = new Map<string, { seq: bigint; version: bigint }>();
    for (const [k, l] of lv.versions) if (l.length > 0) latest.set(k, l[l.length - 1]!);
    const keys = new Set([...writesByKey.keys(), ...latest.keys()]);
    for (const key of keys) {
      const ws = writesByKey.get(key) ?? [];
      let best: W | null = null;
      for (const w of ws) if (best === null || versionCmp(best.pos, w.pos) < 0) best = w;
      const slash = key.indexOf('/');
      const [t, k] = [key.slice(0, slash), key.slice(slash + 1)];
      const init = store.rows.get(rowName(t, k, 'INIT'))?.value ?? null;
      const expected = best ? best.value : init;
      let actual: Json;
      if (hmrStyle) {
        const lt = latest.get(key);
        const row = lt ? rowName(t, k, lt.version) : rowName(t, k, 'INIT');
        const r = store.rows.get(row);
        actual = r ? r.value : null;
      } else actual = store.rows.get(rowName(t, k, 'BASE'))?.value ?? null;
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        fail('C1-final-state', `${key}: final value ${show(actual)}, but the committed write with the largest commit position ${best ? `(${best.path} op ${best.ordinal} at ${vstr(best.pos)})` : '(none: INIT)'} wrote ${show(expected)}`);
      }
    }
  }

  // ---- C3: no double application.
  const appliedIids = new Map<string, Set<string>>();
  const versions = new Map<string, { row: string; version: string }>();
  for (const e of p.store) {
    if (e.ev !== 'storeApply' || e.writeId === null) continue;
    const [path, ordinal, iid, cls] = e.writeId.split('|') as [string, string, string, string];
    let s = appliedIids.get(path);
    if (!s) appliedIids.set(path, (s = new Set()));
    s.add(iid);
    const id = `${path}|${ordinal}|${cls}`;
    const mine = { row: e.row, version: e.op === 'put' ? 'put' : vstr(e.version) };
    const prev = versions.get(id);
    if (prev && (prev.row !== mine.row || prev.version !== mine.version)) {
      fail('C3-double-apply', `logical write ${path} op ${ordinal} (${cls}) applied twice: ${prev.row} ${prev.version} and ${mine.row} ${mine.version}`);
    }
    versions.set(id, mine);
    const w = writeAt.get(`${path}|${ordinal}`);
    const pathMode = comp.has(path) ? p.starts.get(comp.get(path)!)!.mode : opts.mode;
    if (comp.has(path) && w === undefined && !(pathMode === 'HMW' || pathMode === 'UNSAFE')) {
      // A logged write applied by an execution whose instance never committed it.
      fail('C3-double-apply', `store write ${e.row} by ${path} op ${ordinal} belongs to no committed write of the completing execution`);
    }
    if (w && JSON.stringify(w.value) !== JSON.stringify(e.value)) {
      fail('C3-double-apply', `store write ${e.row} by ${path} op ${ordinal} applied ${show(e.value)}, the completing execution wrote ${show(w.value)}`);
    }
  }
  for (const [path, iids] of appliedIids) {
    if (iids.size > 1) fail('C3-double-apply', `${path}: writes applied by ${iids.size} different instance ids (${[...iids].slice(0, 3).join(', ')})`);
  }

  // ---- C4: one completion per request; one InvokeResult content per path.
  const tops = new Map<string, string>(); // top-level iid -> requestId (several iids under random ids)
  const topMode = new Map<string, Mode>();
  for (const st of p.starts.values()) {
    if (!st.top) continue;
    tops.set(st.iid, st.requestId);
    topMode.set(st.requestId, st.mode);
  }
  const dones = new Map<string, string[]>();
  for (const [iid, outs] of lv.dones) {
    const rq = tops.get(iid);
    if (rq === undefined) continue;
    let d = dones.get(rq);
    if (!d) dones.set(rq, (d = []));
    d.push(...outs);
  }
  const invokeResults = new Map<string, Set<string>>();
  for (const l of p.logs) {
    if (l.code !== 'APPEND_OK' || !l.rec) continue;
    if (l.rec.kind === 'InvokeResult') {
      const id = `${l.rec.iid}|${l.rec.step}`;
      let s = invokeResults.get(id);
      if (!s) invokeResults.set(id, (s = new Set()));
      s.add(JSON.stringify(l.rec.output));
    }
  }
  const calls = callsAndReturns(run.history).filter((c) => !isCoordinatorRequest(c.reqId));
  for (const c of calls) {
    const d = dones.get(c.reqId) ?? [];
    if (c.ret === Infinity) continue; // liveness judges requests that never finished
    // The Done ablation (spec §7.4) removes the record this check counts; its question is whether
    // retries still replay to one outcome, which C2 and C5 judge.
    if (d.length === 0 && opts.variant === 'ablate-done') continue;
    if (d.length === 0) fail('C4-one-completion', `request ${c.reqId} was answered but no Done record was logged`);
    else if (topMode.get(c.reqId) !== 'BOKI' && d.length > 1) fail('C4-one-completion', `request ${c.reqId} has ${d.length} successful Done records`);
    else if (new Set(d).size > 1) fail('C4-one-completion', `request ${c.reqId} has Done records with different outputs`);
  }
  for (const [id, s] of invokeResults) if (s.size > 1) fail('C4-one-completion', `invocation slot ${id} holds ${s.size} different InvokeResult contents`);

  // ---- C5: stable client output.
  for (const [reqId, rs] of p.responses) {
    if (isCoordinatorRequest(reqId)) continue;
    const oks = rs.filter((r) => r.ok);
    const outs = new Set(oks.map((r) => JSON.stringify(r.output)));
    if (outs.size > 1) fail('C5-stable-output', `request ${reqId} got ${outs.size} different outputs across responses`);
    const d = dones.get(reqId);
    if (d && d.length > 0 && oks.length > 0 && !d.includes(JSON.stringify(oks[0]!.output))) {
      fail('C5-stable-output', `request ${reqId} answered ${show(oks[0]!.output)} but its Done logged ${show(JSON.parse(d[0]!))}`);
    }
  }

  // ---- C6: read consistency.
  checkReads(p, comp, opts, writeAt, lv, fail);
  return v;
}

function checkReads(
  p: Parsed,
  comp: Map<string, string>,
  opts: ExactlyOnceOptions,
  writeAt: Map<string, { value: Json; pos: Version; path: string; ordinal: number; iid: string }>,
  lv: LogView,
  fail: (inv: string, msg: string) => void,
): void {
  // Base-row reads: every store read must have seen the row's applied version at that moment.
  const applied = new Map<string, string>();
  for (const e of p.store) {
    if (e.ev === 'storeApply') applied.set(e.row, vstr(e.version));
    else if (e.ev === 'storeRead' && e.row.endsWith('@BASE')) {
      const now = applied.get(e.row) ?? vstr(VERSION_ZERO);
      if (vstr(e.version) !== now) fail('C6-read-consistency', `store read of ${e.row} returned version ${vstr(e.version)} while ${now} was applied (a stale read)`);
    }
  }
  // The value each version names: base-row writes by version, HM-R writes by PostWrite seqnum.
  const byPos = new Map<string, Json>();
  for (const w of writeAt.values()) byPos.set(vstr(w.pos), w.value);
  // Key streams (HM-R): version records per key in seqnum order.
  const streams = new Map<string, bigint[]>();
  for (const [k, l] of lv.versions) streams.set(k, l.map((x) => x.seq));
  const hmrSeqValue = new Map<bigint, Json>();
  for (const w of writeAt.values()) if (w.pos.w === 0) hmrSeqValue.set(w.pos.s, w.value);

  for (const [path, ex] of comp) {
    for (const o of p.ops.get(ex) ?? []) {
      if (o.kind !== 'read' || o.note.witness === undefined) continue;
      const key = `${o.table}/${o.key}`;
      // A seqnum witness is an HM-R read (the PostWrite or Marker it resolved); a version is a base-row read.
      if (typeof o.note.witness === 'bigint') {
        const wseq = o.note.witness;
        const cursor = o.note.cursor ?? 0n;
        if (wseq !== 0n && hmrSeqValue.has(wseq) && JSON.stringify(hmrSeqValue.get(wseq)) !== JSON.stringify(o.value)) {
          fail('C6-read-consistency', `${path} op ${o.ordinal}: read ${key} = ${show(o.value)} but its witness PostWrite ${wseq} wrote ${show(hmrSeqValue.get(wseq))}`);
        }
        // The other direction: a snapshot read must not see a version above its cursor (a read from the future).
        if (o.note.cursor !== undefined && wseq > o.note.cursor) {
          fail('C6-read-past-cursor', `${path} op ${o.ordinal}: read ${key} saw PostWrite ${wseq}, above its cursor ${o.note.cursor} (a version its snapshot does not contain)`);
        }
        const s = streams.get(key) ?? [];
        const after = s.find((x) => x > wseq);
        if (after !== undefined && after <= cursor) {
          fail('C6-read-consistency', `${path} op ${o.ordinal}: read ${key} saw PostWrite ${wseq}, but ${after} was also at or below its cursor ${cursor} (a stale snapshot)`);
        }
      } else if (typeof o.note.witness === 'object' && o.note.witness !== null) {
        const wv = o.note.witness as Version;
        const named = byPos.get(vstr(wv));
        if (named !== undefined && JSON.stringify(named) !== JSON.stringify(o.value)) {
          fail('C6-read-consistency', `${path} op ${o.ordinal}: read ${key} = ${show(o.value)} but version ${vstr(wv)} wrote ${show(named)}`);
        }
      }
    }
  }
  // Program order: a request's own earlier writes bound its later reads (callees inlined).
  const byRequest = new Map<string, string[]>();
  for (const path of comp.keys()) {
    const rq = path.split('/')[0]!;
    let l = byRequest.get(rq);
    if (!l) byRequest.set(rq, (l = []));
    l.push(path);
  }
  for (const [rq] of byRequest) walkProgramOrder(p, comp, rq, new Map(), fail, opts);
}

function walkProgramOrder(p: Parsed, comp: Map<string, string>, path: string, own: Map<string, Version>, fail: (inv: string, msg: string) => void, opts: ExactlyOnceOptions): void {
  const ex = comp.get(path);
  if (!ex) return;
  for (const o of p.ops.get(ex) ?? []) {
    if (o.kind === 'invoke') {
      if (!o.async) walkProgramOrder(p, comp, `${path}/${o.ordinal}`, own, fail, opts);
      continue;
    }
    const key = `${o.table}/${o.key}`;
    if (o.kind === 'write') {
      const c = o.note.commit;
      if (c !== undefined && c !== null && !(typeof c === 'bigint' && c < 0n)) {
        const pos = asVersion(c, o.iid);
        const prev = own.get(key);
        // A serial execution applies a request's writes in program order: a later write to the
        // same key must commit after the earlier one, or the earlier one wins in the end (C1).
        if (prev && versionCmp(prev, pos) >= 0) fail('C1-program-order', `${path} op ${o.ordinal}: write of ${key} commits at ${vstr(pos)}, not after this request's earlier write at ${vstr(prev)}, so the earlier value wins`);
        if (!prev || versionCmp(prev, pos) < 0) own.set(key, pos);
      }
      continue;
    }
    const mine = own.get(key);
    if (!mine || o.note.witness === undefined || o.note.witness === null) continue;
    const wpos = typeof o.note.witness === 'bigint' ? { s: o.note.witness, w: 0, iid: '' } : (o.note.witness as Version);
    // Compare on the seqnum component; ties within one cursor are ordered by the write counter.
    const below = wpos.s < mine.s || (wpos.s === mine.s && wpos.w < mine.w && typeof o.note.witness !== 'bigint');
    if (below) fail('C6-program-order', `${path} op ${o.ordinal}: read ${key} saw ${vstr(wpos)}, older than this request's own earlier write at ${vstr(mine)}`);
  }
}

/** The switching coordinator's drain and reconcile requests are not workflow requests. */
export function isCoordinatorRequest(reqId: string): boolean {
  return reqId.startsWith('coord:');
}

export function exactlyOnceChecker(opts: ExactlyOnceOptions): Checker {
  return { name: 'exactly-once', check: (run) => checkExactlyOnce(run, opts) };
}

// ---------------------------------------------------------------------------------------------
// Log accounting (spec §5.4, §7.3)

export interface Counts {
  appends: number; // successful records appended or overwritten
  wasted: number; // failed conditional appends (invisible slots)
  logReads: number;
  storeReads: number;
  storeWrites: number;
}

/** Per-instance record formulas, failure-free (spec §5.4). */
export function formula(mode: Mode, top: boolean, r: number, w: number, v: number): number {
  switch (mode) {
    case 'BOKI':
      return 2 + r + 2 * w + 2 * v;
    case 'HMR':
      return (top ? 2 : 0) + 2 * w + 2 * v;
    case 'HMW':
      return (top ? 2 : 0) + r + 2 * v;
    case 'TRANS':
      return (top ? 2 : 0) + r + 2 * w + 2 * v;
    case 'UNSAFE':
      return (top ? 2 : 0) + 2 * v;
  }
}

const APPENDS = new Set(['append', 'condAppend', 'overwrite']);
const READS = new Set(['readNext', 'readPrev', 'checkTail']);

export interface RequestAccounting {
  readonly requestId: string;
  readonly counts: Counts;
  readonly expected: number;
  /** Logged data operations (reads or writes that produced at least one record). */
  readonly loggedOps: number;
  readonly reads: number;
  readonly writes: number;
}

const accountingCache = new WeakMap<readonly HistoryEvent[], Map<string, RequestAccounting>>();

export function accounting(history: readonly HistoryEvent[], mode: Mode): Map<string, RequestAccounting> {
  const cached = accountingCache.get(history);
  if (cached) return cached;
  const a = accountingUncached(history, mode);
  accountingCache.set(history, a);
  return a;
}

function accountingUncached(history: readonly HistoryEvent[], mode: Mode): Map<string, RequestAccounting> {
  void mode; // formulas use each instance's own mode
  const p = parse(history);
  const comp = completing(p);
  const counts = new Map<string, Counts>();
  const get = (rq: string) => {
    let c = counts.get(rq);
    if (!c) counts.set(rq, (c = { appends: 0, wasted: 0, logReads: 0, storeReads: 0, storeWrites: 0 }));
    return c;
  };
  // An overwrite replaces a record's payload: repeated overwrites of one slot are one record.
  const overwritten = new Set<string>();
  for (const l of p.logs) {
    const c = get(l.requestId);
    if (APPENDS.has(l.op)) {
      if (l.code === 'APPEND_OK') {
        if (l.op === 'overwrite') {
          const slot = `${l.rec?.iid}|${l.rec?.step}`;
          if (overwritten.has(slot)) continue;
          overwritten.add(slot);
        }
        c.appends++;
      } else if (l.code === 'COND_FAILED') c.wasted++;
    } else if (READS.has(l.op)) c.logReads++;
  }
  for (const h of history) {
    if (h.kind !== 'record') continue;
    const e = h.event as RuntimeEvent;
    if (e.ev === 'storeOp') {
      const c = get(e.requestId === '' ? `?${e.exec}` : e.requestId);
      if (e.op === 'get') c.storeReads++;
      else c.storeWrites++;
    }
  }
  const out = new Map<string, RequestAccounting>();
  const expected = new Map<string, { exp: number; logged: number; r: number; w: number }>();
  for (const [path, ex] of comp) {
    const st = p.starts.get(ex)!;
    const ops = p.ops.get(ex) ?? [];
    const r = ops.filter((o) => o.kind === 'read').length;
    const w = ops.filter((o) => o.kind === 'write').length;
    const v = ops.filter((o) => o.kind === 'invoke').length;
    const rq = path.split('/')[0]!;
    const e = expected.get(rq) ?? { exp: 0, logged: 0, r: 0, w: 0 };
    e.exp += formula(st.mode, st.top, r, w, v);
    e.logged += loggedDataOps(st.mode, r, w);
    e.r += r;
    e.w += w;
    expected.set(rq, e);
  }
  for (const [rq, c] of counts) {
    const e = expected.get(rq);
    out.set(rq, { requestId: rq, counts: c, expected: e?.exp ?? -1, loggedOps: e?.logged ?? 0, reads: e?.r ?? 0, writes: e?.w ?? 0 });
  }
  return out;
}

/** Data operations a protocol logs (spec §7.3 P5): W under HM-R, R under HM-W, both otherwise. */
export function loggedDataOps(mode: Mode, r: number, w: number): number {
  switch (mode) {
    case 'HMR':
      return w;
    case 'HMW':
      return r;
    case 'UNSAFE':
      return 0;
    case 'BOKI':
    case 'TRANS':
      return r + w;
  }
}

export function logAccountingChecker(opts: { mode: Mode; exact: boolean; audit?: ExactlyOnceOptions['audit'] }): Checker {
  return {
    name: 'log-accounting',
    check(run: FinishedRun): Violation[] {
      const v: Violation[] = [];
      const acc = accounting(run.history, opts.mode);
      const p = parse(run.history);
      // Records each request's instances hold in the log at the end (the audit, when there is one).
      const lv = logView(run, p, { mode: opts.mode, variant: null, ...(opts.audit ? { audit: opts.audit } : {}) });
      const heldBy = new Map<string, number>();
      if (lv.fromAudit) {
        const iidRequest = new Map<string, string>();
        for (const st of p.starts.values()) if (st.requestId !== '' && !iidRequest.has(st.iid)) iidRequest.set(st.iid, st.requestId);
        for (const [iid, n] of lv.held) {
          const rq = iidRequest.get(iid);
          if (rq !== undefined) heldBy.set(rq, (heldBy.get(rq) ?? 0) + n);
        }
      }
      // P4 asymmetry: HM-R appends nothing during a read, HM-W nothing during a write.
      for (const l of p.logs) {
        if (!APPENDS.has(l.op) || l.stage !== 'op') continue;
        const m = p.starts.get(l.exec)?.mode ?? opts.mode;
        if (m === 'HMR' && l.opKind === 'read') v.push({ invariant: 'P4-asymmetry', message: `HM-R appended ${l.rec?.kind} during a read (${l.path})` });
        if (m === 'HMW' && l.opKind === 'write') v.push({ invariant: 'P4-asymmetry', message: `HM-W appended ${l.rec?.kind} during a write (${l.path})` });
        if (v.length > 10) return v;
      }
      const reqMode = new Map<string, Mode>();
      for (const st of p.starts.values()) if (st.top) reqMode.set(st.requestId, st.mode);
      for (const a of acc.values()) {
        if (a.expected < 0) continue; // never completed: liveness judges it
        const mode = reqMode.get(a.requestId) ?? opts.mode;
        if (opts.exact && a.counts.appends !== a.expected) {
          v.push({ invariant: 'P1-exact-counts', message: `request ${a.requestId}: ${a.counts.appends} records appended, the ${mode} formula gives ${a.expected}` });
        }
        const held = lv.fromAudit ? (heldBy.get(a.requestId) ?? 0) : a.counts.appends;
        if (!opts.exact && mode !== 'BOKI' && held > a.expected) {
          v.push({ invariant: 'P2-fault-bound', message: `request ${a.requestId}: the log holds ${held} of its records, above the ${mode} formula's ${a.expected}` });
        }
        if ((mode === 'HMR' && a.loggedOps > a.writes) || (mode === 'HMW' && a.loggedOps > a.reads)) {
          v.push({ invariant: 'P5-optimal-count', message: `request ${a.requestId}: ${a.loggedOps} logged data operations` });
        }
        if (v.length > 10) return v;
      }
      return v;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The run report (`halfmoon run --json` fields of issue 4)

export function halfmoonReport(run: FinishedRun, protocol: string, mode: Mode, audit?: ExactlyOnceOptions['audit'], finalMode?: ExactlyOnceOptions['finalMode']): Record<string, unknown> {
  const acc = accounting(run.history, mode);
  const calls = callsAndReturns(run.history).filter((c) => !isCoordinatorRequest(c.reqId));
  const done = calls.filter((c) => c.ret !== Infinity);
  const lat = done.map((c) => c.ret - c.call).sort((a, b) => a - b);
  const q = (f: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(f * lat.length))]! : 0);
  let appends = 0;
  let wasted = 0;
  let logReads = 0;
  let storeReads = 0;
  let storeWrites = 0;
  for (const a of acc.values()) {
    appends += a.counts.appends;
    wasted += a.counts.wasted;
    logReads += a.counts.logReads;
    storeReads += a.counts.storeReads;
    storeWrites += a.counts.storeWrites;
  }
  const n = Math.max(1, done.length);
  const eo = checkExactlyOnce(run, { mode, variant: null, ...(audit ? { audit } : {}), ...(finalMode ? { finalMode } : {}) });
  return {
    protocol,
    requests: done.length,
    log: { appends, appendsPerRequest: round(appends / n), wastedSlots: wasted, reads: logReads, readsPerRequest: round(logReads / n) },
    store: { reads: storeReads, writes: storeWrites },
    latencyUs: { p50: q(0.5), p99: q(0.99), mean: lat.length ? Math.round(lat.reduce((a, b) => a + b, 0) / lat.length) : 0 },
    exactlyOnce: eo.length === 0,
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

