/**
 * The storage node's state: per (view, physical log) the shards of its source engines (pending,
 * received, synced and applied counters), the ordered records and tombstones, buffered entries and
 * parked reads; its construction, and the small accessors every part of the storage uses (the
 * sync policy, disk keys, index rows and tombstones of a record, a source's shard).
 */
import type { Effect } from '../../core/contract.ts';
import { type BokiConfig, newViewBook, type ViewBook } from '../common.ts';
import { nodeNumber } from '../ids.ts';
import type { IndexRow, MetaEntry, NodeMessage, ReadAt, Replicate } from '../messages.ts';
import type { LogInfo } from '../view.ts';
import { newZkClient, type ZkClient } from '../zk-client.ts';

export interface SrcShard {
  /** The engine's position in the view's engine order. */
  readonly pos: number;
  /** The engine's numeric id (the localid's high word). */
  readonly engine: number;
  readonly storages: readonly string[];
  pending: Map<number, Replicate>;
  /** Counters below `recv` are received (or ordered). */
  recv: number;
  /** Counters below `synced` are durable and counted in progress. */
  synced: number;
  /** Counters below `applied` are ordered. */
  applied: number;
  /** Metalog position of the last entry that ordered records of this shard (-1: none yet). */
  lastK: number;
  minIncarnation: number;
}

export interface StoLog {
  readonly ls: number;
  readonly viewId: number;
  readonly info: LogInfo;
  readonly sources: SrcShard[];
  /** By engine position: this storage's shard for it, or null. */
  readonly srcByPos: (SrcShard | null)[];
  /**
   * Ordered records by log position (an array, holes for other shards' positions and trimmed
   * records: dense in the common S = R layout, and cheap to hash at the end of a run).
   */
  ordered: (Replicate | undefined)[];
  /** Rows of ordered records deleted by a trim: indexes may still need them, and the audit. */
  tombstones: Map<number, Tombstone>;
  /** End of the last applied NEW_LOGS entry, and its metalog position. */
  appliedEnd: number;
  lastK: number;
  /** Catch-up scan cursor: entries below it were seen (applied, buffered or irrelevant here). */
  scanned: number;
  /** Entries that arrived ahead of a gap. */
  buffered: Map<number, MetaEntry>;
  parked: Map<number, { from: string; m: ReadAt }[]>;
  parkedCount: number;
  /** Progress last reported, per source (aligned to `sources`). */
  reported: number[];
  reportedUs: number;
  /** Sum of applied counters at the last repair tick, to tell a stall from a busy log. */
  stallMark: number;
  finalized: boolean;
  catchupSentUs: number;
  aux: Map<number, string>;
}

export interface StorageState {
  readonly cfg: BokiConfig;
  readonly self: string;
  readonly zk: ZkClient;
  views: ViewBook;
  logs: Map<number, StoLog>;
  /** Disk contents waiting for the view that explains them (after a restart). */
  recovered: Map<number, Recovered>;
  /** Records of logspaces whose view this node has not learned yet. */
  early: Replicate[];
  trimPoints: Map<number, bigint>;
  lcArmed: boolean;
  repairArmed: boolean;
  unsynced: number;
  readonly restarted: boolean;
  readonly boot: number;
}

export type Eff = Effect<NodeMessage>;

export interface Recovered {
  records: Replicate[];
  entries: MetaEntry[];
  tombs: Tombstone[];
}

/** What remains of a trimmed record: its index row (for indexes and replays) and attempt id. */
export interface Tombstone extends IndexRow {
  readonly attemptId: string;
}

export function tombOf(r: Replicate, pos: number): Tombstone {
  return { pos, engine: r.engine, counter: r.counter, book: r.book, tags: r.tags, kind: r.kind, condTag: r.condTag, condPos: r.condPos, attemptId: r.attemptId };
}

export function lazy(s: StorageState): boolean {
  return s.cfg.variant === 'storage-lazy-unsynced' || s.cfg.p.storageSyncPolicy === 'lazy-after-order';
}

export function newState(cfg: BokiConfig, self: string, restarted: boolean): StorageState {
  return {
    cfg,
    self,
    zk: newZkClient(self, 'storage', cfg.p.heartbeatIntervalMs, cfg.p.failureTimeoutMs, 0),
    views: newViewBook(),
    logs: new Map(),
    recovered: new Map(),
    early: [],
    trimPoints: new Map(),
    lcArmed: false,
    repairArmed: false,
    unsynced: 0,
    restarted,
    boot: restarted ? 1 : 0,
  };
}

export const recKey = (ls: number, engine: number, counter: number) => `r/${ls}/${engine}/${counter}`;

export function srcOfEngine(sl: StoLog, engine: number): SrcShard | null {
  for (const src of sl.sources) if (src.engine === engine) return src;
  return null;
}

export function rowOf(r: Replicate, pos: number): IndexRow {
  return { pos, engine: r.engine, counter: r.counter, book: r.book, tags: r.tags, kind: r.kind, condTag: r.condTag, condPos: r.condPos };
}

/** Numeric id of this storage (for reports). */
export function storageNumber(s: StorageState): number {
  return nodeNumber(s.self);
}
