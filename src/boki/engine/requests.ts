/**
 * The shared-log API as function code calls it (api.ts, spec §3): argument validation, invocation
 * begin/end, and the hand-off of each valid request to the append, read or trim path. Kept apart
 * so the rules of what a request may contain are in one place.
 */
import { assert, assertNever } from '../../core/assert.ts';
import { type Ctx, fatal, record, reply } from '../../core/contract.ts';
import { MAX_SEQNUM, recordFits, TAG_INVALID, type LogReply, type LogRequest, type Tag } from '../api.ts';
import type { OpRec } from '../history.ts';
import { startAppend } from './appends.ts';
import { startRead } from './reads.ts';
import type { ReadOp, TrimOp, EngineState, Eff } from './state.ts';
import { setAux, startTrim } from './trim.ts';

const OPS_MAX = 100_000;

const INVOCATIONS_MAX = 100_000;

function badArgs(s: EngineState, reqId: string, req: LogRequest, reason: string, out: Eff[]): void {
  out.push(reply(reqId, { code: 'BAD_ARGS', reason }));
  void s;
  void req;
}

function validTag(t: Tag): boolean {
  return t !== 0n && t !== TAG_INVALID && t > 0n && t <= TAG_INVALID;
}

function dedupTags(tags: readonly Tag[]): Tag[] | null {
  const out: Tag[] = [];
  for (const t of tags) {
    if (typeof t !== 'bigint' || !validTag(t)) return null;
    if (!out.includes(t)) out.push(t);
  }
  return out;
}

