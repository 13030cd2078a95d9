/**
 * The Halfmoon runtime's history as the exactly-once checker and log accounting read it, parsed
 * once per history: execution starts and ends, each execution's operations, log outcomes, store
 * applies and reads, and client responses, with the logical paths of executions the recovery
 * driver started filled in through their instance ids. Also the completing execution of each path,
 * the log's final content (from the audit when there is one), the checker options that choose it,
 * and the formatting helpers of violation messages. Shared by proofs/exactly-once.ts and
 * proofs/accounting.ts, which import it and not each other.
 */
import type { AuditSlot } from '../src/boki/api.ts';
import type { FinishedRun, HistoryEvent } from '../src/core/system.ts';
import type { Json, Mode, Version } from '../src/halfmoon/records.ts';
import { type RecSummary, type RuntimeEvent, summarizeData } from '../src/halfmoon/workflow/events.ts';
import type { StoreEvent } from '../src/halfmoon/store.ts';

type OpEv = Extract<RuntimeEvent, { ev: 'wfOp' }>;

type EndEv = Extract<RuntimeEvent, { ev: 'execEnd' }>;

type StartEv = Extract<RuntimeEvent, { ev: 'execStart' }>;

type LogEv = Extract<RuntimeEvent, { ev: 'logOp' }>;

export interface Parsed {
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

export function parse(history: readonly HistoryEvent[]): Parsed {
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

export function show(v: Json | undefined): string {
  const s = JSON.stringify(v ?? null);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

export function opSig(o: OpEv): string {
  return `${o.kind} ${o.table ?? ''}/${o.key ?? ''} ${JSON.stringify(o.value)}`;
}

export function showSig(sig: string | undefined): string {
  if (sig === undefined) return '(nothing)';
  return sig.length > 90 ? sig.slice(0, 87) + '...' : sig;
}

export function asVersion(x: unknown, iid: string): Version {
  if (typeof x === 'bigint') return { s: x, w: 0, iid };
  return x as Version;
}

export function vstr(v: Version): string {
  return `(${v.s},${v.w},${v.iid || '-'})`;
}

/**
 * The canonical execution of each path: the one that got furthest (the most operations returned
 * to its handler), whatever its outcome. The execution that logged Done may well have crashed a
 * moment later, leaving a retry that only replays the Done; every execution of the path must have
 * issued a prefix of the canonical one's operations (C2), so the longest is the reference.
 */
export function completing(p: Parsed): Map<string, string> {
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
export interface LogView {
  /** Visible version records (PostWrite, Marker) per "table/key", in seqnum order. */
  readonly versions: Map<string, { seq: bigint; version: bigint }[]>;
  /** Visible Done outputs per instance id. */
  readonly dones: Map<string, string[]>;
  /** Records held per instance id (a slot overwritten by an InvokeResult holds two). */
  readonly held: Map<string, number>;
  readonly fromAudit: boolean;
}

export function logView(run: FinishedRun, p: Parsed, opts: ExactlyOnceOptions): LogView {
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
