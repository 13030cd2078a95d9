/**
 * Conditional appends and overwrites (spec §5.3): once ordered, their outcome is decided by an
 * index of the log. The issuer asks locally when it indexes the log, else a replica; an index
 * answers peers' decision queries and wakes local and remote waiters when it decides a row.
 */
import { type Ctx, record, send, setTimer } from '../../core/contract.ts';
import { TAG_INVALID, type LogReply } from '../api.ts';
import type { AttemptEndRec } from '../history.ts';
import { progress } from '../ids.ts';
import type { Decision, LogIndex } from '../log-index.ts';
import type { DecisionQuery } from '../messages.ts';
import { hasIndex, finishOp, bumpProgress, pickIndexReplica } from './shared.ts';
import type { AppendOp, DecWaiter, EngineState, Eff } from './state.ts';

/** Spec §5.3 issuer notification: decide locally if this engine indexes the log, else ask. */
export function requestDecision(s: EngineState, op: AppendOp, ctx: Ctx, out: Eff[]): void {
  const ix = hasIndex(s, op.ls);
  if (ix) {
    const d = ix.decisions.get(op.pos);
    if (d) return decisionDone(s, op, d, progress(op.ls, Math.max(ix.indexedMeta, op.orderK + 1)), ctx, out);
    addDecWaiter(s, op.ls, op.pos, { k: 'local', reqId: op.reqId });
    return;
  }
  const to = pickIndexReplica(s, op.ls, op.decTries++);
  if (to === null) return; // no replica known: the op timer retries
  const qid = ++s.nextQid;
  op.decQid = qid;
  s.queries.set(qid, op.reqId);
  out.push(send(to, { type: 'decisionQuery', qid, ls: op.ls, pos: op.pos }));
  out.push(setTimer(`op:${op.reqId}`, s.cfg.p.readTimeoutMs * 1000));
}

function addDecWaiter(s: EngineState, ls: number, pos: number, w: DecWaiter): void {
  const key = `${ls}:${pos}`;
  let l = s.decWaiters.get(key);
  if (!l) s.decWaiters.set(key, (l = []));
  l.push(w);
}

export function decisionDone(s: EngineState, op: AppendOp, d: Decision, prog: bigint, ctx: Ctx, out: Eff[]): void {
  if (op.phase !== 'deciding') return;
  s.queries.delete(op.decQid);
  bumpProgress(s, op.inv, prog);
  if (s.cfg.variant !== 'bug-no-progress') bumpProgress(s, op.inv, progress(op.ls, op.orderK + 1));
  out.push(record<AttemptEndRec>({ ev: 'attemptEnd', attemptId: op.attemptId, code: d.ok ? 'APPEND_OK' : 'COND_FAILED', ls: op.ls, pos: op.pos }));
  const rep: LogReply = d.ok ? { code: 'APPEND_OK', seqnum: d.target } : { code: 'COND_FAILED' };
  finishOp(s, op, rep, 0n, op.attemptId, ctx, out);
}

export function onDecisionQuery(s: EngineState, from: string, m: DecisionQuery, out: Eff[]): void {
  const ix = hasIndex(s, m.ls);
  if (!ix) {
    out.push(send(from, { type: 'decisionResult', qid: m.qid, ls: m.ls, pos: m.pos, status: 'unavailable', ok: false, target: TAG_INVALID, progressOut: 0n }));
    return;
  }
  const d = ix.decisions.get(m.pos);
  if (d) {
    out.push(send(from, { type: 'decisionResult', qid: m.qid, ls: m.ls, pos: m.pos, status: 'decided', ok: d.ok, target: d.target, progressOut: progress(ix.ls, ix.indexedMeta) }));
    return;
  }
  addDecWaiter(s, m.ls, m.pos, { k: 'remote', to: from, qid: m.qid });
}

/** The index hook: a cond/overwrite row was decided here. */
export function onDecided(s: EngineState, ix: LogIndex, pos: number, d: Decision, ctx: Ctx, out: Eff[]): void {
  const key = `${ix.ls}:${pos}`;
  const ws = s.decWaiters.get(key);
  if (!ws) return;
  s.decWaiters.delete(key);
  for (const w of ws) {
    if (w.k === 'remote') {
      out.push(send(w.to, { type: 'decisionResult', qid: w.qid, ls: ix.ls, pos, status: 'decided', ok: d.ok, target: d.target, progressOut: progress(ix.ls, ix.indexedMeta) }));
      continue;
    }
    const op = s.ops.get(w.reqId);
    if (op && op.k === 'append' && op.ls === ix.ls && op.pos === pos) decisionDone(s, op, d, 0n, ctx, out);
  }
}
