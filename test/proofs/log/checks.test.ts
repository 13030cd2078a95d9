/**
 * Methodology: each history check of proofs/log/checks.ts on the smallest synthetic history that
 * exhibits its anomaly (and on a clean history, which must pass, so no check fails trivially).
 * Histories are built from the same records engines emit and a fake storage holding the final
 * slots (fixtures.ts). Whole-system runs of broken logs (test/boki/variants.test.ts) complement
 * these.
 */
import { describe, expect, it } from 'vitest';
import { checkLogHistory } from '../../../proofs/log/checks.ts';
import { seqOf } from '../../../src/boki/ids.ts';
import { World } from './fixtures.ts';

const opts = { blockingReadBoundUs: 1_200_000, quietUs: 5_000_000 };
const invariants = (w: World) => checkLogHistory(w.run(), opts).map((v) => v.invariant);

describe('log history checks', () => {
  it('accept a clean history', () => {
    const w = new World();
    w.append({ inv: 'a', pos: 0, code: 'APPEND_OK', pout: 1n });
    w.append({ inv: 'a', pos: 1, code: 'APPEND_OK', pin: 1n, pout: 2n });
    w.append({ inv: 'b', pos: null, code: 'DISCARDED' });
    w.read({ inv: 'a', req: { op: 'readNext', inv: 'a', tag: 5n, minSeq: 0n }, pos: 0, frontier: 2, pin: 2n, pout: 2n });
    w.read({ inv: 'a', req: { op: 'checkTail', inv: 'a', tag: 5n }, pos: 1, frontier: 2, pin: 2n, pout: 2n });
    w.read({ inv: 'c', req: { op: 'readPrev', inv: 'c', tag: 5n, maxSeq: seqOf(0, 5) }, pos: null, frontier: 0 });
    expect(invariants(w)).toEqual([]);
  });

  it('total order: a seqnum acknowledged to one attempt but stored for another', () => {
    const w = new World();
    w.append({ inv: 'a', pos: 0, code: 'APPEND_OK' });
    w.append({ inv: 'b', pos: null, code: 'APPEND_OK', ackPos: 0 });
    expect(invariants(w)).toContain('log-total-order');
  });

  it('no lost ack: an acknowledged append that no storage holds', () => {
    const w = new World();
    w.append({ inv: 'a', pos: 0, code: 'APPEND_OK', stored: false });
    expect(invariants(w)).toContain('log-no-lost-ack');
  });

  it('DISCARDED invisible: a discarded attempt that is in the log', () => {
    const w = new World();
    w.append({ inv: 'a', pos: 0, code: 'DISCARDED' });
    expect(invariants(w)).toContain('log-discarded-invisible');
  });

  it('read validity: readNext skipping a record, EMPTY below the frontier, a wrong payload', () => {
    const mk = () => {
      const w = new World();
      w.append({ inv: 'a', pos: 0, code: 'APPEND_OK' });
      w.append({ inv: 'a', pos: 1, code: 'APPEND_OK' });
      return w;
    };
    let w = mk();
    w.read({ inv: 'r', req: { op: 'readNext', inv: 'r', tag: 5n, minSeq: 0n }, pos: 1, frontier: 2 });
    expect(invariants(w)).toEqual(['log-read-validity']);
    w = mk();
    w.read({ inv: 'r', req: { op: 'readPrev', inv: 'r', tag: 5n, maxSeq: seqOf(0, 9) }, pos: null, frontier: 1 });
    expect(invariants(w)).toEqual(['log-read-validity']);
    w = mk();
    w.read({ inv: 'r', req: { op: 'readPrev', inv: 'r', tag: 5n, maxSeq: seqOf(0, 9) }, pos: null, frontier: 0 });
    expect(invariants(w)).toEqual([]);
    w = mk();
    w.read({ inv: 'r', req: { op: 'readNext', inv: 'r', tag: 5n, minSeq: 0n }, pos: 0, frontier: 2, data: 'forged' });
    expect(invariants(w)).toEqual(['log-read-validity']);
  });

  it('read validity: an overwrite counts only before the answering frontier', () => {
    const mk = () => {
      const w = new World();
      w.append({ inv: 'a', pos: 0, code: 'APPEND_OK' });
      const o = w.append({ inv: 'a', pos: 1, code: 'APPEND_OK', kind: 'overwrite', condTag: 5n, condPos: 0, tags: [], ackPos: 0 });
      return { w, o };
    };
    let { w, o } = mk();
    w.read({ inv: 'r', req: { op: 'readNext', inv: 'r', tag: 5n, minSeq: 0n }, pos: 0, frontier: 2, data: o.data });
    expect(invariants(w)).toEqual([]);
    ({ w } = mk());
    w.read({ inv: 'r', req: { op: 'readNext', inv: 'r', tag: 5n, minSeq: 0n }, pos: 0, frontier: 2 });
    expect(invariants(w)).toEqual(['log-read-validity']);
    ({ w } = mk());
    w.read({ inv: 'r', req: { op: 'readNext', inv: 'r', tag: 5n, minSeq: 0n }, pos: 0, frontier: 1 });
    expect(invariants(w)).toEqual([]);
  });

  it('read validity: a trimmed overwrite still counts, its payload taken from the history (log-chaos seed 275)', () => {
    const mk = () => {
      const w = new World();
      w.append({ inv: 'a', pos: 0, code: 'APPEND_OK' });
      const o = w.append({ inv: 'a', pos: 1, code: 'APPEND_OK', kind: 'overwrite', condTag: 5n, condPos: 0, tags: [], ackPos: 0 });
      w.tombstone(1);
      return { w, o };
    };
    let { w, o } = mk();
    w.read({ inv: 'r', req: { op: 'readNext', inv: 'r', tag: 5n, minSeq: 0n }, pos: 0, frontier: 2, data: o.data });
    expect(invariants(w)).toEqual([]);
    ({ w } = mk());
    w.read({ inv: 'r', req: { op: 'readNext', inv: 'r', tag: 5n, minSeq: 0n }, pos: 0, frontier: 2 });
    expect(invariants(w)).toEqual(['log-read-validity']);
    ({ w } = mk());
    w.read({ inv: 'r', req: { op: 'readNext', inv: 'r', tag: 5n, minSeq: 0n }, pos: 0, frontier: 2, data: 'forged' });
    expect(invariants(w)).toEqual(['log-read-validity']);
  });

  it('read-your-writes: progress going back, and a read missing the invocation\'s own append', () => {
    let w = new World();
    w.append({ inv: 'a', pos: 0, code: 'APPEND_OK', pout: 5n });
    w.read({ inv: 'a', req: { op: 'readNext', inv: 'a', tag: 5n, minSeq: 0n }, pos: 0, frontier: 1, pin: 3n, pout: 5n });
    expect(invariants(w)).toContain('log-read-your-writes');
    w = new World();
    w.append({ inv: 'x', pos: 0, code: 'APPEND_OK' });
    w.append({ inv: 'a', pos: 1, code: 'APPEND_OK' });
    w.read({ inv: 'a', req: { op: 'checkTail', inv: 'a', tag: 5n }, pos: 0, frontier: 1 });
    expect(invariants(w)).toContain('log-read-your-writes');
  });

  it('conditional decisions: a result the replay of the final log contradicts', () => {
    const w = new World();
    w.append({ inv: 'a', pos: 0, code: 'APPEND_OK', kind: 'cond', condTag: 9n, condPos: 0 });
    w.append({ inv: 'a', pos: 1, code: 'APPEND_OK', kind: 'cond', condTag: 9n, condPos: 0 });
    expect(invariants(w)).toEqual(['log-cond-decisions']);
  });

  it('seqnum order: an invocation\'s later append below its earlier one', () => {
    const w = new World();
    w.append({ inv: 'x', pos: 0, code: 'APPEND_OK' });
    w.append({ inv: 'a', pos: 1, code: 'APPEND_OK' });
    w.append({ inv: 'a', pos: null, code: 'APPEND_OK', ackPos: 0 });
    expect(invariants(w)).toContain('log-seqnum-order');
  });
});
