/**
 * The protocols, each a small set of rules over the shared machinery of steps.ts (spec §3-§6,
 * §8.3, §10): how an instance starts and finishes, and how it reads, writes and invokes.
 *
 *   BOKI    logs everything, BokiFlow-style: plain appends, catch-up reads, first record wins.
 *   HMR     log-free reads (readPrev on the key stream at the cursor), writes logged twice.
 *   HMW     log-free writes (Thomas-rule conditional updates versioned by the cursor), reads logged.
 *   TRANS   logs both sides with Halfmoon primitives; safe beside either (used while switching).
 *   UNSAFE  HM-R's read discipline with HM-W's writes: the negative control that must fail.
 */
import { TAG_ANY } from '../boki/api.ts';
import { assert, InputError } from '../core/assert.ts';
import { decodeRecord, encodeRecord, type Envelope, type Json, keyTag, type Mode, rowName, type StepRecord, stepTag, type Version, VERSION_ZERO } from './records.ts';
import { setStyle } from './styles.ts';
import { bokiPost, bokiPropose, type ChildSpec, type OpIO, postAt, proposeStep, type Scratch, stepAt, variant } from './steps.ts';

export interface Rules {
  /** After catch-up, before the handler: top-level Intent, callee cursor setup. */
  begin(io: OpIO, x: Scratch): void;
  read(io: OpIO, x: Scratch, table: string, key: string): Json;
  write(io: OpIO, x: Scratch, table: string, key: string, value: Json): void;
  invoke(io: OpIO, x: Scratch, fn: string, input: Json, async: boolean, ordinal: number): Json;
  /** After the handler returned: top-level Done; callee InvokeResult. */
  finish(io: OpIO, x: Scratch, output: Json): void;
}

/**
 * Log-optimality ablations (spec §7.4): `ablate-<kind>` omits one record kind; the operation runs
 * live on every execution, the cursor does not move, and derived fields take a live substitute.
 */
function ablated(x: Scratch, kind: 'intent' | 'done' | 'prewrite' | 'postwrite' | 'postread' | 'preinvoke' | 'invokeresult' | 'callee-markers'): boolean {
  return x.env.variant === `ablate-${kind}`;
}

function maxLex(x: Scratch, cursor: bigint, w: number): void {
  if (cursor > x.c || (cursor === x.c && w > x.w)) {
    x.c = cursor;
    x.w = w;
  }
}

function rowV(x: Scratch, table: string, key: string, v: bigint): string {
  // version-float64: the artifact's float versions collapse nearby large seqnums into one row.
  const vv = variant(x, 'version-float64') ? BigInt(Math.round(Number(v))) : v;
  return rowName(table, key, vv);
}

function writeId(x: Scratch): string {
  return `${x.ex.iid}#${x.n}:${x.w}`;
}

// ---------------------------------------------------------------------------------------------
// Shared Halfmoon pieces (HMR, HMW, TRANS, UNSAFE)

function hmBegin(io: OpIO, x: Scratch): void {
  if (x.ex.top) {
    if (ablated(x, 'intent')) {
      // Without an Intent the start cursor is the log's tail (where the Intent would have landed;
      // the INTENT stream itself stays empty), read anew by each execution.
      const r = io.log({ op: 'checkTail', tag: TAG_ANY });
      x.n = 0;
      x.c = r.code === 'READ_OK' ? r.record.seqnum : 0n;
      x.w = 0;
      return;
    }
    const p = proposeStep(io, x, [x.env.intentTag], { kind: 'Intent', input: x.ex.input, mode: x.ex.mode, async: false });
    if (p.rec.kind === 'Intent' && JSON.stringify(p.rec.input) !== JSON.stringify(x.ex.input)) io.fatal(`intent of ${x.ex.iid} logged a different input`);
    return;
  }
  // A callee has no Intent: its caller's PreInvoke made it durable. It starts at that cursor.
  x.n = 0;
  x.c = x.ex.startCursor;
  x.w = 0;
}

