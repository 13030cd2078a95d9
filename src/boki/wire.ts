/**
 * Shape checks for Boki bodies that arrive over a real network (`NodeSpec.wire`): every message
 * between Boki's roles (messages.ts), the coordination protocol (coord-api.ts) and the shared-log
 * API requests and replies (api.ts). The real runtime closes the connection a failing body came
 * on, so a machine only ever sees the shapes its types declare: integers where it counts, bigints
 * where it compares seqnums and tags, bounded strings and arrays.
 *
 * Schemas are zod's, looked up by the body's `type` (or `op`) field, so one check costs one map
 * lookup and one object walk; the simulator never calls them.
 */
import { z } from 'zod';
import type { WireChecks } from '../core/system.ts';

/** Bounds far above anything the protocols produce, far below what would hurt a node. */
const STR_MAX = 1 << 20;
const ARR_MAX = 1 << 16;
const ID_MAX = 256;

const int = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const sint = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const big = z.bigint().min(0n).max(0xffff_ffff_ffff_ffffn);
const str = z.string().max(STR_MAX);
const id = z.string().min(1).max(ID_MAX);
const arr = <T extends z.ZodType>(t: T) => z.array(t).max(ARR_MAX);
const kind = z.enum(['normal', 'cond', 'overwrite', 'filler']);

const replicate = z.object({
  type: z.literal('replicate'),
  ls: int,
  engine: int,
  counter: int,
  incarnation: int,
  book: int,
  tags: arr(big),
  data: str,
  kind,
  condTag: big,
  condPos: int,
  attemptId: str,
});

const metaEntry = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('newLogs'), ls: int, k: int, startPos: int, starts: arr(int), deltas: arr(int) }),
  z.object({ kind: z.literal('trim'), ls: int, k: int, startPos: int, book: int, trimSeq: big, tid: str, requester: id }),
]);

const indexRow = z.object({ pos: int, engine: int, counter: int, book: int, tags: arr(big), kind, condTag: big, condPos: int });
const hit = z.object({ ls: int, pos: int, book: int, engine: int, counter: int, tags: arr(big), bodyLs: int, bodyPos: int, bodyEngine: int });
const redirect = z.object({ target: big, bodyLs: int, bodyPos: int, bodyEngine: int });

/** Every message between Boki's roles, by type. */
const BOKI: Record<string, z.ZodType> = {
  replicate,
  shardProg: z.object({ type: z.literal('shardProg'), ls: int, progress: arr(int) }),
  metaLogs: z.object({ type: z.literal('metaLogs'), ls: int, entries: arr(metaEntry), committed: z.boolean() }),
  metaProg: z.object({ type: z.literal('metaProg'), ls: int, pos: int }),
  catchupReq: z.object({ type: z.literal('catchupReq'), ls: int, from: int }),
  catchupResp: z.object({ type: z.literal('catchupResp'), ls: int, from: int, entries: arr(metaEntry), upTo: int }),
  indexData: z.object({ type: z.literal('indexData'), ls: int, rows: arr(indexRow), entry: metaEntry.optional() }),
  indexDataReq: z.object({ type: z.literal('indexDataReq'), ls: int, from: int, to: int }),
  shardRecover: z.object({ type: z.literal('shardRecover'), ls: int, engine: int, incarnation: int }),
  shardRecoverAck: z.object({
    type: z.literal('shardRecoverAck'),
    ls: int,
    engine: int,
    incarnation: int,
    progress: int,
    held: arr(int),
    records: arr(replicate),
    finalized: z.boolean(),
  }),
  setAux: z.object({ type: z.literal('setAux'), ls: int, pos: int, data: str }),
  indexQuery: z.object({
    type: z.literal('indexQuery'),
    qid: int,
    origin: id,
    op: z.enum(['next', 'prev']),
    blocking: z.boolean(),
    ls: int,
    book: int,
    tag: big,
    q: big,
    progress: big,
    initial: z.boolean(),
    best: hit.nullable(),
    trimSeq: big,
    redirects: arr(redirect),
    frontier: big,
    progressOut: big,
    issuedUs: sint,
  }),
  indexResult: z.object({ type: z.literal('indexResult'), qid: int, status: z.enum(['found', 'empty', 'unavailable']), lostLs: sint, hit: hit.nullable(), frontier: big, progressOut: big }),
  readAt: z.object({ type: z.literal('readAt'), qid: int, ls: int, pos: int }),
  readAtResult: z.object({ type: z.literal('readAtResult'), qid: int, ls: int, pos: int, rec: replicate.nullable(), aux: str.nullable() }),
  decisionQuery: z.object({ type: z.literal('decisionQuery'), qid: int, ls: int, pos: int }),
  decisionResult: z.object({
    type: z.literal('decisionResult'),
    qid: int,
    ls: int,
    pos: int,
    status: z.enum(['decided', 'unavailable']),
    ok: z.boolean(),
    target: big,
    progressOut: big,
  }),
  streamInfo: z.object({ type: z.literal('streamInfo'), sid: int, op: z.enum(['count', 'seek']), ls: int, book: int, tag: big, pos: int }),
  streamInfoResp: z.object({ type: z.literal('streamInfoResp'), sid: int, status: z.enum(['ok', 'unavailable']), count: int, target: hit.nullable() }),
  trimReq: z.object({ type: z.literal('trimReq'), tid: str, ls: int, book: int, trimSeq: big }),
  trimResp: z.object({ type: z.literal('trimResp'), tid: str, code: z.enum(['TRIM_OK', 'TRIM_FAILED', 'DISCARDED']), progressOut: big }),
};

