/**
 * Methodology: the engine's API argument checks (spec §3) and invocation contexts, driven by
 * stepping the engine machine with client requests. Every malformed request must get exactly one
 * BAD_ARGS reply before anything is sent; well-formed ones must not (they wait for a view here,
 * since no coordination service answers). Record size is checked at the 2496-byte boundary.
 */
import { describe, expect, it } from 'vitest';
import type { Ctx, Effect } from '../../src/core/contract.ts';
import { MAX_SEQNUM, TAG_INVALID, type LogReply, type LogRequest } from '../../src/boki/api.ts';
import type { BokiConfig } from '../../src/boki/common.ts';
import { engineMachine } from '../../src/boki/engine.ts';
import type { EngineState } from '../../src/boki/engine/state.ts';
import { BOKI_DEFAULTS } from '../../src/boki/params.ts';

const cfg: BokiConfig = { p: BOKI_DEFAULTS, variant: null, sequencers: ['seq0'], engines: ['eng0'], storages: ['sto0'] };
const ctx: Ctx = { self: 'eng0', nowUs: 1000, maybe: () => false, randomU32: () => 7 };

function engine(): { s: EngineState; call: (req: LogRequest) => LogReply[]; effects: Effect[] } {
  const h = { s: engineMachine.init(cfg, 'eng0'), effects: [] as Effect[], call: (_: LogRequest) => [] as LogReply[] };
  let n = 0;
  h.call = (req) => {
    const r = engineMachine.step(h.s, { type: 'client', reqId: `r${++n}`, body: req }, ctx);
    h.s = r.state;
    h.effects = [...r.effects];
    return r.effects.filter((e) => e.type === 'reply').map((e) => (e as { body: LogReply }).body);
  };
  return h;
}

describe('argument checks', () => {
  const e = engine();
  e.call({ op: 'begin', inv: 'i', book: 3, parent: null });
  const bad = (req: LogRequest) => {
    const reps = e.call(req);
    expect(reps).toHaveLength(1);
    expect(reps[0]!.code).toBe('BAD_ARGS');
    expect(e.effects.some((x) => x.type === 'send')).toBe(false);
  };

  it('rejects bad tags, empty data and unknown invocations', () => {
    bad({ op: 'append', inv: 'i', tags: [0n], data: 'x' });
    bad({ op: 'append', inv: 'i', tags: [TAG_INVALID], data: 'x' });
    bad({ op: 'append', inv: 'i', tags: [1n], data: '' });
    bad({ op: 'append', inv: 'nobody', tags: [1n], data: 'x' });
    bad({ op: 'condAppend', inv: 'i', tags: [1n], data: 'x', condTag: 0n, condPos: 0 });
    bad({ op: 'condAppend', inv: 'i', tags: [1n], data: 'x', condTag: 5n, condPos: -1 });
    bad({ op: 'overwrite', inv: 'i', tag: 0n, pos: 0, data: 'x' });
    bad({ op: 'readNext', inv: 'i', tag: TAG_INVALID, minSeq: 0n });
    bad({ op: 'readPrev', inv: 'i', tag: 1n, maxSeq: MAX_SEQNUM + 1n });
    bad({ op: 'setAuxData', inv: 'i', seqnum: 5n, data: '' });
  });

  it('checks the record size at 2496 bytes, data plus 8 bytes per (deduplicated) tag', () => {
    bad({ op: 'append', inv: 'i', tags: [1n, 2n], data: 'x'.repeat(2496 - 16 + 1) });
    bad({ op: 'setAuxData', inv: 'i', seqnum: 5n, data: 'x'.repeat(2497) });
    bad({ op: 'append', inv: 'i', tags: [1n], data: 'é'.repeat(1245) }); // 2490 UTF-8 bytes + 8
    // Exactly at the limit, and duplicate tags counted once: accepted (held for a view).
    expect(e.call({ op: 'append', inv: 'i', tags: [1n, 2n, 2n], data: 'x'.repeat(2496 - 16) })).toEqual([]);
    expect(e.call({ op: 'append', inv: 'i', tags: [1n], data: 'é'.repeat(1244) })).toEqual([]);
  });
});

describe('invocations', () => {
  it('a child starts at its parent\'s progress, in its parent\'s book; end frees the context', () => {
    const e = engine();
    expect(e.call({ op: 'begin', inv: 'p', book: 1, parent: null })[0]!.code).toBe('OK');
    e.s.invocations.get('p')!.progress = 77n;
    expect(e.call({ op: 'begin', inv: 'c', book: 1, parent: 'p' })[0]!.code).toBe('OK');
    expect(e.s.invocations.get('c')!.progress).toBe(77n);
    expect(e.call({ op: 'begin', inv: 'd', book: 2, parent: 'p' })[0]!.code).toBe('BAD_ARGS');
    expect(e.call({ op: 'begin', inv: 'x', book: 1, parent: 'nobody' })[0]!.code).toBe('BAD_ARGS');
    expect(e.call({ op: 'begin', inv: 'p', book: 1, parent: null })[0]!.code).toBe('BAD_ARGS');
    expect(e.call({ op: 'end', inv: 'c' })[0]!.code).toBe('OK');
    expect(e.call({ op: 'end', inv: 'c' })[0]!.code).toBe('BAD_ARGS');
    expect(e.call({ op: 'setAuxData', inv: 'p', seqnum: 9n, data: 'aux' })[0]!.code).toBe('AUXDATA_OK');
  });
});
