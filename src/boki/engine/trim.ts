/**
 * Aux data and trim (spec §3): setAuxData is local (propagated to the record's storages when
 * configured); a trim goes to the log's primary sequencer, is retried when discarded, and a
 * finalized view completes the trims it ordered.
 */
import { type Ctx, send, setTimer } from '../../core/contract.ts';
import { logspaceView, progress, seqLogspace, seqPos, seqView } from '../ids.ts';
import type { FinalLog } from '../messages.ts';
import { logOfBook } from '../view.ts';
import { curView, finishOp, bumpProgress } from './shared.ts';
import type { TrimOp, EngineState, Eff } from './state.ts';

export function finalizeTrims(s: EngineState, viewId: number, logs: readonly FinalLog[], ctx: Ctx, out: Eff[]): void {
  for (const op of [...s.ops.values()]) {
    if (op.k !== 'trim' || op.phase !== 'sent' || logspaceView(op.ls) !== viewId) continue;
    const fl = logs.find((l) => l.ls === op.ls);
    const done = fl?.tail.some((e) => e.kind === 'trim' && e.tid === op.tid);
    if (done) trimDone(s, op, 'TRIM_OK', progress(op.ls, fl!.finalPos), ctx, out);
    else trimDiscarded(s, op, ctx, out);
  }
}

export function setAux(s: EngineState, seqnum: bigint, data: string, out: Eff[]): void {
  s.aux.delete(seqnum);
  s.aux.set(seqnum, data);
  if (s.aux.size > s.cfg.p.engineCacheEntries) s.aux.delete(s.aux.keys().next().value!);
  if (!s.cfg.p.propagateAuxData) return;
  const rec = s.cache.get(seqnum);
  if (!rec) return;
  const vi = s.views.infos[seqView(seqnum)];
  const epos = vi?.enginePosByNum.get(rec.engine);
  if (!vi || epos === undefined) return;
  const msg = { type: 'setAux' as const, ls: seqLogspace(seqnum), pos: seqPos(seqnum), data };
  for (const st of vi.storagesOfEngine[epos]!) out.push(send(st, msg));
}

export function startTrim(s: EngineState, op: TrimOp, ctx: Ctx, out: Eff[]): void {
  if (s.views.current < 0) {
    s.heldOps.push(op.reqId);
    return;
  }
  const vi = curView(s)!;
  if (s.views.frozen >= vi.view.viewId) return trimDiscarded(s, op, ctx, out);
  const log = logOfBook(vi, op.book);
  op.ls = log.ls;
  op.tid = `${s.self}#${op.reqId}#${op.tries}`;
  s.trims.set(op.tid, op.reqId);
  op.phase = 'sent';
  sendTrim(s, op, ctx, out);
}

export function sendTrim(s: EngineState, op: TrimOp, ctx: Ctx, out: Eff[]): void {
  const vi = s.views.infos[logspaceView(op.ls)]!;
  const log = vi.logBySeqNum.get(op.ls % 0x1_0000)!;
  out.push(send(log.primary, { type: 'trimReq', tid: op.tid, ls: op.ls, book: op.book, trimSeq: op.trimSeq }));
  out.push(setTimer(`op:${op.reqId}`, s.cfg.p.readTimeoutMs * 1000));
  void ctx;
}

export function onTrimResp(s: EngineState, tid: string, code: 'TRIM_OK' | 'TRIM_FAILED' | 'DISCARDED', prog: bigint, ctx: Ctx, out: Eff[]): void {
  const reqId = s.trims.get(tid);
  if (reqId === undefined) return;
  const op = s.ops.get(reqId);
  if (!op || op.k !== 'trim' || op.tid !== tid || op.phase !== 'sent') return;
  if (code === 'DISCARDED') return trimDiscarded(s, op, ctx, out);
  trimDone(s, op, code, prog, ctx, out);
}

function trimDone(s: EngineState, op: TrimOp, code: 'TRIM_OK' | 'TRIM_FAILED', prog: bigint, ctx: Ctx, out: Eff[]): void {
  s.trims.delete(op.tid);
  if (code === 'TRIM_OK') bumpProgress(s, op.inv, prog);
  finishOp(s, op, { code }, 0n, null, ctx, out);
}

function trimDiscarded(s: EngineState, op: TrimOp, ctx: Ctx, out: Eff[]): void {
  s.trims.delete(op.tid);
  if (op.tries >= s.cfg.p.appendRetries) return finishOp(s, op, { code: 'DISCARDED' }, 0n, null, ctx, out);
  const delayMs = s.cfg.p.appendRetryBaseMs * 2 ** op.tries;
  op.tries++;
  op.phase = 'backoff';
  out.push(setTimer(`op:${op.reqId}`, Math.max(1, delayMs * 1000)));
}