function hmFinish(io: OpIO, x: Scratch, output: Json): void {
  if (x.ex.top) {
    if (ablated(x, 'done')) return;
    if (variant(x, 'done-plain-append')) {
      const s = x.n++;
      const rec: StepRecord = { kind: 'Done', iid: x.ex.iid, step: s, output };
      const r = io.log({ op: 'append', tags: [x.env.intentTag], data: encodeRecord({ rec }) }, { rec });
      if (r.code !== 'APPEND_OK') io.abort(`done append failed: ${r.code}`);
      return;
    }
    proposeStep(io, x, [x.env.intentTag], { kind: 'Done', output });
    return;
  }
  const caller = x.ex.caller!;
  // No InvokeResult (ablated), or no PreInvoke slot to hold one.
  if (ablated(x, 'invokeresult') || caller.step < 0) return;
  const env: Envelope = variant(x, 'invoke-result-unwrapped')
    ? // The artifact writes the callee's raw result into the caller's slot: no wrapper, no cursor.
      { rec: { kind: 'InvokeResult', iid: x.ex.iid, step: caller.step, calleeIid: x.ex.iid, output, calleeCursor: 0n, calleeW: 0 } }
    : { rec: { kind: 'InvokeResult', iid: caller.iid, step: caller.step, calleeIid: x.ex.iid, output, calleeCursor: x.c, calleeW: x.w } };
  const r = io.log({ op: 'overwrite', tag: stepTagOf(x, caller.iid), pos: caller.step, data: encodeRecord(env) }, env);
  if (r.code !== 'APPEND_OK') io.abort(`InvokeResult overwrite failed: ${r.code}`);
}

function stepTagOf(x: Scratch, iid: string): bigint {
  return stepTag(x.env.tags, iid);
}

function hmInvoke(io: OpIO, x: Scratch, fn: string, input: Json, async: boolean, ordinal: number): Json {
  if (ablated(x, 'preinvoke')) return liveInvoke(io, x, fn, input, async, ordinal, true);
  const s = x.n;
  const live = !stepAt(x, s);
  // A fresh callee id, drawn by the live execution and persisted in the PreInvoke (spec §1.3).
  const calleeIid = live ? `${x.ex.iid}>${io.random('callee').toString(16)}` : '';
  const p = proposeStep(io, x, [x.env.intentTag], { kind: 'PreInvoke', calleeIid, fn, input, async, mode: x.ex.mode, ordinal });
  if (p.seq < 0n) return null; // advisory-exit lost the slot and carries on without a callee
  const noPropagation = variant(x, 'hmr-caller-misses-callee-writes') || variant(x, 'hmw-caller-write-dropped');
  if (p.rec.kind === 'InvokeResult') {
    if (!async && !noPropagation) maxLex(x, p.rec.calleeCursor, p.rec.calleeW);
    return async ? null : p.rec.output;
  }
  const rec = p.rec;
  if (rec.kind !== 'PreInvoke') return io.fatal(`step ${s} holds ${rec.kind}, not an invocation`);
  const child: ChildSpec = { calleeIid: rec.calleeIid, fn, input, startCursor: p.seq, callerStep: s, mode: x.ex.mode, async, ordinal };
  if (async) {
    io.spawn(child);
    return null;
  }
  const r = io.invoke(child);
  if (!noPropagation) maxLex(x, r.cursor, r.cw);
  return r.output;
}

/** An invocation without a PreInvoke (ablated): a fresh callee id every execution, at the cursor. */
function liveInvoke(io: OpIO, x: Scratch, fn: string, input: Json, async: boolean, ordinal: number, propagate: boolean): Json {
  const child: ChildSpec = { calleeIid: `${x.ex.iid}>${io.random('callee').toString(16)}`, fn, input, startCursor: x.c, callerStep: -1, mode: x.ex.mode, async, ordinal };
  if (async) {
    io.spawn(child);
    return null;
  }
  const r = io.invoke(child);
  if (propagate) maxLex(x, r.cursor, r.cw);
  return r.output;
}

