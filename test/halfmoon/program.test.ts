/**
 * Methodology: the programming model re-runs a plain function against recorded results. We check
 * that it suspends at the first unanswered operation, resumes with recorded results, returns the
 * output once every operation is answered, and that it reports (rather than silently accepts) a
 * function that behaves differently on re-run, catches the runtime's signal, or throws.
 */
import { describe, expect, it } from 'vitest';
import { runFunction, type UserOp, type WorkflowFn } from '../../src/halfmoon/program.ts';

const transfer: WorkflowFn = (ctx, input) => {
  const i = input as { from: string; to: string; amount: number };
  const a = ctx.read('acct', i.from) as number;
  const b = ctx.read('acct', i.to) as number;
  ctx.write('acct', i.from, a - i.amount);
  ctx.write('acct', i.to, b + i.amount);
  return ctx.invoke('audit', { a, b });
};

describe('runFunction', () => {
  const input = { from: 'x', to: 'y', amount: 5 };
  it('suspends at each unanswered operation and finishes with the recorded results', () => {
    const ops: UserOp[] = [];
    const results: (number | string | null)[] = [];
    const answers = [10, 20, null, null, 'ok'];
    for (let i = 0; i < 5; i++) {
      const r = runFunction(transfer, input, ops, results);
      expect(r.status).toBe('suspended');
      if (r.status !== 'suspended') return;
      expect(r.ordinal).toBe(i);
      ops.push(r.op);
      results.push(answers[i]!);
    }
    expect(ops.map((o) => o.kind)).toEqual(['read', 'read', 'write', 'write', 'invoke']);
    expect(ops[2]).toEqual({ kind: 'write', table: 'acct', key: 'x', value: 5 });
    expect(runFunction(transfer, input, ops, results)).toEqual({ status: 'done', output: 'ok' });
  });

  it('reports a function that issues a different operation on re-run', () => {
    let flip = false;
    const fickle: WorkflowFn = (ctx) => {
      flip = !flip;
      return ctx.read('t', flip ? 'a' : 'b');
    };
    const first = runFunction(fickle, null, [], []);
    expect(first.status).toBe('suspended');
    if (first.status !== 'suspended') return;
    const r = runFunction(fickle, null, [first.op], ['v']);
    expect(r).toMatchObject({ status: 'error' });
    expect(r.status === 'error' && r.error).toMatch(/non-determinism at operation 0/);
  });

  it('reports a function that swallows the runtime signal', () => {
    const swallow: WorkflowFn = (ctx) => {
      try {
        ctx.read('t', 'a');
      } catch {
        /* never do this */
      }
      return 1;
    };
    const r = runFunction(swallow, null, [], []);
    expect(r.status === 'error' && r.error).toMatch(/caught the runtime's Suspend/);
  });

  it('reports a function that throws', () => {
    const boom: WorkflowFn = () => {
      throw new Error('boom');
    };
    expect(runFunction(boom, null, [], [])).toEqual({ status: 'error', error: 'the function threw: boom' });
  });
});
