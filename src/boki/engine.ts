/**
 * The engine (function node): it serves the shared-log API (api.ts) to function code, produces
 * records into the log (LogProducer per view and physical log), indexes the logs of its index
 * plan, and answers index queries for peers.
 *
 * Append path (spec §4.2). An append gets a localid (engine, counter) in the book's current log
 * and goes to the R storages of the engine's shard; there is no acknowledgement. The outcome comes
 * through the metalog: a committed entry covering the localid orders it (APPEND_OK with its
 * seqnum); a finalize that does not cover it discards it (DISCARDED, then the client retry policy
 * of §3.3). Conditional appends and overwrites complete when an index decides them.
 *
 * Read path (spec §5.4). A read goes to an index of the book's log in the current view, locally
 * when this engine indexes it; the index admits it once it covers the invocation's progress and
 * walks back across views, one view at a time, locally or by forwarding. The record's body comes
 * from the cache or a storage replica of the record's shard in the record's view. Reads time out
 * and retry at another replica (§3.3), then answer DATA_LOST.
 *
 * Restart within a view (spec §9.3): the engine bumps a synced incarnation, asks its storages what
 * they hold of its shard, gives every replica that lacks a record some other replica holds a copy
 * (fillers for holes nobody holds), resumes its localid counter above everything held, and serves
 * no index it held before the restart.
 *
 * Layout. This file holds the machine (init, recover, step) and the dispatch of timers and
 * messages; each part of the protocol lives in a sibling module under engine/, all working on the
 * plain-data state of engine/state.ts: requests.ts (the API), appends.ts (producers),
 * decisions.ts (conditional appends), recovery.ts (restart within a view), metalog.ts (metalog
 * consumption, finalize), indexing.ts (index advance, cross-view lookups), reads.ts (index queries
 * and the read path), trim.ts (aux data, trim), views.ts (view changes), repair.ts (resends), and
 * shared.ts (helpers they all use). The modules form a DAG (no import cycles).
 */
import { assertNever } from '../core/assert.ts';
import { type Ctx, type DiskImage, type Machine, persist } from '../core/contract.ts';
import type { LogReply, LogRequest } from './api.ts';
import { armRepair, type BokiConfig } from './common.ts';
import type { ZkResponse } from './coord-api.ts';
import { attempt } from './engine/appends.ts';
import { requestDecision, decisionDone, onDecisionQuery } from './engine/decisions.ts';
import { indexAdvance, onStreamInfo, onStreamInfoResp } from './engine/indexing.ts';
import { onMetaEntries, onCatchupResp } from './engine/metalog.ts';
import { serveQuery, expireBlocking, readTimeout, onIndexResult, onReadAtResult } from './engine/reads.ts';
import { onRecoverAck } from './engine/recovery.ts';
import { repair } from './engine/repair.ts';
import { onClient } from './engine/requests.ts';
import { peerLost } from './engine/shared.ts';
import { type Op, type EngineState, type Eff, newState } from './engine/state.ts';
import { startTrim, sendTrim, onTrimResp } from './engine/trim.ts';
import { onZk } from './engine/views.ts';
import { offerIndexEntry, offerRows } from './log-index.ts';
import type { BokiMessage, NodeMessage } from './messages.ts';
import { zkOnMessage, zkOnTimer, zkStart, ZK_HEARTBEAT_TIMER } from './zk-client.ts';

export const engineMachine: Machine<BokiConfig, EngineState, NodeMessage, LogRequest, LogReply> = {
  role: 'engine',
  init: (cfg, self) => newState(cfg, self, 0, false),
  recover(cfg, self, disk: DiskImage) {
    const inc = (disk.get('incarnation') as number | undefined) ?? 0;
    return newState(cfg, self, inc + 1, true);
  },
  step(s, input, ctx) {
    const out: Eff[] = [];
    switch (input.type) {
      case 'start':
      case 'restart':
        s.zk.boot = ctx.randomU32('boot');
        // The incarnation must be durable before anything this incarnation sends.
        if (input.type === 'restart') out.push(persist('incarnation', s.incarnation, true));
        zkStart(s.zk, ctx.nowUs, out);
        break;
      case 'timer':
        onTimer(s, input.timer, ctx, out);
        break;
      case 'message': {
        const m = input.msg;
        if (m.type.startsWith('zk.')) onZk(s, zkOnMessage(s.zk, m as ZkResponse, ctx.nowUs, out), ctx, out);
        else onMessage(s, input.from, m as BokiMessage, ctx, out);
        break;
      }
      case 'client':
        onClient(s, input.reqId, input.body, ctx, out);
        break;
      case 'response':
        break;
      default:
        assertNever(input, 'input');
    }
    return { state: s, effects: out };
  },
};