/** The bound a past-cursor read uses instead of the cursor (any seqnum the log hands out is below it). */
const READ_PAST_CURSOR_MAX = (1n << 62n) - 1n;

/** HM-R read (§3.3): the latest version at or below the cursor, then the version row. */
function hmrRead(io: OpIO, x: Scratch, table: string, key: string): Json {
  const tag = keyTag(x.env.tags, table, key);
  // Variant hmr-read-past-cursor: the snapshot bound is dropped, so a read sees the latest version.
  let max = variant(x, 'hmr-read-past-cursor') ? READ_PAST_CURSOR_MAX : x.c;
  let witness: bigint | null = null;
  let version: bigint | null = null;
  // Variant hmr-empty-snapshot-reads-latest: a key with no version at or below the cursor falls
  // back to its latest version row (the witness stays INIT), instead of reading INIT.
  const passes = variant(x, 'hmr-empty-snapshot-reads-latest') ? 2 : 1;
  for (let pass = 0; pass < passes && version === null; pass++) {
    if (pass === 1) max = READ_PAST_CURSOR_MAX;
    for (let guard = 0; guard < 10_000; guard++) {
      const r = io.log({ op: 'readPrev', tag, maxSeq: max });
      if (r.code === 'EMPTY') break;
      if (r.code !== 'READ_OK') io.abort(`readPrev failed: ${r.code}`);
      const env = decodeRecord(r.record.data);
      if (env === null || (env.rec.kind !== 'PostWrite' && env.rec.kind !== 'Marker')) io.fatal(`key stream of ${table}/${key}: record at ${r.record.seqnum} is not a version`);
      const rec = env.rec;
      const mine = rec.table === table && rec.key === key;
      if (!mine && !variant(x, 'keytag-xor-symmetric')) {
        x.foreign++;
        max = r.record.seqnum - 1n;
        continue;
      }
      if (pass === 0) witness = r.record.seqnum;
      version = rec.version;
      break;
    }
  }
  // switch-no-reconciliation: the artifact's single row k_0 serves as INIT and base at once.
  const initRow = variant(x, 'switch-no-reconciliation') ? rowName(table, key, 'BASE') : rowName(table, key, 'INIT');
  const row = version === null ? initRow : rowV(x, table, key, version);
  const got = io.get(row);
  if (!got.found) {
    // A key nobody populated and nobody wrote reads as null, as on the base row.
    if (version === null) {
      x.note = { witness: 0n, cursor: x.c };
      return null;
    }
    io.fatal(`HM-R read of ${table}/${key} at cursor ${x.c}: version row ${row} (PostWrite ${witness}) does not exist`);
  }
  x.note = { witness: witness ?? 0n, cursor: x.c };
  return got.value;
}