const path = z.string().min(1).max(1024);
const session = int;
const xid = int;
const createMode = z.enum(['persistent', 'persistentSequential', 'ephemeral', 'ephemeralSequential']);
const stat = z.object({ czxid: int, mzxid: int, version: sint, ephemeralOwner: int, numChildren: int });
const zkErr = z.enum(['ok', 'noNode', 'nodeExists', 'badVersion', 'notEmpty', 'noChildrenForEphemerals', 'badArguments']);
/** Znode data is plain data of any shape; only its size is bounded (by the frame). */
const anyData = z.unknown();

/** Requests to the coordination service. */
const ZK_REQUESTS: Record<string, z.ZodType> = {
  'zk.connect': z.object({ type: z.literal('zk.connect'), xid, timeoutMs: z.number().int().min(1).max(3_600_000) }),
  'zk.ping': z.object({ type: z.literal('zk.ping'), session }),
  'zk.close': z.object({ type: z.literal('zk.close'), session, xid }),
  'zk.create': z.object({ type: z.literal('zk.create'), session, xid, path, data: anyData, mode: createMode }),
  'zk.delete': z.object({ type: z.literal('zk.delete'), session, xid, path, version: sint }),
  'zk.setData': z.object({ type: z.literal('zk.setData'), session, xid, path, data: anyData, version: sint }),
  'zk.getData': z.object({ type: z.literal('zk.getData'), session, xid, path, watch: z.boolean() }),
  'zk.getChildren': z.object({ type: z.literal('zk.getChildren'), session, xid, path, watch: z.boolean() }),
  'zk.addWatch': z.object({ type: z.literal('zk.addWatch'), session, xid, path, mode: z.enum(['persistent', 'persistentRecursive']) }),
};

/** Answers of the coordination service. */
const ZK_RESPONSES: Record<string, z.ZodType> = {
  'zk.connected': z.object({ type: z.literal('zk.connected'), xid, session, timeoutMs: int, n: int }),
  'zk.pong': z.object({ type: z.literal('zk.pong'), session, n: int }),
  'zk.reply': z.object({
    type: z.literal('zk.reply'),
    session,
    xid,
    n: int,
    zxid: int,
    err: zkErr,
    path: path.optional(),
    data: anyData.optional(),
    stat: stat.optional(),
    children: arr(z.string().max(1024)).optional(),
  }),
  'zk.watch': z.object({ type: z.literal('zk.watch'), session, n: int, zxid: int, event: z.enum(['NodeCreated', 'NodeDeleted', 'NodeDataChanged', 'NodeChildrenChanged']), path }),
  'zk.expired': z.object({ type: z.literal('zk.expired'), session }),
};

