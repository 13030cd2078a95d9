/**
 * Methodology: the linearizability checker must accept every history that some sequential
 * execution explains and reject the classic counterexamples. Accepting histories are generated
 * from a sequential run whose operations are then given random overlapping intervals that contain
 * their linearization points (so a valid linearization exists by construction); rejecting ones
 * are the stale read, the read from the future, and a lost write. The budget turns an exploding
 * search into `unknown` instead of a hang.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLinearizable, registerSpec, type HistOp, type RegInput, type RegOutput } from '../../proofs/linearizability.ts';

type Op = HistOp<RegInput, RegOutput>;
const w = (id: string, call: number, ret: number, value: string): Op => ({ id, client: id, call, ret, input: { op: 'write', value }, output: { ok: true, value } });
const r = (id: string, call: number, ret: number, value: string | null): Op => ({ id, client: id, call, ret, input: { op: 'read' }, output: { ok: true, value } });

describe('linearizability checker', () => {
  it('accepts histories built around a sequential execution', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ read: fc.boolean(), before: fc.nat(30), after: fc.nat(30), pending: fc.boolean() }), { minLength: 1, maxLength: 40 }),
        (spec) => {
          let value: string | null = null;
          const ops: Op[] = spec.map((s, i) => {
            const point = (i + 1) * 10; // the linearization point
            const call = Math.max(0, point - s.before);
            const ret = s.pending && i === spec.length - 1 ? Infinity : point + s.after;
            if (s.read) return r(`o${i}`, call, ret, value);
            value = `v${i}`;
            return w(`o${i}`, call, ret, value);
          });
          expect(checkLinearizable(registerSpec, ops).verdict).toBe('ok');
        },
      ),
    );
  });

  it('rejects a stale read after a completed write', () => {
    const res = checkLinearizable(registerSpec, [w('a', 0, 10, 'x'), r('b', 20, 30, null)]);
    expect(res.verdict).toBe('violated');
  });

  it('rejects a read of a value written only later', () => {
    expect(checkLinearizable(registerSpec, [r('b', 0, 5, 'x'), w('a', 10, 20, 'x')]).verdict).toBe('violated');
  });

  it('rejects two reads that see writes in opposite orders', () => {
    const ops = [w('a', 0, 100, 'x'), w('b', 0, 100, 'y'), r('c', 10, 20, 'x'), r('d', 30, 40, 'y'), r('e', 50, 60, 'x')];
    expect(checkLinearizable(registerSpec, ops).verdict).toBe('violated');
  });

  it('accepts a pending write that may or may not have happened', () => {
    const ops = [w('a', 0, Infinity, 'x'), r('b', 10, 20, null), r('c', 30, 40, 'x')];
    expect(checkLinearizable(registerSpec, ops).verdict).toBe('ok');
  });

  it('gives up with unknown when the budget runs out', () => {
    const ops: Op[] = [];
    for (let i = 0; i < 14; i++) ops.push(w(`w${i}`, 0, 1000, `v${i}`));
    ops.push(r('r', 2000, 2010, 'nope'));
    const res = checkLinearizable(registerSpec, ops, 500);
    expect(res.verdict).toBe('unknown');
  });
});
