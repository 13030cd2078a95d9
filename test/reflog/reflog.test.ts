/**
 * Methodology: the reference log is the executable specification of the shared-log API the
 * protocols rely on (Boki spec §3, §3.1, §3.2), so its semantics are pinned here directly:
 * conditional appends decided against stream lengths in seqnum order (a gap is an ordinary
 * failure, and fatal only under the gapped-condpos-crash variant), failed conditional appends
 * occupying invisible slots, overwrites redirecting a record's payload while keeping its seqnum,
 * readNext/readPrev/checkTail bounds, trim points, and BAD_ARGS for malformed records.
 */
import { describe, expect, it } from 'vitest';
import type { LogReply, LogRequest } from '../../src/boki/api.ts';
import type { LogCall } from '../../src/halfmoon/steps.ts';
import { MAX_RECORD_BYTES } from '../../src/boki/api.ts';
import { applyRequest, refLogAudit, type RefLogState } from '../../src/reflog/machine.ts';

function fresh(gappedCondPosCrash = false): RefLogState {
  return {
    cfg: { appendUs: 0, condAppendUs: 0, readUs: 0, seqBase: 0n, gappedCondPosCrash },
    next: 1n,
    slots: [],
    streams: new Map(),
    trimPoint: new Map(),
    delayed: new Map(),
    timerSeq: 0,
  };
}

const inv = 'i';
const op = (s: RefLogState, r: LogCall) => applyRequest(s, 0, { ...r, inv } as LogRequest) as LogReply;
const A = 7n;
const B = 9n;

describe('the reference log', () => {
  it('decides conditional appends on stream length; failures and gaps take invisible slots', () => {
    const s = fresh();
    expect(op(s, { op: 'condAppend', tags: [], data: 'x0', condTag: A, condPos: 0 })).toEqual({ code: 'APPEND_OK', seqnum: 1n });
    expect(op(s, { op: 'condAppend', tags: [], data: 'dup', condTag: A, condPos: 0 })).toEqual({ code: 'COND_FAILED' });
    expect(op(s, { op: 'condAppend', tags: [], data: 'gap', condTag: A, condPos: 5 })).toEqual({ code: 'COND_FAILED' });
    expect(op(s, { op: 'condAppend', tags: [B], data: 'x1', condTag: A, condPos: 1 })).toEqual({ code: 'APPEND_OK', seqnum: 4n });
    const audit = refLogAudit(s);
    expect(audit.map((a) => [a.seqnum, a.visible])).toEqual([
      [1n, true],
      [2n, false],
      [3n, false],
      [4n, true],
    ]);
    // The stream of A holds the two successes; the extra tag indexes the second.
    expect(op(s, { op: 'readNext', tag: A, minSeq: 2n })).toMatchObject({ code: 'READ_OK', record: { seqnum: 4n, data: 'x1' } });
    expect(op(s, { op: 'checkTail', tag: B })).toMatchObject({ code: 'READ_OK', record: { seqnum: 4n } });
  });

  it('is fatal on a gap only under the gapped-condpos-crash variant', () => {
    const s = fresh(true);
    op(s, { op: 'condAppend', tags: [], data: 'x0', condTag: A, condPos: 0 });
    expect(applyRequest(s, 0, { op: 'condAppend', inv, tags: [], data: 'gap', condTag: A, condPos: 2 })).toMatchObject({ fatal: expect.stringMatching(/beyond stream length 1/) });
  });

  it('redirects overwrites to the target, keeping seqnum and position', () => {
    const s = fresh();
    op(s, { op: 'condAppend', tags: [], data: 'pre', condTag: A, condPos: 0 });
    expect(op(s, { op: 'overwrite', tag: A, pos: 0, data: 'result' })).toEqual({ code: 'APPEND_OK', seqnum: 1n });
    expect(op(s, { op: 'overwrite', tag: A, pos: 3, data: 'nowhere' })).toEqual({ code: 'COND_FAILED' });
    expect(op(s, { op: 'readNext', tag: A, minSeq: 0n })).toMatchObject({ code: 'READ_OK', record: { seqnum: 1n, data: 'result' } });
    // Overwrites take invisible slots of their own and never count toward stream length.
    expect(op(s, { op: 'condAppend', tags: [], data: 'next', condTag: A, condPos: 1 })).toEqual({ code: 'APPEND_OK', seqnum: 4n });
  });

  it('bounds readNext, readPrev and checkTail, and respects trim points', () => {
    const s = fresh();
    for (let i = 0; i < 5; i++) op(s, { op: 'append', tags: [A], data: `r${i}` });
    expect(op(s, { op: 'readPrev', tag: A, maxSeq: 3n })).toMatchObject({ record: { seqnum: 3n } });
    expect(op(s, { op: 'readPrev', tag: A, maxSeq: 0n })).toEqual({ code: 'EMPTY' });
    expect(op(s, { op: 'readNext', tag: A, minSeq: 6n })).toEqual({ code: 'EMPTY' });
    expect(op(s, { op: 'readNext', tag: 0n, minSeq: 0n })).toMatchObject({ record: { seqnum: 1n } });
    expect(op(s, { op: 'trim', uptoSeq: 3n })).toEqual({ code: 'TRIM_OK' });
    expect(op(s, { op: 'readNext', tag: A, minSeq: 0n })).toMatchObject({ record: { seqnum: 3n } });
    expect(op(s, { op: 'readPrev', tag: A, maxSeq: 2n })).toEqual({ code: 'EMPTY' });
    expect(op(s, { op: 'trim', uptoSeq: 99n })).toEqual({ code: 'TRIM_FAILED' });
  });

  it('refuses malformed records with BAD_ARGS', () => {
    const s = fresh();
    expect(op(s, { op: 'append', tags: [A], data: '' }).code).toBe('BAD_ARGS');
    expect(op(s, { op: 'append', tags: [0n], data: 'x' }).code).toBe('BAD_ARGS');
    expect(op(s, { op: 'append', tags: [A], data: 'x'.repeat(MAX_RECORD_BYTES - 8 + 1) }).code).toBe('BAD_ARGS');
    expect(op(s, { op: 'append', tags: [A], data: 'x'.repeat(MAX_RECORD_BYTES - 8) }).code).toBe('APPEND_OK');
    expect(s.slots.length).toBe(1);
  });
});