/** HM-R and transitional write (§3.2, §8.3): PreWrite, version row, PostWrite, then the mirror. */
function loggedWrite(io: OpIO, x: Scratch, table: string, key: string, value: Json, mirror: boolean): void {
  // Without a PreWrite (ablated) the version row is named by the current cursor.
  const v = ablated(x, 'prewrite') ? x.c : proposeStep(io, x, [], { kind: 'PreWrite', table, key }).seq;
  const next = stepAt(x, x.n);
  if (next && !variant(x, 'hmr-no-postwrite-skip')) {
    // The write committed in an earlier execution: skip the store, re-issue only the mirror.
    if (next.rec.kind !== 'PostWrite' || next.rec.table !== table || next.rec.key !== key || next.rec.version !== v) {
      io.fatal(`replay mismatch after PreWrite ${v}: step ${x.n} holds ${next.rec.kind}`);
    }
    x.n++;
    if (next.seq > x.c) {
      x.c = next.seq;
      x.w = 0;
    }
    const baseS = variant(x, 'transitional-dual-order') ? v : next.seq;
    if (mirror) io.store({ op: 'condUpdate', row: rowName(table, key, 'BASE'), value, version: { s: baseS, w: 0, iid: x.ex.iid } }, writeId(x));
    x.note = { commit: next.seq, replayed: true, row: rowV(x, table, key, v) };
    return;
  }
  const early = mirror && variant(x, 'transitional-early-commit');
  // The PostWrite commits the write, so it goes after the version row exists (spec §10.1 item 5);
  // the transitional-early-commit variant logs it first, as the artifact's parallel issue could.
  let post = early ? proposeStep(io, x, [keyTag(x.env.tags, table, key)], { kind: 'PostWrite', table, key, version: v }) : null;
  if (v >= 0n) io.store({ op: 'put', row: rowV(x, table, key, v), value }, writeId(x));
  if (ablated(x, 'postwrite')) {
    // No PostWrite: nothing ever commits the write (no commit position).
    x.note = { commit: null, row: rowV(x, table, key, v) };
    return;
  }
  if (post === null) post = proposeStep(io, x, [keyTag(x.env.tags, table, key)], { kind: 'PostWrite', table, key, version: v });
  // transitional-dual-order: the base row ordered by PreWrite while the stream is ordered by PostWrite.
  const baseS = mirror && variant(x, 'transitional-dual-order') ? v : post.seq;
  if (mirror && post.seq >= 0n) io.store({ op: 'condUpdate', row: rowName(table, key, 'BASE'), value, version: { s: baseS, w: 0, iid: x.ex.iid } }, writeId(x));
  x.note = { commit: post.seq, replayed: post.replayed, row: rowV(x, table, key, v) };
}

/** HM-W read (§4.2): a logged PostRead carrying the base row's value. */
function loggedRead(io: OpIO, x: Scratch, table: string, key: string): Json {
  if (ablated(x, 'postread')) return unloggedBaseRead(io, x, table, key);
  // Variant hmw-reread-unlogged: only the first read of a key in an execution is logged; a repeat
  // goes to the base row live (a replay may then read a newer value).
  if (variant(x, 'hmw-reread-unlogged') && x.ex.ops.some((o) => o.kind === 'read' && o.table === table && o.key === key)) return unloggedBaseRead(io, x, table, key);
  const have = stepAt(x, x.n);
  if (have) {
    const p = proposeStep(io, x, [], { kind: 'PostRead', table, key, value: null, version: VERSION_ZERO });
    const rec = p.rec;
    if (rec.kind !== 'PostRead') return io.fatal(`replay mismatch: ${rec.kind}`);
    x.note = { witness: rec.version, replayed: true };
    return rec.value;
  }
  const got = io.get(rowName(table, key, 'BASE'));
  const untyped = variant(x, 'postread-untyped');
  const p = proposeStep(io, x, [], untyped ? ({ kind: 'PostRead', value: got.value, version: got.version } as never) : { kind: 'PostRead', table, key, value: got.value, version: got.version });
  x.note = { witness: got.version };
  return p.rec.kind === 'PostRead' ? p.rec.value : got.value;
}

/** HM-W write (§4.3): a Thomas-rule update versioned (cursor, write counter, iid); no log. */
function unloggedWrite(io: OpIO, x: Scratch, table: string, key: string, value: Json): void {
  x.w += 1;
  const ver: Version = variant(x, 'hmw-version-tie') ? { s: x.c, w: 0, iid: '' } : { s: x.c, w: x.w, iid: x.ex.iid };
  io.store({ op: 'condUpdate', row: rowName(table, key, 'BASE'), value, version: ver }, writeId(x));
  x.note = { commit: ver };
}

/** UNSAFE read: HM-R's log-free discipline on HM-W's layout. */
function unloggedBaseRead(io: OpIO, x: Scratch, table: string, key: string): Json {
  const got = io.get(rowName(table, key, 'BASE'));
  x.note = { witness: got.version };
  return got.value;
}

