/**
 * Messages between Boki's roles (spec §4.1, §5.1, §9.3), one discriminated union on `type`. No
 * type starts with `wf.` (reserved for the Halfmoon runtime composed onto engines); coordination
 * messages start with `zk.` and live in coord-api.ts.
 *
 * Hot-path encoding: inside messages a seqnum travels as (ls, pos) numbers and a localid as
 * (engine, counter) numbers, where `engine` is the engine's numeric node id; tags are bigints.
 * Values that cross the API boundary (query seqnums, progress tokens, trim points) are bigints.
 * Every message is immutable once sent: receivers keep references (storage keeps each
 * `Replicate` as the stored record) and never mutate them.
 */
import type { ZkMessage } from './coord-api.ts';

export type Kind = 'normal' | 'cond' | 'overwrite' | 'filler';

/** Engine -> each of its R storages: one record (spec §4.1 Replicate, with Halfmoon's fields). */
export interface Replicate {
  readonly type: 'replicate';
  readonly ls: number;
  readonly engine: number;
  readonly counter: number;
  readonly incarnation: number;
  readonly book: number;
  /** Deduplicated user tags (never 0 or 2^64-1). */
  readonly tags: readonly bigint[];
  readonly data: string;
  readonly kind: Kind;
  /** cond: the stream compared; overwrite: the stream whose `condPos`-th record is replaced. */
  readonly condTag: bigint;
  /** cond: the expected stream length; overwrite: the index of the target in the stream. */
  readonly condPos: number;
  /** Unique per append attempt, for the checkers (spec §10). */
  readonly attemptId: string;
}

/** Storage -> primary: contiguous, synced progress per source engine (aligned to the view's plan). */
export interface ShardProg {
  readonly type: 'shardProg';
  readonly ls: number;
  readonly progress: readonly number[];
}

export interface NewLogsEntry {
  readonly kind: 'newLogs';
  readonly ls: number;
  /** metalogSeqnum: the entry's position in the metalog. */
  readonly k: number;
  readonly startPos: number;
  /** Per engine in view order: first counter covered, and how many. */
  readonly starts: readonly number[];
  readonly deltas: readonly number[];
}

export interface TrimEntry {
  readonly kind: 'trim';
  readonly ls: number;
  readonly k: number;
  /** A trim entry assigns no seqnums; this is the log position at which it was cut. */
  readonly startPos: number;
  readonly book: number;
  readonly trimSeq: bigint;
  readonly tid: string;
  readonly requester: string;
}

export type MetaEntry = NewLogsEntry | TrimEntry;

/** Primary -> backups (replication) or -> consumers (committed entries only). */
export interface MetaLogs {
  readonly type: 'metaLogs';
  readonly ls: number;
  readonly entries: readonly MetaEntry[];
  readonly committed: boolean;
}

/** Backup -> primary: the backup holds entries [0, pos). */
export interface MetaProg {
  readonly type: 'metaProg';
  readonly ls: number;
  readonly pos: number;
}

/** Any metalog consumer -> a sequencer replica: send committed entries from `from` on. */
export interface CatchupReq {
  readonly type: 'catchupReq';
  readonly ls: number;
  readonly from: number;
}

export interface CatchupResp {
  readonly type: 'catchupResp';
  readonly ls: number;
  readonly from: number;
  readonly entries: readonly MetaEntry[];
  /** The responder's committed (or final) end; more entries may follow below it. */
  readonly upTo: number;
}

export interface IndexRow {
  readonly pos: number;
  readonly engine: number;
  readonly counter: number;
  readonly book: number;
  readonly tags: readonly bigint[];
  readonly kind: Kind;
  readonly condTag: bigint;
  readonly condPos: number;
}

/** Storage -> index engines of the logspace (all, or with params.publishedIndexFeed false those it serves rows to): tag data of newly ordered records. */
export interface IndexData {
  readonly type: 'indexData';
  readonly ls: number;
  readonly rows: readonly IndexRow[];
  /** The entry that ordered these rows (the compact feed, params.publishedIndexFeed false); absent in replies to IndexDataReq. */
  readonly entry?: MetaEntry;
}

/** Index -> storage: resend index rows for positions in [from, to) of this storage's shards. */
export interface IndexDataReq {
  readonly type: 'indexDataReq';
  readonly ls: number;
  readonly from: number;
  readonly to: number;
}

/** Restarted engine -> its shard's storages (spec §9.3). */
export interface ShardRecover {
  readonly type: 'shardRecover';
  readonly ls: number;
  readonly engine: number;
  readonly incarnation: number;
}

export interface ShardRecoverAck {
  readonly type: 'shardRecoverAck';
  readonly ls: number;
  readonly engine: number;
  readonly incarnation: number;
  /** Contiguous progress of the shard on this storage. */
  readonly progress: number;
  /** Counters held at or above `progress`, ascending. */
  readonly held: readonly number[];
  /** Every record held and not yet ordered, ascending by counter (for relaying, see engine.ts). */
  readonly records: readonly Replicate[];
  /** The logspace is finalized on this storage: recovery is moot. */
  readonly finalized: boolean;
}