export function onClient(s: EngineState, reqId: string, req: LogRequest, ctx: Ctx, out: Eff[]): void {
  if (s.ops.has(reqId)) return; // a duplicate request: the first one will be answered
  switch (req.op) {
    case 'begin': {
      if (s.invocations.has(req.inv)) return badArgs(s, reqId, req, 'invocation exists', out);
      let prog = 0n;
      if (req.parent !== null) {
        const parent = s.invocations.get(req.parent);
        if (!parent) return badArgs(s, reqId, req, 'unknown parent invocation', out);
        if (parent.book !== req.book) return badArgs(s, reqId, req, 'a child runs in its parent\'s book', out);
        prog = parent.progress;
      }
      if (!Number.isInteger(req.book) || req.book < 0 || req.book > 0xffff_ffff) return badArgs(s, reqId, req, 'book must be a 32-bit id', out);
      assert(s.invocations.size < INVOCATIONS_MAX, 'too many open invocations');
      s.invocations.set(req.inv, { book: req.book, progress: prog });
      out.push(reply(reqId, { code: 'OK' }));
      out.push(record<OpRec>({ ev: 'op', reqId, inv: req.inv, book: req.book, req, rep: { code: 'OK' }, pin: prog, pout: prog, frontier: 0n, t0: ctx.nowUs, attemptId: null }));
      return;
    }
    case 'end':
      if (!s.invocations.delete(req.inv)) return badArgs(s, reqId, req, 'unknown invocation', out);
      out.push(reply(reqId, { code: 'OK' }));
      return;
    default:
      break;
  }
  const inv = s.invocations.get(req.inv);
  if (!inv) return badArgs(s, reqId, req, 'unknown invocation', out);
  assert(s.ops.size < OPS_MAX, 'too many operations in flight');
  switch (req.op) {
    case 'append':
    case 'condAppend': {
      const tags = dedupTags(req.tags);
      if (tags === null) return badArgs(s, reqId, req, 'tags must be in [1, 2^64-2]', out);
      if (req.data.length === 0) return badArgs(s, reqId, req, 'empty data', out);
      if (!recordFits(req.data, tags.length) || !fitsParam(s, req.data, tags.length)) return badArgs(s, reqId, req, 'record too large', out);
      if (req.op === 'condAppend') {
        if (typeof req.condTag !== 'bigint' || !validTag(req.condTag)) return badArgs(s, reqId, req, 'condTag must be in [1, 2^64-2]', out);
        if (!Number.isInteger(req.condPos) || req.condPos < 0) return badArgs(s, reqId, req, 'condPos must be a non-negative integer', out);
      }
      const cond = req.op === 'condAppend';
      return startAppend(s, reqId, req, inv, cond ? 'cond' : 'normal', tags, req.data, cond ? req.condTag : 0n, cond ? req.condPos : 0, ctx, out);
    }
    case 'overwrite':
      if (typeof req.tag !== 'bigint' || !validTag(req.tag)) return badArgs(s, reqId, req, 'tag must be in [1, 2^64-2]', out);
      if (!Number.isInteger(req.pos) || req.pos < 0) return badArgs(s, reqId, req, 'pos must be a non-negative integer', out);
      if (req.data.length === 0) return badArgs(s, reqId, req, 'empty data', out);
      if (!recordFits(req.data, 0) || !fitsParam(s, req.data, 0)) return badArgs(s, reqId, req, 'record too large', out);
      return startAppend(s, reqId, req, inv, 'overwrite', [], req.data, req.tag, req.pos, ctx, out);
    case 'readNext':
    case 'readPrev':
    case 'checkTail': {
      const tag = req.tag;
      if (typeof tag !== 'bigint' || tag < 0n || tag >= TAG_INVALID) return badArgs(s, reqId, req, 'tag must be in [0, 2^64-2]', out);
      const q = req.op === 'readNext' ? req.minSeq : req.op === 'readPrev' ? req.maxSeq : MAX_SEQNUM;
      if (typeof q !== 'bigint' || q < 0n || q > MAX_SEQNUM) return badArgs(s, reqId, req, 'seqnum out of range', out);
      const op: ReadOp = {
        k: 'read',
        reqId,
        req,
        inv: req.inv,
        book: inv.book,
        op: req.op === 'readNext' ? 'next' : 'prev',
        tag,
        q,
        blocking: req.op === 'readNext' && req.blocking === true,
        pin: inv.progress,
        t0: ctx.nowUs,
        qid: -1,
        tries: 0,
        unavailable: 0,
        hit: null,
        frontier: 0n,
        progressOut: 0n,
        fetchTries: 0,
        held: false,
      };
      s.ops.set(reqId, op);
      return startRead(s, op, ctx, out);
    }
    case 'setAuxData': {
      if (req.data.length === 0 || !recordFits(req.data, 0)) return badArgs(s, reqId, req, 'aux data must be 1..2496 bytes', out);
      if (typeof req.seqnum !== 'bigint' || req.seqnum < 0n || req.seqnum >= MAX_SEQNUM) return badArgs(s, reqId, req, 'seqnum out of range', out);
      setAux(s, req.seqnum, req.data, out);
      const rep: LogReply = { code: 'AUXDATA_OK' };
      out.push(reply(reqId, rep));
      out.push(record<OpRec>({ ev: 'op', reqId, inv: req.inv, book: inv.book, req, rep, pin: inv.progress, pout: inv.progress, frontier: 0n, t0: ctx.nowUs, attemptId: null }));
      return;
    }
    case 'trim': {
      if (typeof req.uptoSeq !== 'bigint' || req.uptoSeq < 0n || req.uptoSeq > MAX_SEQNUM) return badArgs(s, reqId, req, 'seqnum out of range', out);
      if (s.cfg.variant === 'trim-unimplemented') {
        out.push(fatal(`${s.self}: trim is NOT_IMPLEMENTED`));
        return;
      }
      const op: TrimOp = { k: 'trim', reqId, req, inv: req.inv, book: inv.book, trimSeq: req.uptoSeq, pin: inv.progress, t0: ctx.nowUs, tries: 0, tid: '', ls: -1, phase: 'backoff' };
      s.ops.set(reqId, op);
      return startTrim(s, op, ctx, out);
    }
    default:
      assertNever(req, 'log request');
  }
}

function fitsParam(s: EngineState, data: string, tags: number): boolean {
  // Cheap bound first: UTF-8 takes at least one byte per UTF-16 unit.
  return data.length + 8 * tags <= s.cfg.p.maxRecordBytes || recordFits(data, tags);
}