const HMR: Rules = {
  begin: hmBegin,
  read: hmrRead,
  write: (io, x, t, k, v) => loggedWrite(io, x, t, k, v, x.env.mirrorBase),
  invoke: hmInvoke,
  finish: hmFinish,
};

const HMW: Rules = { begin: hmBegin, read: loggedRead, write: unloggedWrite, invoke: hmInvoke, finish: hmFinish };

const TRANS: Rules = {
  begin: hmBegin,
  read: loggedRead,
  write: (io, x, t, k, v) => loggedWrite(io, x, t, k, v, true),
  invoke: hmInvoke,
  finish: hmFinish,
};

const UNSAFE: Rules = { begin: hmBegin, read: unloggedBaseRead, write: unloggedWrite, invoke: hmInvoke, finish: hmFinish };

// ---------------------------------------------------------------------------------------------
// BokiFlow (spec §5.1)

const BOKI: Rules = {
  begin(io, x) {
    x.n = 0;
    if (!x.ex.top) x.c = x.ex.startCursor;
    if (ablated(x, 'intent') || (!x.ex.top && ablated(x, 'callee-markers'))) return;
    // Every execution, callees included, appends an intent marker.
    const env: Envelope = { rec: { kind: 'Intent', iid: x.ex.iid, step: -1, input: x.ex.input, mode: 'BOKI', async: false }, marker: true };
    const r = io.log({ op: 'append', tags: [stepTagOf(x, x.ex.iid), x.env.intentTag], data: encodeRecord(env) }, env);
    if (r.code !== 'APPEND_OK') io.abort(`intent append failed: ${r.code}`);
  },
  read(io, x, table, key) {
    if (ablated(x, 'postread')) return unloggedBaseRead(io, x, table, key);
    const s = x.n;
    if (stepAt(x, s)) {
      const rec = bokiPropose(io, x, { kind: 'PostRead', table, key, value: null, version: VERSION_ZERO }).rec;
      if (rec.kind !== 'PostRead') return io.fatal('replay mismatch');
      x.note = { witness: rec.version, replayed: true };
      return rec.value;
    }
    const got = io.get(rowName(table, key, 'BASE'));
    const rec = bokiPropose(io, x, { kind: 'PostRead', table, key, value: got.value, version: got.version }).rec;
    if (rec.kind !== 'PostRead') return io.fatal('replay mismatch');
    // The winner's value, which is ours unless a duplicate execution logged this step first.
    x.note = { witness: rec.version };
    return rec.value;
  },
  write(io, x, table, key, value) {
    if (ablated(x, 'prewrite')) {
      // No PreWrite: the version is the latest step's seqnum, and no post-step can attach.
      const ver: Version = { s: x.c, w: 0, iid: x.ex.iid };
      io.store({ op: 'condUpdate', row: rowName(table, key, 'BASE'), value, version: ver }, writeId(x));
      x.note = { commit: ver };
      return;
    }
    const p = bokiPropose(io, x, { kind: 'PreWrite', table, key });
    const s = x.n - 1;
    const done = postAt(x, s);
    if (p.replayed && done && done.rec.kind === 'PostWrite') {
      x.note = { commit: { s: p.seq, w: 0, iid: x.ex.iid }, replayed: true };
      return;
    }
    const ver: Version = { s: p.seq, w: 0, iid: x.ex.iid };
    io.store({ op: 'condUpdate', row: rowName(table, key, 'BASE'), value, version: ver }, writeId(x));
    if (!ablated(x, 'postwrite')) bokiPost(io, x, x.ex.iid, { kind: 'PostWrite', iid: x.ex.iid, step: s, table, key, version: p.seq });
    x.note = { commit: ver };
  },
  invoke(io, x, fn, input, async, ordinal) {
    if (ablated(x, 'preinvoke')) return liveInvoke(io, x, fn, input, async, ordinal, false);
    const live = !stepAt(x, x.n);
    const calleeIid = live ? `${x.ex.iid}>${io.random('callee').toString(16)}` : '';
    // Tagged INTENT as in Halfmoon, so the recovery driver finds abandoned async callees.
    const p = bokiPropose(io, x, { kind: 'PreInvoke', calleeIid, fn, input, async, mode: 'BOKI', ordinal }, [x.env.intentTag]);
    const s = x.n - 1;
    const rec = p.rec;
    if (rec.kind !== 'PreInvoke') return io.fatal(`boki step ${s} holds ${rec.kind}`);
    const res = postAt(x, s);
    if (res && res.rec.kind === 'InvokeResult') return async ? null : res.rec.output;
    const child: ChildSpec = { calleeIid: rec.calleeIid, fn, input, startCursor: p.seq, callerStep: s, mode: 'BOKI', async, ordinal };
    if (async) {
      io.spawn(child);
      return null;
    }
    return io.invoke(child).output;
  },
  finish(io, x, output) {
    if (!x.ex.top && !ablated(x, 'invokeresult') && x.ex.caller!.step >= 0) {
      const caller = x.ex.caller!;
      bokiPost(io, x, caller.iid, { kind: 'InvokeResult', iid: caller.iid, step: caller.step, calleeIid: x.ex.iid, output, calleeCursor: x.c, calleeW: 0 });
    }
    if (ablated(x, 'done') || (!x.ex.top && ablated(x, 'callee-markers'))) return;
    const env: Envelope = { rec: { kind: 'Done', iid: x.ex.iid, step: -1, output }, marker: true };
    const r = io.log({ op: 'append', tags: [stepTagOf(x, x.ex.iid), x.env.intentTag], data: encodeRecord(env) }, env);
    if (r.code !== 'APPEND_OK') io.abort(`done append failed: ${r.code}`);
  },
};

