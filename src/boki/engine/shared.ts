/**
 * Small helpers every part of the engine uses: the current view, the local index of a logspace,
 * completing an operation (reply + history record), invocation progress, choosing an index
 * replica to ask, metalog catch-up requests and the record cache. They sit below appends, reads,
 * indexing and views so those modules import them without importing each other.
 */
import { assert } from '../../core/assert.ts';
import { type Ctx, record, reply, send } from '../../core/contract.ts';
import type { LogReply } from '../api.ts';
import type { OpRec } from '../history.ts';
import { logspaceView } from '../ids.ts';
import type { LogIndex } from '../log-index.ts';
import type { Replicate } from '../messages.ts';
import { logOfBook, type ViewInfo } from '../view.ts';
import type { Op, EngineState, Eff } from './state.ts';

export function curView(s: EngineState): ViewInfo | null {
  return s.views.current >= 0 ? s.views.infos[s.views.current]! : null;
}

export function hasIndex(s: EngineState, ls: number): LogIndex | null {
  return s.indexes.get(ls) ?? null;
}

export function finishOp(s: EngineState, op: Op, rep: LogReply, frontier: bigint, attemptId: string | null, ctx: Ctx, out: Eff[]): void {
  s.ops.delete(op.reqId);
  out.push({ type: 'cancelTimer', timer: `op:${op.reqId}` });
  out.push(reply(op.reqId, rep));
  const inv = s.invocations.get(op.inv);
  out.push(record<OpRec>({ ev: 'op', reqId: op.reqId, inv: op.inv, book: op.book, req: op.req, rep, pin: op.pin, pout: inv ? inv.progress : op.pin, frontier, t0: op.t0, attemptId }));
  void ctx;
}

export function bumpProgress(s: EngineState, invId: string, p: bigint): void {
  const inv = s.invocations.get(invId);
  if (inv && p > inv.progress) inv.progress = p;
}

export function requestCatchup(s: EngineState, ls: number, to: readonly string[], from: number, ctx: Ctx, out: Eff[]): void {
  const p = s.producers.get(ls);
  if (p) p.catchupSentUs = ctx.nowUs;
  const ix = s.indexes.get(ls);
  if (ix) ix.catchupSentUs = ctx.nowUs;
  for (const n of to) if (n !== s.self) out.push(send(n, { type: 'catchupReq', ls, from }));
}

export function prevLogOf(s: EngineState, viewId: number, book: number): number {
  assert(viewId > 0, 'view 0 has no predecessor');
  return logOfBook(s.views.infos[viewId - 1]!, book).ls;
}

/** An index replica of `ls` to ask, round-robin from `salt`, preferring engines of the current view. */
export function pickIndexReplica(s: EngineState, ls: number, salt: number): string | null {
  const vi = s.views.infos[logspaceView(ls)];
  if (!vi) return null;
  const info = vi.logBySeqNum.get(ls % 0x1_0000);
  if (!info) return null;
  const cur = curView(s);
  const lost = s.lostPeers.get(ls);
  const ok = (e: string) => e !== s.self && (lost === undefined || !lost.has(e));
  const live = info.indexEngines.filter((e) => ok(e) && (!cur || cur.enginePos.has(e)));
  const pool = live.length > 0 ? live : info.indexEngines.filter(ok);
  if (pool.length === 0) return null;
  void salt;
  return pool[s.rr++ % pool.length]!;
}

/** A peer answered that it lost its index of `ls` (it restarted): never ask it again. */
export function peerLost(s: EngineState, ls: number, peer: string): void {
  let set = s.lostPeers.get(ls);
  if (!set) s.lostPeers.set(ls, (set = new Set()));
  set.add(peer);
}

export function cachePut(s: EngineState, seq: bigint, rec: Replicate): void {
  if (!s.cfg.p.engineCache || s.cfg.p.engineCacheEntries === 0) return;
  s.cache.delete(seq);
  s.cache.set(seq, rec);
  if (s.cache.size > s.cfg.p.engineCacheEntries) s.cache.delete(s.cache.keys().next().value!);
}

export function cacheGet(s: EngineState, seq: bigint): Replicate | undefined {
  if (!s.cfg.p.engineCache) return undefined;
  return s.cache.get(seq);
}
