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
 *   C6 read consistency each read returned the value its witness names (INIT's when it names
 *                       none), the witness is a version of its key, it was the latest write at
 *                       the read's position and not above it, and program order holds
 *
 * A *logical* operation is (path, ordinal): the request id followed by the ordinals of the invokes
 * down the call tree, then the operation's ordinal in its function.
 *
 * Layout. This file holds the checks C1-C6; the parsed history they read, shared with log
 * accounting, is proofs/workflow-history.ts; log accounting and its checker are
 * proofs/accounting.ts; the run report that combines both is proofs/halfmoon-report.ts.
 */
import type { Checker, FinishedRun, Violation } from '../src/core/system.ts';
import { type Json, type Mode, type Version, rowName, VERSION_ZERO, versionCmp } from '../src/halfmoon/records.ts';
import type { StoreState } from '../src/halfmoon/store.ts';
import { protocolOf } from '../src/halfmoon/protocols.ts';
import { callsAndReturns } from './liveness.ts';
import { type Parsed, parse, show, opSig, showSig, asVersion, vstr, completing, type ExactlyOnceOptions, type LogView, logView } from './workflow-history.ts';

function bokiStyle(m: Mode | undefined): boolean {
  return m !== undefined && protocolOf(m).style === 'boki';
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
    const hmrStyle = protocolOf(opts.finalMode ? opts.finalMode(run) : opts.mode).finalRead === 'versioned';
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
    if (comp.has(path) && w === undefined && protocolOf(pathMode).logs.writes) {
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
    else if (!bokiStyle(topMode.get(c.reqId)) && d.length > 1) fail('C4-one-completion', `request ${c.reqId} has ${d.length} successful Done records`);
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
  const initValue = (t: string, k: string): Json | undefined => (store ? (store.rows.get(rowName(t, k, 'INIT'))?.value ?? null) : undefined);
  checkReads(p, comp, opts, writeAt, lv, initValue, fail);
  return v;
}

function checkReads(
  p: Parsed,
  comp: Map<string, string>,
  opts: ExactlyOnceOptions,
  writeAt: Map<string, { value: Json; pos: Version; path: string; ordinal: number; iid: string }>,
  lv: LogView,
  initValue: (table: string, key: string) => Json | undefined,
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
        // The witness itself: INIT (0), whose value the read must return, or a version record of
        // this key in the log; a read that names neither returned a value no snapshot holds.
        if (wseq === 0n) {
          const init = initValue(o.table!, o.key!);
          if (init !== undefined && JSON.stringify(init) !== JSON.stringify(o.value)) fail('C6-read-witness', `${path} op ${o.ordinal}: read ${key} = ${show(o.value)} with no version at or below its cursor ${cursor}, but INIT holds ${show(init)}`);
        } else if (!s.includes(wseq)) {
          fail('C6-read-witness', `${path} op ${o.ordinal}: read ${key} names witness ${wseq}, which is no version record of ${key} in the log`);
        }
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
        // The base row's initial version names INIT's value (the workload populates both alike).
        if (named === undefined && vstr(wv) === vstr(VERSION_ZERO)) {
          const init = initValue(o.table!, o.key!);
          if (init !== undefined && JSON.stringify(init) !== JSON.stringify(o.value)) fail('C6-read-witness', `${path} op ${o.ordinal}: read ${key} = ${show(o.value)} at the base row's initial version, but INIT holds ${show(init)}`);
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
