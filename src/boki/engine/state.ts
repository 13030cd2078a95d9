/**
 * The engine's state (spec §4, §5): its shape and its construction. Plain data only: the
 * producers of the views this engine takes part in, the indexes it holds, the open invocations,
 * the operations in flight (appends, reads, trims), the cross-view lookups and the caches. Every
 * part of the engine (engine.ts and its siblings under engine/) works on this one shape, so it
 * lives apart from all of them.
 */
import { assert } from '../../core/assert.ts';
import type { Effect } from '../../core/contract.ts';
import type { LogReply, LogRequest } from '../api.ts';
import { type BokiConfig, newViewBook, type ViewBook } from '../common.ts';
import { nodeNumber } from '../ids.ts';
import type { LogIndex } from '../log-index.ts';
import type { Hit, Kind, NewLogsEntry, NodeMessage, Replicate, ShardRecoverAck } from '../messages.ts';
import type { LogInfo } from '../view.ts';
import { newZkClient, type ZkClient } from '../zk-client.ts';

export interface Invocation {
  readonly book: number;
  progress: bigint;
}

interface PendingAppend {
  readonly reqId: string;
  readonly rec: Replicate;
  sentUs: number;
  resendUs: number;
}

export interface Producer {
  readonly ls: number;
  readonly viewId: number;
  readonly info: LogInfo;
  /** This engine's position in the view's engine order. */
  readonly pos: number;
  readonly storages: readonly string[];
  counter: number;
  pending: Map<number, PendingAppend>;
  /** Own localids ordered so far (lite consumer position). */
  applied: number;
  lastK: number;
  scanned: number;
  buffered: Map<number, NewLogsEntry>;
  /** Restart recovery (spec §9.3): acks per storage, until all R answered. */
  recovering: Map<string, ShardRecoverAck | null> | null;
  recoverSentUs: number;
  /** Appends waiting for recovery to finish. */
  held: string[];
  finalized: boolean;
  catchupSentUs: number;
  stallMark: number;
}

export interface AppendOp {
  readonly k: 'append';
  readonly reqId: string;
  readonly req: LogRequest;
  readonly inv: string;
  readonly book: number;
  readonly recKind: Kind;
  readonly tags: readonly bigint[];
  readonly data: string;
  readonly condTag: bigint;
  readonly condPos: number;
  readonly pin: bigint;
  readonly t0: number;
  tries: number;
  phase: 'backoff' | 'replicating' | 'deciding' | 'held';
  attemptId: string;
  ls: number;
  pos: number;
  orderK: number;
  decQid: number;
  decTries: number;
}

export interface ReadOp {
  readonly k: 'read';
  readonly reqId: string;
  readonly req: LogRequest;
  readonly inv: string;
  readonly book: number;
  readonly op: 'next' | 'prev';
  readonly tag: bigint;
  readonly q: bigint;
  readonly blocking: boolean;
  readonly pin: bigint;
  readonly t0: number;
  qid: number;
  tries: number;
  unavailable: number;
  hit: Hit | null;
  frontier: bigint;
  progressOut: bigint;
  fetchTries: number;
  held: boolean;
}

export interface TrimOp {
  readonly k: 'trim';
  readonly reqId: string;
  readonly req: LogRequest;
  readonly inv: string;
  readonly book: number;
  readonly trimSeq: bigint;
  readonly pin: bigint;
  readonly t0: number;
  tries: number;
  tid: string;
  ls: number;
  phase: 'backoff' | 'sent';
}

export type Op = AppendOp | ReadOp | TrimOp;

export interface Lookup {
  readonly key: string;
  readonly op: 'count' | 'seek';
  readonly ls: number;
  readonly book: number;
  readonly tag: bigint;
  readonly pos: number;
  done: boolean;
  count: number;
  hit: Hit | null;
  waiters: LookupWaiter[];
  sid: number;
  sentUs: number;
  tries: number;
}

export type LookupWaiter = { readonly k: 'advance'; readonly ls: number } | { readonly k: 'reply'; readonly to: string; readonly sid: number } | { readonly k: 'lookup'; readonly key: string };

export type DecWaiter = { readonly k: 'local'; readonly reqId: string } | { readonly k: 'remote'; readonly to: string; readonly qid: number };

export interface EngineState {
  readonly cfg: BokiConfig;
  readonly self: string;
  readonly num: number;
  readonly zk: ZkClient;
  incarnation: number;
  readonly restarted: boolean;
  views: ViewBook;
  producers: Map<number, Producer>;
  indexes: Map<number, LogIndex>;
  /** Logspaces this engine indexed before a restart: lost, never served. */
  lostIndexes: Set<number>;
  /** Peers known to have lost their index of a logspace (they answered 'unavailable'). */
  lostPeers: Map<number, Set<string>>;
  invocations: Map<string, Invocation>;
  ops: Map<string, Op>;
  /** Reads and decision queries in flight, by query id. */
  queries: Map<number, string>;
  /** Trims in flight, by trim id. */
  trims: Map<string, string>;
  /** Ops waiting for a view. */
  heldOps: string[];
  nextQid: number;
  attempts: number;
  rr: number;
  cache: Map<bigint, Replicate>;
  aux: Map<bigint, string>;
  decWaiters: Map<string, DecWaiter[]>;
  lookups: Map<string, Lookup>;
  lookupBySid: Map<number, string>;
  /** Lookups waiting for a local index to become complete, by its logspace. */
  lookupsOn: Map<number, string[]>;
  nextSid: number;
  repairArmed: boolean;
  blockArmedUs: number;
  readonly boot: number;
}

export type Eff = Effect<NodeMessage, never, LogReply>;

/**
 * Query and lookup ids are unique across incarnations: each incarnation numbers from its own
 * base. Answers to the previous incarnation's queries may still be in flight after a restart, and
 * a reused id would hand one of them to a new query of another stream (wf-crash-storm seed 299
 * under hm-read: a readNext answered with a record below its minSeq, from another stream).
 */
const ID_SPACE = 2 ** 32;

/** Incarnations below this keep every id under 2^53, exact as a JS number. */
const INCARNATIONS_MAX = 2 ** 20;

export function newState(cfg: BokiConfig, self: string, incarnation: number, restarted: boolean): EngineState {
  assert(Number.isInteger(incarnation) && incarnation >= 0 && incarnation < INCARNATIONS_MAX, `engine ${self}: incarnation ${incarnation} out of range`);
  return {
    cfg,
    self,
    num: nodeNumber(self),
    zk: newZkClient(self, 'engine', cfg.p.heartbeatIntervalMs, cfg.p.failureTimeoutMs, 0),
    incarnation,
    restarted,
    views: newViewBook(),
    producers: new Map(),
    indexes: new Map(),
    lostIndexes: new Set(),
    lostPeers: new Map(),
    invocations: new Map(),
    ops: new Map(),
    queries: new Map(),
    trims: new Map(),
    heldOps: [],
    nextQid: incarnation * ID_SPACE,
    attempts: 0,
    rr: 0,
    cache: new Map(),
    aux: new Map(),
    decWaiters: new Map(),
    lookups: new Map(),
    lookupBySid: new Map(),
    lookupsOn: new Map(),
    nextSid: incarnation * ID_SPACE,
    repairArmed: false,
    blockArmedUs: -1,
    boot: incarnation,
  };
}
