/**
 * The reference shared log: one node that implements the shared-log API of src/boki/api.ts
 * atomically (every operation takes effect when the log node handles it, in one total order), and
 * a thin per-engine proxy that forwards an engine's API calls to it.
 *
 * It is the specification of the API the Halfmoon protocols rely on, executable: conditional
 * appends are decided in seqnum order against stream lengths, overwrites redirect a record's body,
 * failed conditional appends occupy invisible slots, and reads are linearizable. The full Boki
 * log refines it (with weaker read freshness across unrelated invocations, which the protocols
 * tolerate). Its state is small, which keeps explorer models of the protocols small.
 *
 * Latency: the log node answers after a per-operation service time, so workflows see realistic
 * append and read latencies without a cluster behind them.
 */
import { assert, assertNever } from '../core/assert.ts';
import type { Effect, Machine } from '../core/contract.ts';
import { fatal, reply, send, setTimer } from '../core/contract.ts';
import { type AuditSlot, type LogRecord, type LogReply, type LogRequest, MAX_SEQNUM, recordFits, TAG_ANY, TAG_INVALID } from '../boki/api.ts';

export interface RefLogConfig {
  readonly appendUs: number;
  readonly condAppendUs: number;
  readonly readUs: number;
  /**
   * The first seqnum minus one. Boki seqnums carry the view in their top bits, so real logs run
   * above 2^53 once views reach 32; a high base reproduces that (and exposes float64 versions).
   */
  readonly seqBase: bigint;
  /** The gapped-condpos-crash variant: condPos > len is fatal instead of a failure. */
  readonly gappedCondPosCrash: boolean;
}

interface Slot {
  readonly seqnum: bigint;
  readonly book: number;
  readonly tags: readonly bigint[];
  data: string;
  readonly visible: boolean;
  aux: string | null;
}

export interface RefLogState {
  readonly cfg: RefLogConfig;
  next: bigint;
  /** Every slot in seqnum order, visible or not. */
  slots: Slot[];
  /** book -> tag -> seqnums (visible records only), in order; tag 0 lists every visible record. */
  streams: Map<number, Map<bigint, bigint[]>>;
  trimPoint: Map<number, bigint>;
  /** Answers waiting for their service time, keyed by timer name. */
  delayed: Map<string, { to: string; msg: RefLogMsg }>;
  timerSeq: number;
}

export type RefLogMsg =
  | { readonly type: 'reflog.req'; readonly reqId: string; readonly book: number; readonly req: LogRequest }
  | { readonly type: 'reflog.rep'; readonly reqId: string; readonly rep: LogReply };

const SLOTS_MAX = 10_000_000;

function stream(s: RefLogState, book: number, tag: bigint): bigint[] {
  let b = s.streams.get(book);
  if (!b) {
    b = new Map();
    s.streams.set(book, b);
  }
  let l = b.get(tag);
  if (!l) {
    l = [];
    b.set(tag, l);
  }
  return l;
}

function slotOf(s: RefLogState, seq: bigint): Slot {
  const i = Number(seq - s.cfg.seqBase) - 1;
  const sl = s.slots[i];
  assert(sl !== undefined && sl.seqnum === seq, `reflog: no slot ${seq}`);
  return sl;
}

function recordOf(sl: Slot): LogRecord {
  return { book: sl.book, seqnum: sl.seqnum, localid: sl.seqnum, tags: sl.tags, data: sl.data, auxData: sl.aux };
}

function badTags(tags: readonly bigint[]): boolean {
  return tags.some((t) => t === TAG_ANY || t === TAG_INVALID);
}

/** First index in a sorted seqnum list with value >= x. */
function lowerBound(l: readonly bigint[], x: bigint): number {
  let lo = 0;
  let hi = l.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (l[m]! < x) lo = m + 1;
    else hi = m;
  }
  return lo;
}

function appendSlot(s: RefLogState, book: number, tags: readonly bigint[], data: string, visible: boolean): Slot {
  assert(s.slots.length < SLOTS_MAX, 'reflog over its slot limit');
  const sl: Slot = { seqnum: s.next, book, tags: [...new Set(tags)], data, visible, aux: null };
  s.next += 1n;
  s.slots.push(sl);
  if (visible) {
    stream(s, book, TAG_ANY).push(sl.seqnum);
    for (const t of sl.tags) stream(s, book, t).push(sl.seqnum);
  }
  return sl;
}

