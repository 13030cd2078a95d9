/**
 * The log workload driver: the gateway plus the functions that call the log. `invocations` slots
 * each run one invocation at a time on one engine (round-robin over engines), issuing
 * `opsPerInvocation` operations with exponential think times sized so the cluster sees about
 * `appendsPerSec` append-like operations per second, then end it and begin the next. A small
 * fraction spawn a child invocation on the same engine (progress inheritance).
 *
 * Operations: appends with 1-2 of the book's tags; conditional appends on the book's cond streams
 * with the stream length the driver has seen succeed (sometimes one off either way, so successes,
 * failures and gaps all occur); overwrites of a random stream position; readNext / readPrev /
 * checkTail (tag 0 sometimes); blocking readNext; setAuxData; trim below an old seqnum.
 *
 * Every payload names its request, so read results identify what they returned. After
 * `durationMs` the driver drains, then probes every book (one append and a read of it back, which
 * the liveness checker requires to succeed), settles and declares the run done. A request left
 * unanswered for `clientTimeoutMs` is abandoned (its invocation restarts elsewhere); the driver
 * then waits out the liveness bound so the checker can judge it.
 *
 * With `workload: 'script'` (the explorer's log-tiny) it instead runs `SCRIPT`: one invocation
 * issuing a fixed handful of operations one after another, done when the last is answered, with
 * no timers at all.
 */
import { assertNever } from '../core/assert.ts';
import type { Ctx, Effect, Machine } from '../core/contract.ts';
import { request, setTimer } from '../core/contract.ts';
import { MAX_SEQNUM, type LogReply, type LogRequest } from './api.ts';
import type { BokiParams } from './params.ts';

export interface DriverConfig {
  readonly p: BokiParams;
  readonly engines: readonly string[];
  /** The explorer-sized scripted workload (params.workload 'script'); absent: the mixed one. */
  readonly script?: true;
}

interface Slot {
  readonly idx: number;
  engine: string;
  inv: string | null;
  book: number;
  opsLeft: number;
  /** A child invocation running instead of the parent, if any. */
  child: { inv: string; opsLeft: number } | null;
  pending: string | null;
  lastSeq: bigint;
  invCount: number;
}

interface Outstanding {
  readonly slot: number;
  readonly sentUs: number;
  readonly req: LogRequest;
  readonly probe: number;
}

export interface DriverState {
  readonly cfg: DriverConfig;
  phase: 'run' | 'drain' | 'probe' | 'settle' | 'done';
  slots: Slot[];
  outstanding: Map<string, Outstanding>;
  abandoned: Map<string, number>;
  seq: number;
  /** Successful cond appends seen per stream, and APPEND_OK seen per plain stream. */
  condLens: Map<string, number>;
  tagLens: Map<string, number>;
  /** A few recent seqnums per book, for read positions and aux data. */
  recent: Map<number, bigint[]>;
  /** Each book's first seqnums, and how many trims the driver issued per book. */
  early: Map<number, bigint[]>;
  trims: Map<number, number>;
  probes: { book: number; engine: number; inv: string; stage: 'begin' | 'append' | 'read' | 'done'; seq: bigint; tries: number; reqId: string }[];
  probeStartUs: number;
  settleUntilUs: number;
  completed: number;
  /** Script mode: the index of the next scripted operation. */
  step?: number;
}

type Eff = Effect<never, LogRequest, LogReply>;

export function tagOf(book: number, j: number): bigint {
  return (BigInt(book + 1) << 32n) | BigInt(j + 1);
}

const COND_BASE = 1000;
const PROBE_TAG = 9999;

function rnd(ctx: Ctx): number {
  return ctx.randomU32('w') / 0x1_0000_0000;
}

function pick<T>(ctx: Ctx, xs: readonly T[]): T {
  return xs[Math.floor(rnd(ctx) * xs.length)]!;
}