function onTimer(s: EngineState, timer: string, ctx: Ctx, out: Eff[]): void {
  if (timer === ZK_HEARTBEAT_TIMER) return onZk(s, zkOnTimer(s.zk, ctx.nowUs, out), ctx, out);
  if (timer === 'repair') return repair(s, ctx, out);
  if (timer === 'block') return expireBlocking(s, ctx, out);
  if (timer.startsWith('op:')) {
    const op = s.ops.get(timer.slice(3));
    if (op) onOpTimer(s, op, ctx, out);
  }
}

function onOpTimer(s: EngineState, op: Op, ctx: Ctx, out: Eff[]): void {
  switch (op.k) {
    case 'append':
      if (op.phase === 'backoff') return attempt(s, op, ctx, out);
      if (op.phase === 'deciding') return requestDecision(s, op, ctx, out);
      return;
    case 'read':
      return readTimeout(s, op, ctx, out);
    case 'trim':
      if (op.phase === 'backoff') return startTrim(s, op, ctx, out);
      return sendTrim(s, op, ctx, out);
    default:
      assertNever(op, 'op');
  }
}

function onMessage(s: EngineState, from: string, m: BokiMessage, ctx: Ctx, out: Eff[]): void {
  switch (m.type) {
    case 'metaLogs':
      if (m.committed) onMetaEntries(s, m.ls, m.entries, ctx, out);
      return;
    case 'catchupResp':
      return onCatchupResp(s, from, m, ctx, out);
    case 'indexData': {
      const ix = s.indexes.get(m.ls);
      if (!ix) return;
      if (m.entry !== undefined && offerIndexEntry(ix, m.entry) === 'gap') armRepair(s, out);
      offerRows(ix, m.rows);
      return indexAdvance(s, ix, ctx, out);
    }
    case 'indexQuery':
      return serveQuery(s, m, true, ctx, out);
    case 'indexResult':
      if (m.status === 'unavailable' && m.lostLs >= 0) peerLost(s, m.lostLs, from);
      return onIndexResult(s, m, ctx, out);
    case 'readAtResult':
      return onReadAtResult(s, m, ctx, out);
    case 'decisionQuery':
      return onDecisionQuery(s, from, m, out);
    case 'decisionResult': {
      const reqId = s.queries.get(m.qid);
      if (reqId === undefined) return;
      const op = s.ops.get(reqId);
      if (!op || op.k !== 'append' || op.decQid !== m.qid) return;
      if (m.status === 'unavailable') {
        peerLost(s, m.ls, from);
        return requestDecision(s, op, ctx, out);
      }
      return decisionDone(s, op, { ok: m.ok, target: m.target }, m.progressOut, ctx, out);
    }
    case 'streamInfo':
      return onStreamInfo(s, from, m, ctx, out);
    case 'streamInfoResp':
      return onStreamInfoResp(s, from, m, ctx, out);
    case 'shardRecoverAck':
      return onRecoverAck(s, from, m, ctx, out);
    case 'trimResp':
      return onTrimResp(s, m.tid, m.code, m.progressOut, ctx, out);
    case 'replicate':
    case 'shardProg':
    case 'metaProg':
    case 'catchupReq':
    case 'indexDataReq':
    case 'shardRecover':
    case 'setAux':
    case 'readAt':
    case 'trimReq':
      return;
    default:
      assertNever(m, 'message');
  }
}
