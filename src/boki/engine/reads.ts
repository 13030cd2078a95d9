/**
 * The read path (spec §5.4), both sides: the origin issues an index query for the invocation's
 * progress, the index admits it once it covers that progress (parking it until then, and parking
 * blocking reads until a record arrives or they time out), walks back across views, and the origin
 * fetches the body from the cache or a storage replica, retrying (§3.3) then answering DATA_LOST.
 * One module because a local query's answer goes straight back to the origin, which may re-issue
 * the query at once (an index that lost its state), so the two sides call each other.
 */
import { assert, assertNever } from '../../core/assert.ts';
import { type Ctx, fatal, send, setTimer } from '../../core/contract.ts';
import type { LogReply } from '../api.ts';
import { armRepair } from '../common.ts';
import { localid, logspaceView, progress, progressLogspace, progressPos, seqOf } from '../ids.ts';
import { complete, evaluate, indexedEnd, type LogIndex, type ParkedQuery } from '../log-index.ts';
import type { IndexQuery, IndexResult, ReadAtResult, Replicate } from '../messages.ts';
import { logOfBook } from '../view.ts';
import { curView, hasIndex, finishOp, bumpProgress, prevLogOf, pickIndexReplica, cachePut, cacheGet } from './shared.ts';
import type { ReadOp, EngineState, Eff } from './state.ts';

const PARKED_MAX = 100_000;

/** Work bound per step for loops over parked queries (readprev-pending-hang trips it). */
const PARKED_LOOP_MAX = 1_000_000;

/** Serves an index query here (spec §5.4 steps 2-7). */
export function serveQuery(s: EngineState, q: IndexQuery, remote: boolean, ctx: Ctx, out: Eff[]): void {
  const ix = hasIndex(s, q.ls);
  if (!ix) return sendResult(s, q.origin, { type: 'indexResult', qid: q.qid, status: 'unavailable', lostLs: s.lostIndexes.has(q.ls) ? q.ls : -1, hit: null, frontier: 0n, progressOut: 0n }, ctx, out);
  if (!admitted(s, ix, q, remote, out)) return park(s, ix, { q, remote, deadlineUs: -1 }, out);
  let qq = q;
  if (q.initial) qq = { ...q, frontier: seqOf(ix.ls, indexedEnd(ix)), progressOut: progress(ix.ls, ix.indexedMeta) };
  const r = evaluate(ix, qq);
  switch (r.k) {
    case 'answer':
      return sendResult(s, q.origin, { type: 'indexResult', qid: q.qid, status: r.hit ? 'found' : 'empty', lostLs: -1, hit: r.hit, frontier: qq.frontier, progressOut: qq.progressOut }, ctx, out);
    case 'blockMiss':
      // Deliberate bug bug-blocking-no-wait: a blocking read that finds nothing answers at once.
      if (s.cfg.variant === 'bug-blocking-no-wait') return answerEmpty(s, ix, qq, ctx, out);
      return park(s, ix, { q, remote, deadlineUs: ctx.nowUs + s.cfg.p.blockingReadTimeoutMs * 1000 }, out, ctx);
    case 'continue': {
      const prevLs = prevLogOf(s, ix.viewId, q.book);
      const next: IndexQuery = { ...qq, ls: prevLs, initial: false, blocking: false, best: r.best, trimSeq: r.trim, redirects: r.redirects };
      if (hasIndex(s, prevLs)) return serveQuery(s, next, false, ctx, out);
      const to = pickIndexReplica(s, prevLs, q.qid);
      if (to === null) return sendResult(s, q.origin, { type: 'indexResult', qid: q.qid, status: 'unavailable', lostLs: -1, hit: null, frontier: 0n, progressOut: 0n }, ctx, out);
      out.push(send(to, next));
      return;
    }
    default:
      assertNever(r, 'evaluation');
  }
}

/** Admission (spec §5.4 steps 2-3), with Halfmoon's readPrev wait for coverage. */
function admitted(s: EngineState, ix: LogIndex, q: IndexQuery, remote: boolean, out: Eff[]): boolean {
  const asInitial = q.initial || (remote && s.cfg.variant === 'continuation-flag');
  if (asInitial) {
    const p = q.progress;
    if (p !== 0n) {
      const pls = progressLogspace(p);
      const pv = logspaceView(pls);
      if (pv === ix.viewId) {
        if (pls === ix.ls && progressPos(p) > ix.indexedMeta) return false;
      } else if (pv > ix.viewId) {
        if (!q.initial) {
          // The published remote index takes a continuation for an initial query.
          out.push(fatal(`${s.self}: index query with progress from the future (view ${pv} at a view-${ix.viewId} index)`));
          return false;
        }
        if (!complete(ix)) return false;
      }
    }
  } else if (!complete(ix)) return false;
  if (q.op === 'prev' && !complete(ix)) {
    // Halfmoon: readPrev waits until the index covers maxSeq, so its answer is final.
    if (q.q >= seqOf(ix.ls, indexedEnd(ix)) && q.q < seqOf(ix.ls + 1, 0)) return false;
  }
  return true;
}