export const driverMachine: Machine<DriverConfig, DriverState, never, LogRequest, LogReply> = {
  role: 'driver',
  init: (cfg) => ({
    cfg,
    phase: 'run',
    slots: Array.from({ length: cfg.p.invocations }, (_, i) => ({ idx: i, engine: cfg.engines[i % cfg.engines.length]!, inv: null, book: 0, opsLeft: 0, child: null, pending: null, lastSeq: -1n, invCount: 0 })),
    outstanding: new Map(),
    abandoned: new Map(),
    seq: 0,
    condLens: new Map(),
    tagLens: new Map(),
    recent: new Map(),
    early: new Map(),
    trims: new Map(),
    probes: [],
    probeStartUs: -1,
    settleUntilUs: -1,
    completed: 0,
  }),
  recover: (cfg) => driverMachine.init(cfg, 'driver'),
  step(s, input, ctx) {
    if (s.cfg.script) return scriptStep(s, input, ctx);
    const out: Eff[] = [];
    switch (input.type) {
      case 'start':
        for (const sl of s.slots) out.push(setTimer(`s:${sl.idx}`, s.cfg.p.startMs * 1000 + 1 + Math.floor(rnd(ctx) * thinkMeanUs(s.cfg.p))));
        out.push(setTimer('tick', 100_000));
        out.push(setTimer('end', (s.cfg.p.startMs + s.cfg.p.durationMs) * 1000 + 1));
        break;
      case 'timer':
        onTimer(s, input.timer, ctx, out);
        break;
      case 'response':
        onResponse(s, input.reqId, input.body, ctx, out);
        break;
      case 'restart':
      case 'message':
      case 'client':
        break;
      default:
        assertNever(input, 'input');
    }
    return { state: s, effects: out };
  },
};

function thinkMeanUs(p: BokiParams): number {
  const appendShare = Math.max(0.05, 1 - p.readRatio - p.auxRatio - p.trimRatio);
  const opsPerSec = p.appendsPerSec / appendShare;
  if (opsPerSec <= 0) return 1e12;
  return (1e6 * p.invocations) / opsPerSec;
}

function think(s: DriverState, ctx: Ctx): number {
  return 1 + Math.round(-thinkMeanUs(s.cfg.p) * Math.log(1 - rnd(ctx)));
}

function onTimer(s: DriverState, timer: string, ctx: Ctx, out: Eff[]): void {
  if (timer === 'tick') {
    out.push(setTimer('tick', 100_000));
    abandonStale(s, ctx, out);
    advancePhase(s, ctx, out);
    return;
  }
  if (timer === 'end') {
    if (s.phase === 'run') s.phase = 'drain';
    advancePhase(s, ctx, out);
    return;
  }
  if (timer.startsWith('s:')) {
    const sl = s.slots[Number(timer.slice(2))]!;
    if (s.phase === 'run' && sl.pending === null) nextOp(s, sl, ctx, out);
  }
}

function issue(s: DriverState, sl: Slot | null, engine: string, req: LogRequest, ctx: Ctx, out: Eff[], probe = -1): string {
  const reqId = `${probe >= 0 ? 'probe' : 'd'}.${++s.seq}`;
  s.outstanding.set(reqId, { slot: sl ? sl.idx : -1, sentUs: ctx.nowUs, req, probe });
  if (sl) sl.pending = reqId;
  out.push(request(engine, reqId, req));
  return reqId;
}

function payload(s: DriverState, tag: string): string {
  const n = s.cfg.p.payloadBytes;
  const base = `${tag}#${s.seq + 1}`;
  return base.length >= n ? base : base + '.'.repeat(n - base.length);
}

function nextOp(s: DriverState, sl: Slot, ctx: Ctx, out: Eff[]): void {
  const p = s.cfg.p;
  if (sl.inv === null) {
    sl.invCount++;
    sl.engine = s.cfg.engines[(sl.idx + sl.invCount * 3) % s.cfg.engines.length]!;
    sl.book = Math.floor(rnd(ctx) * p.books);
    sl.inv = `i${sl.idx}.${sl.invCount}`;
    sl.opsLeft = p.opsPerInvocation;
    sl.lastSeq = -1n;
    issue(s, sl, sl.engine, { op: 'begin', inv: sl.inv, book: sl.book, parent: null }, ctx, out);
    return;
  }
  if (sl.child === null && sl.opsLeft > 1 && rnd(ctx) < p.childRatio) {
    const inv = `${sl.inv}.c${++s.seq}`;
    sl.child = { inv, opsLeft: 2 };
    issue(s, sl, sl.engine, { op: 'begin', inv, book: sl.book, parent: sl.inv }, ctx, out);
    return;
  }
  const inv = sl.child ? sl.child.inv : sl.inv;
  const left = sl.child ? sl.child.opsLeft : sl.opsLeft;
  if (left <= 0) {
    issue(s, sl, sl.engine, { op: 'end', inv }, ctx, out);
    return;
  }
  if (sl.child) sl.child.opsLeft--;
  else sl.opsLeft--;
  issue(s, sl, sl.engine, chooseOp(s, sl, inv, ctx), ctx, out);
}