/** Engine -> the record's storages: best-effort aux data (never persisted). */
export interface SetAux {
  readonly type: 'setAux';
  readonly ls: number;
  readonly pos: number;
  readonly data: string;
}

/** A record found by an index: where it is, and where its current payload lives. */
export interface Hit {
  readonly ls: number;
  readonly pos: number;
  readonly book: number;
  readonly engine: number;
  readonly counter: number;
  readonly tags: readonly bigint[];
  readonly bodyLs: number;
  readonly bodyPos: number;
  readonly bodyEngine: number;
}

/** A redirect carried by a backward walk: target seqnum -> body location (newest view first). */
export interface CarriedRedirect {
  readonly target: bigint;
  readonly bodyLs: number;
  readonly bodyPos: number;
  readonly bodyEngine: number;
}

export type ReadOp = 'next' | 'prev';

/** Origin engine (or a walking index) -> an index replica of (view, log). */
export interface IndexQuery {
  readonly type: 'indexQuery';
  readonly qid: number;
  readonly origin: string;
  readonly op: ReadOp;
  readonly blocking: boolean;
  /** Target logspace (fixes the view). */
  readonly ls: number;
  readonly book: number;
  readonly tag: bigint;
  readonly q: bigint;
  readonly progress: bigint;
  readonly initial: boolean;
  readonly best: Hit | null;
  readonly trimSeq: bigint;
  readonly redirects: readonly CarriedRedirect[];
  /** Set by the initial index: the first seqnum it does not cover, and the progress it returns. */
  readonly frontier: bigint;
  readonly progressOut: bigint;
  readonly issuedUs: number;
}

export type QueryStatus = 'found' | 'empty' | 'unavailable';

export interface IndexResult {
  readonly type: 'indexResult';
  readonly qid: number;
  readonly status: QueryStatus;
  /** 'unavailable' from a replica that lost its index: that logspace (else -1). */
  readonly lostLs: number;
  readonly hit: Hit | null;
  readonly frontier: bigint;
  readonly progressOut: bigint;
}

/** Origin engine -> a storage replica of the record's shard. */
export interface ReadAt {
  readonly type: 'readAt';
  readonly qid: number;
  readonly ls: number;
  readonly pos: number;
}

export interface ReadAtResult {
  readonly type: 'readAtResult';
  readonly qid: number;
  readonly ls: number;
  readonly pos: number;
  /** null: DATA_LOST at this replica. */
  readonly rec: Replicate | null;
  readonly aux: string | null;
}

/** Issuer of a cond/overwrite record that does not index its log -> an index replica. */
export interface DecisionQuery {
  readonly type: 'decisionQuery';
  readonly qid: number;
  readonly ls: number;
  readonly pos: number;
}

export interface DecisionResult {
  readonly type: 'decisionResult';
  readonly qid: number;
  readonly ls: number;
  readonly pos: number;
  readonly status: 'decided' | 'unavailable';
  readonly ok: boolean;
  /** overwrite: the target's seqnum (INVALID when none). */
  readonly target: bigint;
  readonly progressOut: bigint;
}

/** Index of view v -> an index of an older view: stream counts and positions across views. */
export interface StreamInfo {
  readonly type: 'streamInfo';
  readonly sid: number;
  readonly op: 'count' | 'seek';
  readonly ls: number;
  readonly book: number;
  readonly tag: bigint;
  /** seek: the global stream index wanted. */
  readonly pos: number;
}

export interface StreamInfoResp {
  readonly type: 'streamInfoResp';
  readonly sid: number;
  readonly status: 'ok' | 'unavailable';
  /** count: visible records of stream(book, tag) in this view and all older ones. */
  readonly count: number;
  /** seek: the record at the wanted index, or null. */
  readonly target: Hit | null;
}

/** Engine -> the primary of the book's current log (spec §9.3 trim). */
export interface TrimReq {
  readonly type: 'trimReq';
  readonly tid: string;
  readonly ls: number;
  readonly book: number;
  readonly trimSeq: bigint;
}

export interface TrimResp {
  readonly type: 'trimResp';
  readonly tid: string;
  readonly code: 'TRIM_OK' | 'TRIM_FAILED' | 'DISCARDED';
  readonly progressOut: bigint;
}

/** What the controller publishes at finalize, per physical log of the sealed view. */
export interface FinalLog {
  readonly ls: number;
  readonly finalPos: number;
  readonly tail: readonly MetaEntry[];
}

/** A sequencer's seal report for one view (spec §6.1 step 2). */
export interface FreezeReport {
  readonly viewId: number;
  readonly sequencer: string;
  readonly logs: readonly { readonly ls: number; readonly position: number; readonly tail: readonly MetaEntry[] }[];
}

export type BokiMessage =
  | Replicate
  | ShardProg
  | MetaLogs
  | MetaProg
  | CatchupReq
  | CatchupResp
  | IndexData
  | IndexDataReq
  | ShardRecover
  | ShardRecoverAck
  | SetAux
  | IndexQuery
  | IndexResult
  | ReadAt
  | ReadAtResult
  | DecisionQuery
  | DecisionResult
  | StreamInfo
  | StreamInfoResp
  | TrimReq
  | TrimResp;

export type NodeMessage = BokiMessage | ZkMessage;

export type BokiMessageType = BokiMessage['type'];
