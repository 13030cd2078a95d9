/**
 * Shape checks for Halfmoon bodies that arrive over a real network (`NodeSpec.wire`): workflow
 * requests and the switching coordinator's requests to function nodes, their replies, and the
 * store protocol. Function nodes also receive every Boki message (their log engine's), checked
 * by src/boki/wire.ts.
 */
import { z } from 'zod';
import { isMode } from './protocols.ts';
import type { WireChecks } from '../core/system.ts';
import { BOKI_MESSAGES, messageCheck, ZK_RESPONSE_SCHEMAS } from '../boki/wire.ts';

const ID_MAX = 256;
const ROW_MAX = 4096;
/** A registered protocol's mode (built-ins and plugins, see protocols.ts). */
const mode = z.string().max(16).refine(isMode, 'not a registered protocol mode');
const json = z.json();
const row = z.string().min(1).max(ROW_MAX);
const version = z.object({ s: z.bigint().min(0n), w: z.number().int().min(0), iid: z.string().max(ID_MAX) });

const WF_REQUEST = z.union([
  z.object({ requestId: z.string().min(1).max(ID_MAX), fn: z.string().min(1).max(ID_MAX), input: json, mode }),
  z.object({ coord: z.literal('drain'), modes: z.array(mode).max(8) }),
  z.object({ coord: z.literal('reconcile'), parallelism: z.number().int().min(1).max(100_000) }),
]);

const WF_REPLY = z.union([
  z.object({ ok: z.literal(true), output: json, reads: z.number().int().min(0).optional(), writes: z.number().int().min(0).optional() }),
  z.object({ ok: z.literal(false), error: z.string().max(4096) }),
]);

const storeReq = z.discriminatedUnion('op', [
  z.object({ op: z.literal('get'), row }),
  z.object({ op: z.literal('put'), row, value: json }),
  z.object({ op: z.literal('condUpdate'), row, value: json, version }),
  z.object({ op: z.literal('scanBase'), minS: z.bigint().min(0n) }),
]);

const storeRep = z.discriminatedUnion('op', [
  z.object({ op: z.literal('get'), found: z.boolean(), value: json, version }),
  z.object({ op: z.literal('put') }),
  z.object({ op: z.literal('condUpdate'), applied: z.boolean() }),
  z.object({ op: z.literal('scanBase'), rows: z.array(row).max(10_000_000) }),
]);

const STORE_REQ = { 'wf.store.req': z.object({ type: z.literal('wf.store.req'), id: z.string().min(1).max(ID_MAX), req: storeReq, writeId: z.string().max(4 * ID_MAX).nullable() }) };
const STORE_REP = { 'wf.store.rep': z.object({ type: z.literal('wf.store.rep'), id: z.string().min(1).max(ID_MAX), rep: storeRep }) };

function first(r: z.ZodSafeParseResult<unknown>): string | null {
  if (r.success) return null;
  const i = r.error.issues[0]!;
  return `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`;
}

export function checkWfRequest(b: unknown): string | null {
  return first(WF_REQUEST.safeParse(b));
}

export function checkWfReply(b: unknown): string | null {
  return first(WF_REPLY.safeParse(b));
}

/** A function node: its log engine's messages, the store's answers; serves workflow requests. */
export const FUNCTION_NODE_WIRE: WireChecks = { message: messageCheck(BOKI_MESSAGES, ZK_RESPONSE_SCHEMAS, STORE_REP), request: checkWfRequest, reply: checkWfReply };
/** The store process: only store requests. */
export const STORE_WIRE: WireChecks = { message: messageCheck(STORE_REQ) };