function chooseOp(s: DriverState, sl: Slot, inv: string, ctx: Ctx): LogRequest {
  const p = s.cfg.p;
  const book = sl.book;
  const x = rnd(ctx);
  const tag = tagOf(book, Math.floor(rnd(ctx) * p.tagsPerBook));
  const recent = s.recent.get(book) ?? [];
  if (x < p.readRatio) {
    const y = rnd(ctx);
    const rtag = rnd(ctx) < 0.2 ? 0n : tag;
    const anchor = sl.lastSeq >= 0n && rnd(ctx) < 0.6 ? sl.lastSeq : recent.length > 0 ? pick(ctx, recent) : 0n;
    if (y < p.blockingReadRatio) return { op: 'readNext', inv, tag: rtag, minSeq: anchor + 1n, blocking: true };
    if (y < 0.45) return { op: 'readNext', inv, tag: rtag, minSeq: rnd(ctx) < 0.3 ? 0n : anchor };
    if (y < 0.8) return { op: 'readPrev', inv, tag: rtag, maxSeq: anchor > 0n ? anchor : MAX_SEQNUM };
    return { op: 'checkTail', inv, tag: rtag };
  }
  let t = p.readRatio;
  if (x < (t += p.condRatio)) {
    const condTag = tagOf(book, COND_BASE + Math.floor(rnd(ctx) * 2));
    const known = s.condLens.get(`${book}:${condTag}`) ?? 0;
    const y = rnd(ctx);
    const condPos = Math.max(0, known + (y < 0.7 ? 0 : y < 0.85 ? -1 : 1));
    return { op: 'condAppend', inv, tags: [tag], data: payload(s, 'c'), condTag, condPos };
  }
  if (x < (t += p.overwriteRatio)) {
    const len = s.tagLens.get(`${book}:${tag}`) ?? 0;
    return { op: 'overwrite', inv, tag, pos: Math.floor(rnd(ctx) * (len + 2)), data: payload(s, 'o') };
  }
  if (x < (t += p.auxRatio) && sl.lastSeq >= 0n) return { op: 'setAuxData', inv, seqnum: sl.lastSeq, data: `aux${s.seq}` };
  if (x < (t += p.trimRatio)) {
    // Trims creep forward through each book's first records only, so most of the log stays
    // readable and checkable.
    const early = s.early.get(book) ?? [];
    const n = (s.trims.get(book) ?? 0) + 1;
    if (early.length > 8 * n) {
      s.trims.set(book, n);
      return { op: 'trim', inv, uptoSeq: early[8 * n]! };
    }
  }
  const tags = rnd(ctx) < 0.3 ? [tag, tagOf(book, Math.floor(rnd(ctx) * p.tagsPerBook))] : [tag];
  return { op: 'append', inv, tags, data: payload(s, 'a') };
}

function onResponse(s: DriverState, reqId: string, rep: LogReply, ctx: Ctx, out: Eff[]): void {
  const o = s.outstanding.get(reqId);
  s.abandoned.delete(reqId);
  if (!o) return;
  s.outstanding.delete(reqId);
  s.completed++;
  if (o.probe >= 0) return onProbe(s, o, rep, ctx, out);
  learn(s, o.req, rep);
  const sl = s.slots[o.slot]!;
  if (sl.pending !== reqId) return;
  sl.pending = null;
  const req = o.req;
  if (rep.code === 'BAD_ARGS' || req.op === 'end' && sl.child === null) {
    // The invocation is gone (the engine restarted, or it just ended): begin a new one.
    sl.inv = null;
    sl.child = null;
  } else if (req.op === 'end') sl.child = null;
  if (rep.code === 'APPEND_OK' && req.op !== 'overwrite') sl.lastSeq = rep.seqnum;
  if (s.phase === 'run') out.push(setTimer(`s:${sl.idx}`, think(s, ctx)));
}