function park(s: EngineState, ix: LogIndex, pq: ParkedQuery, out: Eff[], ctx?: Ctx): void {
  if (ix.parked.length >= PARKED_MAX) {
    sendResult(s, pq.q.origin, { type: 'indexResult', qid: pq.q.qid, status: 'unavailable', lostLs: -1, hit: null, frontier: 0n, progressOut: 0n }, ctx!, out);
    return;
  }
  ix.parked.push(pq);
  armRepair(s, out);
  if (pq.deadlineUs >= 0 && ctx && s.cfg.variant !== 'lazy-blocking-timeout') armBlock(s, pq.deadlineUs, ctx, out);
}

/** Re-runs parked queries after the index moved (spec §5.2 "after each advance"). */
export function reserveParked(s: EngineState, ix: LogIndex, ctx: Ctx, out: Eff[]): void {
  const parked = ix.parked;
  ix.parked = [];
  const hang = s.cfg.variant === 'readprev-pending-hang';
  let work = 0;
  let i = 0;
  while (i < parked.length) {
    assert(++work < PARKED_LOOP_MAX, `${s.self}: per-step work bound exceeded re-examining parked index queries`);
    const pq = parked[i]!;
    if (pq.deadlineUs >= 0) {
      // A parked blocking read: re-evaluate; expire lazily under the published behaviour.
      if (hang || s.cfg.variant === 'lazy-blocking-timeout') {
        if (ctx.nowUs >= pq.deadlineUs) {
          answerEmpty(s, ix, pq.q, ctx, out);
          i++;
          continue;
        }
      }
      const r = evaluate(ix, { ...pq.q, frontier: seqOf(ix.ls, indexedEnd(ix)), progressOut: progress(ix.ls, ix.indexedMeta) });
      if (r.k === 'blockMiss') ix.parked.push(pq);
      else serveQuery(s, { ...pq.q, blocking: false }, pq.remote, ctx, out);
      i++;
      continue;
    }
    if (hang && pq.q.op === 'prev' && !admitted(s, ix, pq.q, pq.remote, out)) {
      // The published loop over parked readPrev queries neither advances nor erases: it spins.
      continue;
    }
    if (admitted(s, ix, pq.q, pq.remote, out)) serveQuery(s, pq.q, pq.remote, ctx, out);
    else ix.parked.push(pq);
    i++;
  }
}

function answerEmpty(s: EngineState, ix: LogIndex, q: IndexQuery, ctx: Ctx, out: Eff[]): void {
  sendResult(s, q.origin, { type: 'indexResult', qid: q.qid, status: 'empty', lostLs: -1, hit: null, frontier: seqOf(ix.ls, indexedEnd(ix)), progressOut: progress(ix.ls, ix.indexedMeta) }, ctx, out);
}

function armBlock(s: EngineState, deadlineUs: number, ctx: Ctx, out: Eff[]): void {
  if (s.blockArmedUs >= 0 && s.blockArmedUs <= deadlineUs) return;
  s.blockArmedUs = deadlineUs;
  out.push(setTimer('block', Math.max(1, deadlineUs - ctx.nowUs)));
}

export function expireBlocking(s: EngineState, ctx: Ctx, out: Eff[]): void {
  s.blockArmedUs = -1;
  let next = Infinity;
  for (const ix of s.indexes.values()) {
    if (ix.parked.length === 0) continue;
    const keep: ParkedQuery[] = [];
    for (const pq of ix.parked) {
      if (pq.deadlineUs >= 0 && ctx.nowUs >= pq.deadlineUs) answerEmpty(s, ix, pq.q, ctx, out);
      else {
        keep.push(pq);
        if (pq.deadlineUs >= 0) next = Math.min(next, pq.deadlineUs);
      }
    }
    ix.parked = keep;
  }
  if (next !== Infinity) armBlock(s, next, ctx, out);
}

function sendResult(s: EngineState, origin: string, res: IndexResult, ctx: Ctx, out: Eff[]): void {
  if (origin === s.self) onIndexResult(s, res, ctx, out);
  else out.push(send(origin, res));
}