// ---------------------------------------------------------------------------------------------
// The protocol registry: built-ins and plugins alike register through `defineProtocol`.

/** One protocol: its rules over the shared workflow runtime and what the checkers expect of it. */
export interface ProtocolDef {
  /** The name scenarios and `--protocol` use (lower-case, e.g. 'hm-read'). */
  readonly name: string;
  /** The mode tag its records and requests carry (upper-case, e.g. 'HMR'); one rule set per mode. */
  readonly mode: Mode;
  readonly description: string;
  readonly rules: Rules;
  /**
   * Records one instance appends to the log in a failure-free run, given its reads (r), writes
   * (w) and invocations (v), and whether it is a top-level instance or a callee. Log accounting
   * (P1-exact-counts) checks every request against the sum over its instances exactly.
   */
  records(c: { readonly top: boolean; readonly r: number; readonly w: number; readonly v: number }): number;
  /** Which data operations append to the log (P4: none during an unlogged kind; P5 counts). */
  readonly logs: { readonly reads: boolean; readonly writes: boolean };
  /** Where a read finds the latest value: versioned rows named by key-stream records, or the base row. */
  readonly finalRead: 'versioned' | 'base';
  /**
   * Record discipline: 'halfmoon' (conditional appends at step positions, one Done) or 'boki'
   * (plain appends, the first record per step wins, intent and done markers; duplicate Dones are
   * allowed and the fault bound P2 does not apply).
   */
  readonly style: 'halfmoon' | 'boki';
  /** The switching controller chooses the mode (issue 5); requires the mode of hm-write. */
  readonly adaptive?: boolean;
}

const BY_NAME = new Map<string, ProtocolDef>();
const BY_MODE = new Map<Mode, ProtocolDef>();
const MODES_BY_NAME: Record<string, Mode> = {};
/** Protocol name -> mode, every registered protocol, in registration order. */
export const PROTOCOL_MODES: Readonly<Record<string, Mode>> = MODES_BY_NAME;