/** Tracks stream lengths and recent seqnums the workload uses to pick arguments. */
function learn(s: DriverState, req: LogRequest, rep: LogReply): void {
  if (rep.code !== 'APPEND_OK') return;
  if (req.op === 'condAppend') {
    const k = `${bookOfTag(req.condTag)}:${req.condTag}`;
    s.condLens.set(k, Math.max(s.condLens.get(k) ?? 0, req.condPos + 1));
  }
  if (req.op === 'append' || req.op === 'condAppend') {
    for (const t of req.tags) {
      const k = `${bookOfTag(t)}:${t}`;
      s.tagLens.set(k, (s.tagLens.get(k) ?? 0) + 1);
    }
    const book = bookOfTag(req.tags[0] ?? 0n);
    let r = s.recent.get(book);
    if (!r) s.recent.set(book, (r = []));
    r.push(rep.seqnum);
    if (r.length > 32) r.shift();
    let e = s.early.get(book);
    if (!e) s.early.set(book, (e = []));
    if (e.length < 64 && (e.length === 0 || rep.seqnum > e[e.length - 1]!)) e.push(rep.seqnum);
  }
}

function bookOfTag(t: bigint): number {
  return Number(t >> 32n) - 1;
}

function abandonStale(s: DriverState, ctx: Ctx, out: Eff[]): void {
  const limit = s.cfg.p.clientTimeoutMs * 1000;
  for (const [reqId, o] of s.outstanding) {
    if (ctx.nowUs - o.sentUs < limit) continue;
    s.outstanding.delete(reqId);
    s.abandoned.set(reqId, o.sentUs);
    if (o.probe >= 0) {
      const pr = s.probes[o.probe]!;
      pr.engine++;
      pr.stage = 'begin';
      startProbe(s, o.probe, ctx, out);
      continue;
    }
    const sl = s.slots[o.slot]!;
    sl.pending = null;
    sl.inv = null;
    sl.child = null;
    if (s.phase === 'run') out.push(setTimer(`s:${sl.idx}`, think(s, ctx)));
  }
}

function advancePhase(s: DriverState, ctx: Ctx, out: Eff[]): void {
  if (s.phase === 'drain' && s.outstanding.size === 0) {
    if (!s.cfg.p.probes) {
      s.phase = 'settle';
      s.settleUntilUs = ctx.nowUs + s.cfg.p.settleMs * 1000;
    } else {
      s.phase = 'probe';
      s.probeStartUs = ctx.nowUs;
      for (let b = 0; b < s.cfg.p.books; b++) {
        s.probes.push({ book: b, engine: b, inv: '', stage: 'begin', seq: -1n, tries: 0, reqId: '' });
        startProbe(s, b, ctx, out);
      }
    }
  }
  if (s.phase === 'probe' && s.probes.every((p) => p.stage === 'done')) {
    s.phase = 'settle';
    s.settleUntilUs = ctx.nowUs + s.cfg.p.settleMs * 1000;
  }
  if (s.phase === 'settle' && ctx.nowUs >= s.settleUntilUs) {
    // Abandoned requests must stay observable until their liveness deadline has passed.
    let wait = 0;
    for (const sent of s.abandoned.values()) wait = Math.max(wait, Math.max(sent, s.probeStartUs) + s.cfg.p.livenessBoundMs * 1000 + 1000);
    if (ctx.nowUs >= wait) s.phase = 'done';
  }
  if (s.phase !== 'done') out.push(setTimer('tick', Math.max(1, Math.min(100_000, s.settleUntilUs > ctx.nowUs ? s.settleUntilUs - ctx.nowUs : 100_000))));
}

function startProbe(s: DriverState, i: number, ctx: Ctx, out: Eff[]): void {
  const pr = s.probes[i]!;
  if (pr.tries++ > 4 * s.cfg.engines.length) {
    pr.stage = 'done'; // the checker reports the missing probe
    return;
  }
  const engine = s.cfg.engines[pr.engine % s.cfg.engines.length]!;
  pr.inv = `probe${pr.book}.${pr.tries}`;
  pr.stage = 'begin';
  pr.reqId = issue(s, null, engine, { op: 'begin', inv: pr.inv, book: pr.book, parent: null }, ctx, out, i);
}