export function startRead(s: EngineState, op: ReadOp, ctx: Ctx, out: Eff[]): void {
  const inv = s.invocations.get(op.inv);
  const pv = inv && inv.progress !== 0n ? logspaceView(progressLogspace(inv.progress)) : 0;
  if (s.views.current < 0 || pv > s.views.current) {
    op.held = true;
    s.heldOps.push(op.reqId);
    return;
  }
  op.held = false;
  const vi = curView(s)!;
  const log = logOfBook(vi, op.book);
  if (op.qid >= 0) s.queries.delete(op.qid);
  op.qid = ++s.nextQid;
  s.queries.set(op.qid, op.reqId);
  op.hit = null;
  op.fetchTries = 0;
  const q: IndexQuery = {
    type: 'indexQuery',
    qid: op.qid,
    origin: s.self,
    op: op.op,
    blocking: op.blocking,
    ls: log.ls,
    book: op.book,
    tag: op.tag,
    q: op.q,
    progress: inv ? inv.progress : 0n,
    initial: true,
    best: null,
    trimSeq: 0n,
    redirects: [],
    frontier: 0n,
    progressOut: 0n,
    issuedUs: ctx.nowUs,
  };
  if (s.cfg.variant !== 'read-no-timeout') {
    const ms = s.cfg.p.readTimeoutMs + (op.blocking ? s.cfg.p.blockingReadTimeoutMs : 0);
    out.push(setTimer(`op:${op.reqId}`, ms * 1000));
  }
  let local = hasIndex(s, log.ls) !== null && !s.cfg.p.forceRemoteIndex;
  if (local && s.cfg.p.probRemoteIndex > 0 && ctx.maybe('remoteIndex', s.cfg.p.probRemoteIndex)) local = false;
  if (local) return serveQuery(s, q, false, ctx, out);
  const to = pickIndexReplica(s, log.ls, op.tries + op.unavailable);
  if (to === null) {
    if (hasIndex(s, log.ls)) return serveQuery(s, q, false, ctx, out);
    return; // nobody to ask: the read timer retries
  }
  out.push(send(to, q));
}

export function readTimeout(s: EngineState, op: ReadOp, ctx: Ctx, out: Eff[]): void {
  if (op.held) return;
  if (op.tries >= s.cfg.p.readRetries) return finishRead(s, op, { code: 'DATA_LOST' }, ctx, out);
  op.tries++;
  startRead(s, op, ctx, out);
}

export function onIndexResult(s: EngineState, res: IndexResult, ctx: Ctx, out: Eff[]): void {
  const reqId = s.queries.get(res.qid);
  if (reqId === undefined) return;
  const op = s.ops.get(reqId);
  if (!op || op.k !== 'read' || op.qid !== res.qid || op.hit !== null) return;
  if (res.status === 'unavailable') {
    // A replica that lost its index: route around it at once, a bounded number of times.
    op.unavailable++;
    if (op.unavailable > 2 * (curView(s)?.view.engines.length ?? 1)) return;
    s.queries.delete(op.qid);
    op.qid = -1;
    return startRead(s, op, ctx, out);
  }
  op.frontier = res.frontier;
  op.progressOut = res.progressOut;
  if (res.status === 'empty') {
    bumpProgress(s, op.inv, res.progressOut);
    return finishRead(s, op, { code: 'EMPTY' }, ctx, out);
  }
  op.hit = res.hit!;
  fetchBody(s, op, ctx, out);
}

function fetchBody(s: EngineState, op: ReadOp, ctx: Ctx, out: Eff[]): void {
  const h = op.hit!;
  const bodySeq = seqOf(h.bodyLs, h.bodyPos);
  const cached = cacheGet(s, bodySeq);
  if (cached) return readDone(s, op, cached, null, ctx, out);
  const vi = s.views.infos[logspaceView(h.bodyLs)]!;
  const epos = vi.enginePosByNum.get(h.bodyEngine)!;
  const stores = vi.storagesOfEngine[epos]!;
  const to = stores[(op.qid + op.fetchTries) % stores.length]!;
  out.push(send(to, { type: 'readAt', qid: op.qid, ls: h.bodyLs, pos: h.bodyPos }));
}

export function onReadAtResult(s: EngineState, m: ReadAtResult, ctx: Ctx, out: Eff[]): void {
  const reqId = s.queries.get(m.qid);
  if (reqId === undefined) return;
  const op = s.ops.get(reqId);
  if (!op || op.k !== 'read' || op.qid !== m.qid || op.hit === null) return;
  if (m.rec === null) {
    op.fetchTries++;
    const vi = s.views.infos[logspaceView(m.ls)]!;
    if (op.fetchTries >= vi.view.userlogReplicas) return finishRead(s, op, { code: 'DATA_LOST' }, ctx, out);
    return fetchBody(s, op, ctx, out);
  }
  cachePut(s, seqOf(m.ls, m.pos), m.rec);
  readDone(s, op, m.rec, m.aux, ctx, out);
}

function readDone(s: EngineState, op: ReadOp, body: Replicate, aux: string | null, ctx: Ctx, out: Eff[]): void {
  const h = op.hit!;
  const seqnum = seqOf(h.ls, h.pos);
  bumpProgress(s, op.inv, op.progressOut);
  const auxData = s.aux.get(seqnum) ?? aux;
  finishRead(s, op, { code: 'READ_OK', record: { book: h.book, seqnum, localid: localid(h.engine, h.counter), tags: h.tags, data: body.data, auxData } }, ctx, out);
}

function finishRead(s: EngineState, op: ReadOp, rep: LogReply, ctx: Ctx, out: Eff[]): void {
  s.queries.delete(op.qid);
  finishOp(s, op, rep, op.frontier, null, ctx, out);
}
