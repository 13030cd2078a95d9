/**
 * The operation program each stage of an execution runs (begin, catch-up, the protocol's begin,
 * one user operation, the protocol's finish, end, and the reconciler's system work), against the
 * recorded micro-results in `io`. Pure: it decides what to ask, never how it is sent.
 */
import { assertNever } from '../../core/assert.ts';
import { rulesFor } from '../protocols.ts';
import { reconcileKey } from '../reconcile.ts';
import { type Json, rowKeyOf } from '../records.ts';
import { catchUp, type OpIO, type Scratch } from '../steps.ts';
import type { Exec } from './state.ts';

export function runProgram(io: OpIO, x: Scratch, ex: Exec): Json {
  const rules = rulesFor(ex.mode);
  switch (ex.stage) {
    case 'begin': {
      const r = io.log({ op: 'begin', book: 0, parent: ex.parentInv });
      if (r.code !== 'OK') {
        // The caller's context may be gone (an async callee outliving its caller): start afresh.
        const r2 = io.log({ op: 'begin', book: 0, parent: null });
        if (r2.code !== 'OK') io.abort(`begin failed: ${r2.code}`);
      }
      return null;
    }
    case 'catchup':
      catchUp(io, x);
      return null;
    case 'start':
      rules.begin(io, x);
      return null;
    case 'op': {
      const { op, ordinal } = ex.op!;
      switch (op.kind) {
        case 'read':
          return rules.read(io, x, op.table, op.key);
        case 'write':
          rules.write(io, x, op.table, op.key, op.value);
          return null;
        case 'invoke':
          return rules.invoke(io, x, op.fn, op.input, op.async, ordinal);
        default:
          return assertNever(op, 'user op');
      }
    }
    case 'finish':
      rules.finish(io, x, ex.output);
      return null;
    case 'end': {
      io.log({ op: 'end' });
      return null;
    }
    case 'system': {
      const t = ex.system!;
      if (t.kind === 'scan') {
        const r = io.store({ op: 'scanBase', minS: 0n });
        return r.op === 'scanBase' ? [...r.rows] : [];
      }
      const { table, key } = rowKeyOf(t.row);
      return reconcileKey(io, x.env.tags, table, key, `reconciler:${ex.key}`).markers;
    }
    case 'run':
    case 'over':
      throw new Error(`no program for stage ${ex.stage}`);
    default:
      return assertNever(ex.stage, 'stage');
  }
}