function protocolShapeError(def: unknown): string | null {
  if (typeof def !== 'object' || def === null) return `defineProtocol: expected an object, got ${def === null ? 'null' : typeof def}`;
  const d = def as Record<string, unknown>;
  if (typeof d.name !== 'string' || !/^[a-z][a-z0-9-]{0,39}$/.test(d.name)) return `defineProtocol: name: expected lower-case letters, digits and '-' (at most 40, starting with a letter), got ${JSON.stringify(d.name)}`;
  const at = `defineProtocol '${d.name}'`;
  if (typeof d.mode !== 'string' || !/^[A-Z][A-Z0-9_]{0,15}$/.test(d.mode)) return `${at}: mode: expected upper-case letters, digits and '_' (at most 16), got ${JSON.stringify(d.mode)}`;
  if (typeof d.description !== 'string' || d.description === '') return `${at}: description: expected a non-empty string`;
  const r = d.rules as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null) return `${at}: rules: expected { begin, read, write, invoke, finish }`;
  for (const k of ['begin', 'read', 'write', 'invoke', 'finish']) if (typeof r[k] !== 'function') return `${at}: rules.${k}: expected a function`;
  if (typeof d.records !== 'function') return `${at}: records: expected a function ({ top, r, w, v }) => number of records`;
  for (const c of [{ top: true, r: 0, w: 0, v: 0 }, { top: false, r: 3, w: 3, v: 1 }]) {
    let n: unknown;
    try {
      n = (d.records as (c: unknown) => unknown)(c);
    } catch (e) {
      return `${at}: records threw ${(e as Error).message}`;
    }
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return `${at}: records(${JSON.stringify(c)}): expected a non-negative integer, got ${JSON.stringify(n)}`;
  }
  const l = d.logs as Record<string, unknown> | null;
  if (typeof l !== 'object' || l === null || typeof l.reads !== 'boolean' || typeof l.writes !== 'boolean') return `${at}: logs: expected { reads: boolean, writes: boolean }`;
  if (d.finalRead !== 'versioned' && d.finalRead !== 'base') return `${at}: finalRead: expected 'versioned' or 'base', got ${JSON.stringify(d.finalRead)}`;
  if (d.style !== 'halfmoon' && d.style !== 'boki') return `${at}: style: expected 'halfmoon' or 'boki', got ${JSON.stringify(d.style)}`;
  if (d.adaptive !== undefined && typeof d.adaptive !== 'boolean') return `${at}: adaptive: expected a boolean`;
  return null;
}

/**
 * Registers a workflow protocol and returns it. A malformed definition, a name already taken, or
 * a mode already bound to other rules throws an InputError naming the problem. Two names may
 * share a mode only with the same rules (adaptive runs hm-write's rules under the controller).
 */
export function defineProtocol(def: ProtocolDef): ProtocolDef {
  const bad = protocolShapeError(def);
  if (bad !== null) throw new InputError(bad);
  if (BY_NAME.has(def.name)) throw new InputError(`defineProtocol: a protocol named '${def.name}' is already defined`);
  const same = BY_MODE.get(def.mode);
  if (same && same.rules !== def.rules) throw new InputError(`defineProtocol '${def.name}': mode '${def.mode}' already belongs to protocol '${same.name}' (pick another mode)`);
  if (def.adaptive && def.mode !== 'HMW') throw new InputError(`defineProtocol '${def.name}': adaptive switching starts in hm-write's mode 'HMW'`);
  const frozen = Object.freeze({ ...def, logs: Object.freeze({ ...def.logs }) });
  BY_NAME.set(def.name, frozen);
  if (!same) BY_MODE.set(def.mode, frozen);
  setStyle(def.mode, def.style);
  MODES_BY_NAME[def.name] = def.mode;
  return frozen;
}

/** The protocol whose rules a mode runs (the first one registered under it). */
export function protocolOf(mode: Mode): ProtocolDef {
  const d = BY_MODE.get(mode);
  assert(d !== undefined, `no protocol registered for mode ${mode}`);
  return d;
}