function onProbe(s: DriverState, o: Outstanding, rep: LogReply, ctx: Ctx, out: Eff[]): void {
  const pr = s.probes[o.probe]!;
  const engine = s.cfg.engines[pr.engine % s.cfg.engines.length]!;
  const tag = tagOf(pr.book, PROBE_TAG);
  if (pr.stage === 'begin' && rep.code === 'OK') {
    pr.stage = 'append';
    pr.reqId = issue(s, null, engine, { op: 'append', inv: pr.inv, tags: [tag], data: `probe-${pr.book}-${pr.tries}` }, ctx, out, o.probe);
    return;
  }
  if (pr.stage === 'append' && rep.code === 'APPEND_OK') {
    pr.stage = 'read';
    pr.seq = rep.seqnum;
    pr.reqId = issue(s, null, engine, { op: 'readPrev', inv: pr.inv, tag, maxSeq: rep.seqnum }, ctx, out, o.probe);
    return;
  }
  if (pr.stage === 'read' && rep.code === 'READ_OK' && rep.record.seqnum === pr.seq) {
    pr.stage = 'done';
    advancePhase(s, ctx, out);
    return;
  }
  // Any other answer: try again on the next engine.
  pr.engine++;
  startProbe(s, o.probe, ctx, out);
  advancePhase(s, ctx, out);
}

// ---------------------------------------------------------------------------------------------
// The scripted workload

/**
 * The explorer-sized workload: one invocation on the first engine, in book 0, issuing these
 * operations one after another (each as soon as the previous is answered: no think times, no
 * polling), done when the last is answered. Chosen so that each kind of answer occurs: appends,
 * a conditional append that succeeds, one at a stale position and one beyond the stream's end
 * (both fail), reads both ways and the tail, a trim of the first record, and the end.
 */
export const SCRIPT = ['begin', 'append', 'condAppend', 'condAppend', 'condAppend', 'append', 'readPrev', 'readNext', 'checkTail', 'trim', 'end'] as const;

function scriptStep(s: DriverState, input: Parameters<typeof driverMachine.step>[1], ctx: Ctx): { state: DriverState; effects: Eff[] } {
  const out: Eff[] = [];
  switch (input.type) {
    case 'start':
      s.step = 0;
      scriptNext(s, ctx, out);
      break;
    case 'response': {
      const o = s.outstanding.get(input.reqId);
      if (!o) break;
      s.outstanding.delete(input.reqId);
      s.completed++;
      learn(s, o.req, input.body);
      const sl = s.slots[0]!;
      sl.pending = null;
      if (input.body.code === 'APPEND_OK' && o.req.op !== 'overwrite') sl.lastSeq = input.body.seqnum;
      scriptNext(s, ctx, out);
      break;
    }
    case 'timer':
    case 'restart':
    case 'message':
    case 'client':
      break;
    default:
      assertNever(input, 'input');
  }
  return { state: s, effects: out };
}

function scriptNext(s: DriverState, ctx: Ctx, out: Eff[]): void {
  const i = s.step ?? 0;
  if (i >= SCRIPT.length) {
    s.phase = 'done';
    return;
  }
  s.step = i + 1;
  const sl = s.slots[0]!;
  const inv = 'i0.1';
  const tag = tagOf(0, 0);
  const condTag = tagOf(0, COND_BASE);
  const first = (s.early.get(0) ?? [])[0];
  const op = SCRIPT[i]!;
  let req: LogRequest;
  switch (op) {
    case 'begin':
      sl.inv = inv;
      req = { op: 'begin', inv, book: 0, parent: null };
      break;
    case 'append':
      req = { op: 'append', inv, tags: [tag], data: payload(s, 'a') };
      break;
    case 'condAppend': {
      // At the stream's length, then at a stale position, then beyond the end (a gap).
      const nth = SCRIPT.slice(0, i).filter((x) => x === 'condAppend').length;
      const len = s.condLens.get(`0:${condTag}`) ?? 0;
      req = { op: 'condAppend', inv, tags: [tag], data: payload(s, 'c'), condTag, condPos: nth === 0 ? len : nth === 1 ? Math.max(0, len - 1) : len + 1 };
      break;
    }
    case 'readPrev':
      req = { op: 'readPrev', inv, tag, maxSeq: MAX_SEQNUM };
      break;
    case 'readNext':
      req = { op: 'readNext', inv, tag, minSeq: 0n };
      break;
    case 'checkTail':
      req = { op: 'checkTail', inv, tag };
      break;
    case 'trim':
      // Below the first record: trims it (the reads come before).
      req = { op: 'trim', inv, uptoSeq: first === undefined ? 0n : first + 1n };
      break;
    case 'end':
      req = { op: 'end', inv };
      break;
    default:
      assertNever(op, 'script op');
  }
  issue(s, sl, sl.engine, req, ctx, out);
}

/** Is the workload over? (False before the driver has started: `done` is polled early too.) */
export function driverDone(s: DriverState | undefined): boolean {
  return s !== undefined && s.phase === 'done';
}