/** Applies one request atomically; returns the reply (or a fatal reason under a variant). */
export function applyRequest(s: RefLogState, book: number, req: LogRequest): LogReply | { fatal: string } {
  switch (req.op) {
    case 'begin':
    case 'end':
      return { code: 'OK' };
    case 'append': {
      if (req.data.length === 0 || badTags(req.tags) || !recordFits(req.data, new Set(req.tags).size)) return { code: 'BAD_ARGS', reason: 'empty data, bad tag or record too large' };
      return { code: 'APPEND_OK', seqnum: appendSlot(s, book, req.tags, req.data, true).seqnum };
    }
    case 'condAppend': {
      if (req.data.length === 0 || badTags(req.tags) || req.condTag === TAG_ANY || !recordFits(req.data, new Set([...req.tags, req.condTag]).size)) {
        return { code: 'BAD_ARGS', reason: 'empty data, bad tag or record too large' };
      }
      const len = stream(s, book, req.condTag).length;
      if (req.condPos > len && s.cfg.gappedCondPosCrash) return { fatal: `condAppend with condPos ${req.condPos} beyond stream length ${len}` };
      if (len === req.condPos) return { code: 'APPEND_OK', seqnum: appendSlot(s, book, [req.condTag, ...req.tags], req.data, true).seqnum };
      appendSlot(s, book, [], req.data, false);
      return { code: 'COND_FAILED' };
    }
    case 'overwrite': {
      if (req.data.length === 0 || req.tag === TAG_ANY || req.tag === TAG_INVALID || !recordFits(req.data, 1)) return { code: 'BAD_ARGS', reason: 'bad overwrite' };
      const l = stream(s, book, req.tag);
      appendSlot(s, book, [], req.data, false); // the overwrite record itself: an invisible slot
      const target = l[req.pos];
      if (target === undefined) return { code: 'COND_FAILED' };
      slotOf(s, target).data = req.data;
      return { code: 'APPEND_OK', seqnum: target };
    }
    case 'readNext': {
      const l = stream(s, book, req.tag);
      const tp = s.trimPoint.get(book) ?? 0n;
      const from = req.minSeq > tp ? req.minSeq : tp;
      const i = lowerBound(l, from);
      return i < l.length ? { code: 'READ_OK', record: recordOf(slotOf(s, l[i]!)) } : { code: 'EMPTY' };
    }
    case 'readPrev':
    case 'checkTail': {
      const max = req.op === 'checkTail' ? MAX_SEQNUM : req.maxSeq;
      const l = stream(s, book, req.tag);
      const tp = s.trimPoint.get(book) ?? 0n;
      const i = lowerBound(l, max + 1n) - 1;
      if (i < 0 || l[i]! < tp) return { code: 'EMPTY' };
      return { code: 'READ_OK', record: recordOf(slotOf(s, l[i]!)) };
    }
    case 'setAuxData': {
      if (req.data.length === 0 || !recordFits(req.data, 0)) return { code: 'BAD_ARGS', reason: 'bad aux data' };
      const i = Number(req.seqnum - s.cfg.seqBase) - 1;
      const sl = s.slots[i];
      if (sl && sl.seqnum === req.seqnum) sl.aux = req.data;
      return { code: 'AUXDATA_OK' };
    }
    case 'trim': {
      if (req.uptoSeq > s.next) return { code: 'TRIM_FAILED' };
      const cur = s.trimPoint.get(book) ?? 0n;
      if (req.uptoSeq > cur) s.trimPoint.set(book, req.uptoSeq);
      return { code: 'TRIM_OK' };
    }
    default:
      return assertNever(req, 'log request');
  }
}

function serviceUs(cfg: RefLogConfig, req: LogRequest): number {
  switch (req.op) {
    case 'append':
    case 'overwrite':
    case 'trim':
      return cfg.appendUs;
    case 'condAppend':
      return cfg.condAppendUs;
    case 'readNext':
    case 'readPrev':
    case 'checkTail':
      return cfg.readUs;
    default:
      return 0;
  }
}