export function protocolByName(name: string): ProtocolDef | undefined {
  return BY_NAME.get(name);
}

export function isMode(mode: unknown): mode is Mode {
  return typeof mode === 'string' && BY_MODE.has(mode);
}

export function protocolNames(): string[] {
  return [...BY_NAME.keys()];
}

export function rulesFor(mode: Mode): Rules {
  return protocolOf(mode).rules;
}

/**
 * The building blocks of the built-in rules, for protocols of one's own: Halfmoon's begin,
 * finish and invoke, the three read paths and the two write disciplines.
 */
export const RULE_PARTS = Object.freeze({
  begin: hmBegin,
  finish: hmFinish,
  invoke: hmInvoke,
  /** HM-R: the latest version at or below the cursor (readPrev on the key stream), then its row. */
  versionedRead: hmrRead,
  /** HM-W: a logged PostRead carrying the base row's value. */
  loggedRead,
  /** No log: the base row, live (unsafe under re-execution). */
  baseRead: unloggedBaseRead,
  /** HM-R: PreWrite, version row, PostWrite; `mirror` also updates the base row (transitional). */
  loggedWrite,
  /** HM-W: a Thomas-rule conditional update of the base row versioned by the cursor; no log. */
  unloggedWrite,
});

/** The built-in rule sets, for protocols that change one rule of them. */
export const BUILTIN_RULES = Object.freeze({ boki: BOKI, hmRead: HMR, hmWrite: HMW, transitional: TRANS, unsafe: UNSAFE });

const top2 = (top: boolean) => (top ? 2 : 0);

defineProtocol({
  name: 'boki',
  mode: 'BOKI',
  description: 'BokiFlow: every read, write and invocation logged, plain appends, first record wins',
  rules: BOKI,
  records: ({ r, w, v }) => 2 + r + 2 * w + 2 * v,
  logs: { reads: true, writes: true },
  finalRead: 'base',
  style: 'boki',
});
defineProtocol({
  name: 'hm-read',
  mode: 'HMR',
  description: 'Halfmoon HM-R: log-free reads at the cursor, writes logged twice (PreWrite, PostWrite)',
  rules: HMR,
  records: ({ top, w, v }) => top2(top) + 2 * w + 2 * v,
  logs: { reads: false, writes: true },
  finalRead: 'versioned',
  style: 'halfmoon',
});
defineProtocol({
  name: 'hm-write',
  mode: 'HMW',
  description: 'Halfmoon HM-W: log-free Thomas-rule writes versioned by the cursor, reads logged',
  rules: HMW,
  records: ({ top, r, v }) => top2(top) + r + 2 * v,
  logs: { reads: true, writes: false },
  finalRead: 'base',
  style: 'halfmoon',
});
defineProtocol({
  name: 'transitional',
  mode: 'TRANS',
  description: 'both sides logged with Halfmoon primitives; safe beside either (used while switching)',
  rules: TRANS,
  records: ({ top, r, w, v }) => top2(top) + r + 2 * w + 2 * v,
  logs: { reads: true, writes: true },
  finalRead: 'base',
  style: 'halfmoon',
});
defineProtocol({
  name: 'unsafe',
  mode: 'UNSAFE',
  description: "HM-R's read discipline with HM-W's writes: the negative control that must fail",
  rules: UNSAFE,
  records: ({ top, v }) => top2(top) + 2 * v,
  logs: { reads: false, writes: false },
  finalRead: 'base',
  style: 'halfmoon',
});
defineProtocol({
  name: 'adaptive',
  mode: 'HMW',
  description: 'switching between HM-R and HM-W chosen by the adaptive controller, starting in HM-W',
  rules: HMW,
  records: ({ top, r, v }) => top2(top) + r + 2 * v,
  logs: { reads: true, writes: false },
  finalRead: 'base',
  style: 'halfmoon',
  adaptive: true,
});
