/**
 * The storage node (spec §4.2 steps 3, 4, 11; §5.5; §9.3). Per (view, physical log) it keeps the
 * shards of its source engines: records received but not yet ordered (`pending`), the contiguous
 * received prefix per engine, and the ordered records by log position.
 *
 * Durability (project rule `sync-before-progress`): a record is written to disk on receipt; the
 * local-cut timer syncs the disk once and only then reports the synced prefix to the primary, so
 * a record counted in any cut survives a crash. Every applied metalog entry is synced too, which
 * is all a restarted storage needs to rebuild its ordering from disk. The published behaviour
 * (`lazy-after-order`, variant storage-lazy-unsynced) counts records on receipt and writes them,
 * unsynced, only once ordered.
 *
 * As a lite metalog consumer it applies an entry once the entry's shard starts equal its own
 * applied counters for every source engine with new records; then it orders those records, answers
 * reads parked on them, and ships their tag data to every index engine of the log.
 *
 * Layout. This file holds the machine (init, recover from disk, step), the message dispatch and
 * the answer to a restarted engine's shard recovery (spec §9.3); the parts live under storage/:
 * state.ts (state shape, accessors), views.ts (view changes, restore), replication.ts (receipt,
 * local cut), apply.ts (metalog entries, trim), reads.ts (reads by position) and finalize.ts
 * (finalize, catch-up, repair).
 */
import { assertNever } from '../core/assert.ts';
import { type Ctx, type DiskImage, type Machine, persist, send } from '../core/contract.ts';
import type { BokiConfig } from './common.ts';
import type { ZkResponse } from './coord-api.ts';
import type { BokiMessage, IndexRow, MetaEntry, NodeMessage, Replicate } from './messages.ts';
import { onEntries } from './storage/apply.ts';
import { onCatchupResp, repair } from './storage/finalize.ts';
import { onReadAt } from './storage/reads.ts';
import { onReplicate, localCut } from './storage/replication.ts';
import { type StorageState, type Eff, type Recovered, type Tombstone, newState, srcOfEngine, rowOf } from './storage/state.ts';
import { onZk } from './storage/views.ts';
import { zkOnMessage, zkOnTimer, zkStart, ZK_HEARTBEAT_TIMER } from './zk-client.ts';

export const storageMachine: Machine<BokiConfig, StorageState, NodeMessage> = {
  role: 'storage',
  init: (cfg, self) => newState(cfg, self, false),
  recover(cfg, self, disk: DiskImage) {
    const s = newState(cfg, self, true);
    for (const [key, value] of disk) {
      if (key.startsWith('r/')) {
        const r = value as Replicate;
        bucket(s, r.ls).records.push(r);
      } else if (key.startsWith('m/')) {
        const e = value as MetaEntry;
        bucket(s, e.ls).entries.push(e);
      } else if (key.startsWith('x/')) {
        const row = value as Tombstone;
        bucket(s, Number(key.split('/')[1])).tombs.push(row);
      } else if (key.startsWith('t/')) {
        s.trimPoints.set(Number(key.slice(2)), value as bigint);
      }
    }
    for (const b of s.recovered.values()) b.entries.sort((x, y) => x.k - y.k);
    return s;
  },
  step(s, input, ctx) {
    const out: Eff[] = [];
    switch (input.type) {
      case 'start':
      case 'restart':
        s.zk.boot = ctx.randomU32('boot');
        zkStart(s.zk, ctx.nowUs, out);
        break;
      case 'timer':
        if (input.timer === ZK_HEARTBEAT_TIMER) onZk(s, zkOnTimer(s.zk, ctx.nowUs, out), ctx, out);
        else if (input.timer === 'lc') localCut(s, ctx, out);
        else if (input.timer === 'repair') repair(s, ctx, out);
        break;
      case 'message': {
        const m = input.msg;
        if (m.type.startsWith('zk.')) onZk(s, zkOnMessage(s.zk, m as ZkResponse, ctx.nowUs, out), ctx, out);
        else onMessage(s, input.from, m as BokiMessage, ctx, out);
        break;
      }
      case 'client':
      case 'response':
        break;
      default:
        assertNever(input, 'input');
    }
    return { state: s, effects: out };
  },
};

function bucket(s: StorageState, ls: number): Recovered {
  let b = s.recovered.get(ls);
  if (!b) s.recovered.set(ls, (b = { records: [], entries: [], tombs: [] }));
  return b;
}

function onMessage(s: StorageState, from: string, m: BokiMessage, ctx: Ctx, out: Eff[]): void {
  switch (m.type) {
    case 'replicate':
      return onReplicate(s, m, ctx, out);
    case 'metaLogs':
      if (!m.committed) return;
      return onEntries(s, m.ls, m.entries, ctx, out);
    case 'catchupResp':
      return onCatchupResp(s, from, m, ctx, out);
    case 'readAt':
      return onReadAt(s, from, m, out);
    case 'indexDataReq': {
      const sl = s.logs.get(m.ls);
      if (!sl) return;
      const rows: IndexRow[] = [];
      const to = Math.min(m.to, m.from + 4096);
      for (let pos = m.from; pos < to; pos++) {
        const r = sl.ordered[pos];
        if (r) rows.push(rowOf(r, pos));
        else {
          const t = sl.tombstones.get(pos);
          if (t) rows.push(t);
        }
      }
      if (rows.length > 0) out.push(send(from, { type: 'indexData', ls: m.ls, rows }));
      return;
    }
    case 'shardRecover':
      return onShardRecover(s, from, m.ls, m.engine, m.incarnation, out);
    case 'setAux': {
      const sl = s.logs.get(m.ls);
      if (!sl) return;
      sl.aux.delete(m.pos);
      sl.aux.set(m.pos, m.data);
      if (sl.aux.size > s.cfg.p.storageCacheEntries) sl.aux.delete(sl.aux.keys().next().value!);
      return;
    }
    case 'shardProg':
    case 'metaProg':
    case 'catchupReq':
    case 'indexData':
    case 'shardRecoverAck':
    case 'indexQuery':
    case 'indexResult':
    case 'readAtResult':
    case 'decisionQuery':
    case 'decisionResult':
    case 'streamInfo':
    case 'streamInfoResp':
    case 'trimReq':
    case 'trimResp':
      return;
    default:
      assertNever(m, 'message');
  }
}

function onShardRecover(s: StorageState, from: string, ls: number, engine: number, incarnation: number, out: Eff[]): void {
  const sl = s.logs.get(ls);
  if (!sl) return;
  const src = srcOfEngine(sl, engine);
  if (!src) return;
  if (incarnation > src.minIncarnation) src.minIncarnation = incarnation;
  // Whatever this replica reports holding must survive a crash: sync first.
  if (s.unsynced > 0) {
    out.push(persist('sync', incarnation, true));
    s.unsynced = 0;
    for (const l of s.logs.values()) for (const x of l.sources) x.synced = x.recv;
  }
  const held: number[] = [];
  for (const c of src.pending.keys()) if (c >= src.recv) held.push(c);
  held.sort((a, b) => a - b);
  const records = [...src.pending.values()].sort((a, b) => a.counter - b.counter);
  out.push(send(from, { type: 'shardRecoverAck', ls, engine, incarnation, progress: src.recv, held, records, finalized: sl.finalized }));
}