const tag = big;
const inv = id;
/** Shared-log API requests (api.ts LogRequest), by op. */
const LOG_REQUESTS: Record<string, z.ZodType> = {
  begin: z.object({ op: z.literal('begin'), inv, book: int, parent: inv.nullable() }),
  end: z.object({ op: z.literal('end'), inv }),
  append: z.object({ op: z.literal('append'), inv, tags: arr(tag), data: str }),
  condAppend: z.object({ op: z.literal('condAppend'), inv, tags: arr(tag), data: str, condTag: tag, condPos: int }),
  overwrite: z.object({ op: z.literal('overwrite'), inv, tag, pos: int, data: str }),
  readNext: z.object({ op: z.literal('readNext'), inv, tag, minSeq: big, blocking: z.boolean().optional() }),
  readPrev: z.object({ op: z.literal('readPrev'), inv, tag, maxSeq: big }),
  checkTail: z.object({ op: z.literal('checkTail'), inv, tag }),
  setAuxData: z.object({ op: z.literal('setAuxData'), inv, seqnum: big, data: str }),
  trim: z.object({ op: z.literal('trim'), inv, uptoSeq: big }),
};

const logRecord = z.object({ book: int, seqnum: big, localid: big, tags: arr(tag), data: str, auxData: str.nullable() });
const LOG_REPLY = z.discriminatedUnion('code', [
  z.object({ code: z.literal('OK') }),
  z.object({ code: z.literal('APPEND_OK'), seqnum: big }),
  z.object({ code: z.literal('READ_OK'), record: logRecord }),
  z.object({ code: z.literal('EMPTY') }),
  z.object({ code: z.literal('DATA_LOST') }),
  z.object({ code: z.literal('DISCARDED') }),
  z.object({ code: z.literal('COND_FAILED') }),
  z.object({ code: z.literal('TRIM_OK') }),
  z.object({ code: z.literal('TRIM_FAILED') }),
  z.object({ code: z.literal('AUXDATA_OK') }),
  z.object({ code: z.literal('BAD_ARGS'), reason: str }),
]);

function issue(r: z.ZodSafeParseResult<unknown>): string | null {
  if (r.success) return null;
  const i = r.error.issues[0]!;
  return `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`;
}

function byField(table: Record<string, z.ZodType>, field: string, what: string): (m: unknown) => string | null {
  return (m) => {
    if (typeof m !== 'object' || m === null) return `${what} must be an object`;
    const key = (m as Record<string, unknown>)[field];
    if (typeof key !== 'string' || !Object.hasOwn(table, key)) return `unknown ${what} ${field} ${JSON.stringify(String(key)).slice(0, 60)}`;
    const why = issue(table[key]!.safeParse(m));
    return why === null ? null : `${key}: ${why}`;
  };
}

/** Tables merged into one check (each message type belongs to exactly one table). */
export function messageCheck(...tables: Record<string, z.ZodType>[]): (m: unknown) => string | null {
  return byField(Object.assign({}, ...tables) as Record<string, z.ZodType>, 'type', 'message');
}

export const BOKI_MESSAGES = BOKI;
export const ZK_REQUEST_SCHEMAS = ZK_REQUESTS;
export const ZK_RESPONSE_SCHEMAS = ZK_RESPONSES;

export const checkLogRequest = byField(LOG_REQUESTS, 'op', 'log request');
export function checkLogReply(b: unknown): string | null {
  return issue(LOG_REPLY.safeParse(b));
}

/** A Boki role: Boki messages from peers, answers from the coordination service. */
export const BOKI_NODE_WIRE: WireChecks = { message: messageCheck(BOKI, ZK_RESPONSES) };
/** The coordination service's own process: only its requests. */
export const COORD_WIRE: WireChecks = { message: messageCheck(ZK_REQUESTS) };
/** An engine of the log system: also serves the shared-log API to the log driver. */
export const ENGINE_WIRE: WireChecks = { message: BOKI_NODE_WIRE.message!, request: checkLogRequest, reply: checkLogReply };
