/**
 * The programming model (issue 4 §1). A workflow function is plain deterministic TypeScript:
 *
 *   const transfer: WorkflowFn = (ctx, input) => {
 *     const a = ctx.read('acct', input.from);
 *     ctx.write('acct', input.from, a - input.amount);
 *     return ctx.invoke('audit', input);
 *   };
 *
 * It is registered by name in a `FunctionRegistry`. A running function's progress is plain data:
 * the results of the operations it has issued so far. The runtime re-runs the function from the
 * start against those results; each `ctx` call returns its recorded result until the function
 * reaches an operation with no result yet, where `ctx` stops the run by throwing `Suspend`. The
 * function must therefore be deterministic given its input and results, and must not catch
 * `Suspend` (the runtime detects both mistakes and reports them as non-determinism).
 */
import type { Json } from './records.ts';

export interface WfContext {
  read(table: string, key: string): Json;
  write(table: string, key: string, value: Json): void;
  /** Synchronous invocation: runs `fn` to completion and returns its output. */
  invoke(fn: string, input: Json): Json;
  /** Asynchronous invocation: fire and forget. */
  invokeAsync(fn: string, input: Json): void;
}

export type WorkflowFn = (ctx: WfContext, input: Json) => Json;

export type FunctionRegistry = Readonly<Record<string, WorkflowFn>>;

export type UserOp =
  | { readonly kind: 'read'; readonly table: string; readonly key: string }
  | { readonly kind: 'write'; readonly table: string; readonly key: string; readonly value: Json }
  | { readonly kind: 'invoke'; readonly fn: string; readonly input: Json; readonly async: boolean };

/** Thrown by `ctx` at the first operation without a recorded result. */
export class Suspend {
  constructor(readonly op: UserOp) {}
}

export type RunOutcome =
  | { readonly status: 'suspended'; readonly op: UserOp; readonly ordinal: number }
  | { readonly status: 'done'; readonly output: Json }
  | { readonly status: 'error'; readonly error: string };

/** Operations per function execution, at most (a loop that never ends is a bug, not a workload). */
export const USER_OPS_MAX = 10_000;

/** Equal JSON values; strings and numbers (nearly every value) without serialising. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameOp(a: UserOp, b: UserOp): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'read':
      return a.table === (b as typeof a).table && a.key === (b as typeof a).key;
    case 'write':
      return a.table === (b as typeof a).table && a.key === (b as typeof a).key && sameJson(a.value, (b as typeof a).value);
    case 'invoke':
      return a.fn === (b as typeof a).fn && a.async === (b as typeof a).async && sameJson(a.input, (b as typeof a).input);
  }
}

/**
 * Runs `fn` against the results recorded so far. `ops[i]` is the i-th operation issued in an
 * earlier run and `results[i]` its result; a run that issues a different operation at a recorded
 * position is non-deterministic.
 */
export function runFunction(fn: WorkflowFn, input: Json, ops: readonly UserOp[], results: readonly Json[]): RunOutcome {
  let i = 0;
  const held: { s: Suspend | null } = { s: null };
  const next = (op: UserOp): Json => {
    if (held.s) throw held.s; // the function caught Suspend and carried on
    if (i >= USER_OPS_MAX) throw new Error(`more than ${USER_OPS_MAX} operations`);
    if (i < results.length) {
      const prev = ops[i]!;
      if (!sameOp(prev, op)) throw new NonDeterminism(i, prev, op);
      return results[i++]!;
    }
    held.s = new Suspend(op);
    throw held.s;
  };
  const ctx: WfContext = {
    read: (table, key) => next({ kind: 'read', table, key }),
    write: (table, key, value) => void next({ kind: 'write', table, key, value }),
    invoke: (fn2, inp) => next({ kind: 'invoke', fn: fn2, input: inp, async: false }),
    invokeAsync: (fn2, inp) => void next({ kind: 'invoke', fn: fn2, input: inp, async: true }),
  };
  try {
    const output = fn(ctx, input);
    if (held.s) return { status: 'error', error: 'the function caught the runtime\'s Suspend signal and returned' };
    if (i < results.length) return { status: 'error', error: `non-determinism: the function returned after ${i} operations; an earlier run issued ${results.length}` };
    return { status: 'done', output: output === undefined ? null : output };
  } catch (e) {
    if (e instanceof Suspend) {
      if (e !== held.s) return { status: 'error', error: 'a foreign Suspend escaped the function' };
      return { status: 'suspended', op: e.op, ordinal: i };
    }
    if (e instanceof NonDeterminism) return { status: 'error', error: e.message };
    return { status: 'error', error: `the function threw: ${e instanceof Error ? e.message : String(e)}` };
  }
}

class NonDeterminism extends Error {
  constructor(index: number, before: UserOp, now: UserOp) {
    super(`non-determinism at operation ${index}: an earlier run issued ${JSON.stringify(before)}, this run ${JSON.stringify(now)}`);
  }
}
