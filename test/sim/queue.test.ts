/**
 * Methodology: the event queue is checked against the obvious model (a list sorted by time, then
 * by scheduling order) on random interleavings of pushes and pops, and a pinned case shows that
 * events due at the same instant come out in the order they were scheduled.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../sim/queue.ts';

describe('EventQueue', () => {
  it('pops events due at the same instant in scheduling order', () => {
    const q = new EventQueue<string>(2);
    q.push(5, 'a');
    q.push(3, 'b');
    q.push(5, 'c');
    q.push(3, 'd');
    q.push(5, 'e');
    const out: string[] = [];
    for (let x = q.pop(); x !== undefined; x = q.pop()) out.push(x);
    expect(out).toEqual(['b', 'd', 'a', 'c', 'e']);
  });

  it('agrees with a sorted-list model on random operation sequences', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.nat(50).map((t) => ({ push: t })), fc.constant({ pop: true })), { maxLength: 300 }), (ops) => {
        const q = new EventQueue<number>(1);
        const model: { t: number; seq: number }[] = [];
        let seq = 0;
        for (const op of ops) {
          if ('push' in op) {
            q.push(op.push, seq);
            model.push({ t: op.push, seq: seq++ });
          } else {
            model.sort((a, b) => a.t - b.t || a.seq - b.seq);
            const want = model.shift();
            const got = q.pop();
            expect(got).toBe(want?.seq);
            if (want) expect(q.lastTime).toBe(want.t);
          }
          expect(q.size).toBe(model.length);
        }
      }),
    );
  });

  it('refuses negative or NaN times', () => {
    const q = new EventQueue<number>();
    expect(() => q.push(-1, 0)).toThrow(/non-negative/);
    expect(() => q.push(NaN, 0)).toThrow(/non-negative/);
  });
});