type Eff = Effect<RefLogMsg>;

/** The log node. */
export const refLogMachine: Machine<RefLogConfig, RefLogState, RefLogMsg> = {
  role: 'reflog',
  traceView: (s) => ({ next: s.next, slots: s.slots.length, recent: s.slots.slice(-5), trimPoint: s.trimPoint, delayed: s.delayed.size }),
  init: (cfg) => ({ cfg, next: cfg.seqBase + 1n, slots: [], streams: new Map(), trimPoint: new Map(), delayed: new Map(), timerSeq: 0 }),
  recover: (cfg) => ({ cfg, next: cfg.seqBase + 1n, slots: [], streams: new Map(), trimPoint: new Map(), delayed: new Map(), timerSeq: 0 }),
  step(s, input) {
    const out: Eff[] = [];
    if (input.type === 'message' && input.msg.type === 'reflog.req') {
      const { reqId, book, req } = input.msg;
      const r = applyRequest(s, book, req);
      if ('fatal' in r) return { state: s, effects: [fatal(r.fatal)] };
      const msg: RefLogMsg = { type: 'reflog.rep', reqId, rep: r };
      const delay = serviceUs(s.cfg, req);
      if (delay === 0) out.push(send(input.from, msg));
      else {
        const name = `d${s.timerSeq++}`;
        s.delayed.set(name, { to: input.from, msg });
        out.push(setTimer(name, delay));
      }
    } else if (input.type === 'timer') {
      const d = s.delayed.get(input.timer);
      if (d) {
        s.delayed.delete(input.timer);
        out.push(send(d.to, d.msg));
      }
    }
    return { state: s, effects: out };
  },
};

// ---------------------------------------------------------------------------------------------
// The per-engine proxy: serves the API on the engine node, forwarding to the log node.

export interface RefProxyConfig {
  readonly logNode: string;
}

export interface RefProxyState {
  readonly cfg: RefProxyConfig;
  /** Invocation -> book. */
  invocations: Map<string, number>;
}

export const refProxyMachine: Machine<RefProxyConfig, RefProxyState, RefLogMsg, LogRequest, LogReply> = {
  role: 'engine',
  init: (cfg) => ({ cfg, invocations: new Map() }),
  recover: (cfg) => ({ cfg, invocations: new Map() }),
  step(s, input) {
    const out: Effect<RefLogMsg, LogRequest, LogReply>[] = [];
    switch (input.type) {
      case 'client': {
        const req = input.body;
        if (req.op === 'begin') {
          if (req.parent !== null && !s.invocations.has(req.parent)) out.push(reply(input.reqId, { code: 'BAD_ARGS', reason: `unknown parent invocation ${req.parent}` }));
          else {
            s.invocations.set(req.inv, req.book);
            out.push(reply(input.reqId, { code: 'OK' }));
          }
          break;
        }
        const book = s.invocations.get(req.inv);
        if (book === undefined) {
          out.push(reply(input.reqId, { code: 'BAD_ARGS', reason: `unknown invocation ${req.inv}` }));
          break;
        }
        if (req.op === 'end') {
          s.invocations.delete(req.inv);
          out.push(reply(input.reqId, { code: 'OK' }));
          break;
        }
        out.push(send(s.cfg.logNode, { type: 'reflog.req', reqId: input.reqId, book, req }));
        break;
      }
      case 'message':
        if (input.msg.type === 'reflog.rep') out.push(reply(input.msg.reqId, input.msg.rep));
        break;
      case 'start':
      case 'restart':
      case 'timer':
      case 'response':
        break;
      default:
        assertNever(input, 'input');
    }
    return { state: s, effects: out };
  },
};

/** The final audit of the reference log: every slot in order. */
export function refLogAudit(s: RefLogState): AuditSlot[] {
  return s.slots.map((sl) => ({ seqnum: sl.seqnum, book: sl.book, tags: sl.tags, data: sl.data, visible: sl.visible }));
}
