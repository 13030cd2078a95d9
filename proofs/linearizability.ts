/**
 * Linearizability of a single object against a sequential specification, by the Wing-Gong search
 * with Lowe's memoisation ("Testing for linearizability", 2017): ops are linearized in an order
 * consistent with real time; a (set of linearized ops, object state) pair seen before is never
 * explored twice. Operations with no return (their client gave up or crashed) may take effect
 * at any point after their call, or never.
 *
 * The search is exponential in the number of concurrent operations in the worst case, so it runs
 * under a step budget and answers `unknown` rather than running away (Knossos's failure mode).
 * Histories from the register driver have one operation per client at a time, so concurrency is
 * bounded by the number of clients.
 */

/** Returned by `SeqSpec.step` when the recorded output is impossible from the given state. */
export const IMPOSSIBLE: unique symbol = Symbol('impossible');

export interface SeqSpec<S, I, O> {
  readonly init: S;
  /** Applies `input`; returns IMPOSSIBLE if `output` cannot be produced from state `s`. */
  step(s: S, input: I, output: O | undefined): S | typeof IMPOSSIBLE;
  /** Canonical string of a state, for memoisation. */
  key(s: S): string;
}

export interface HistOp<I, O> {
  readonly id: string;
  readonly client: string;
  readonly call: number;
  /** Infinity when the operation never returned. */
  readonly ret: number;
  readonly input: I;
  /** Undefined when the operation never returned. */
  readonly output: O | undefined;
}

export type LinResult<I, O> =
  | { readonly verdict: 'ok'; readonly steps: number }
  | { readonly verdict: 'violated'; readonly steps: number; readonly op: HistOp<I, O>; readonly message: string }
  | { readonly verdict: 'unknown'; readonly steps: number; readonly reason: string };

interface Entry {
  readonly op: number; // index into ops
  readonly isCall: boolean;
  readonly time: number;
  prev: Entry | null;
  next: Entry | null;
  match: Entry | null; // the call's return entry
}

export function checkLinearizable<S, I, O>(spec: SeqSpec<S, I, O>, ops: readonly HistOp<I, O>[], stepsMax = 2_000_000): LinResult<I, O> {
  const n = ops.length;
  if (n === 0) return { verdict: 'ok', steps: 0 };
  // Entries sorted by time; at equal times calls come first, which treats touching operations as
  // concurrent (the permissive reading: no false alarms from equal timestamps).
  const raw: Entry[] = [];
  ops.forEach((o, i) => {
    const c: Entry = { op: i, isCall: true, time: o.call, prev: null, next: null, match: null };
    const r: Entry = { op: i, isCall: false, time: o.ret, prev: null, next: null, match: null };
    c.match = r;
    raw.push(c, r);
  });
  raw.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const head: Entry = { op: -1, isCall: false, time: -Infinity, prev: null, next: null, match: null };
  let last = head;
  for (const e of raw) {
    e.prev = last;
    last.next = e;
    last = e;
  }
  const words = Math.ceil(n / 32);
  const bits = new Uint32Array(words);
  const cache = new Set<string>();
  const stack: { entry: Entry; state: S }[] = [];
  let state = spec.init;
  let entry: Entry | null = head.next;
  let steps = 0;
  let deepest = 0;
  let deepestOp = 0;

  const lift = (e: Entry) => {
    e.prev!.next = e.next;
    if (e.next) e.next.prev = e.prev;
    const m = e.match!;
    m.prev!.next = m.next;
    if (m.next) m.next.prev = m.prev;
  };
  const unlift = (e: Entry) => {
    const m = e.match!;
    m.prev!.next = m;
    if (m.next) m.next.prev = m;
    e.prev!.next = e;
    if (e.next) e.next.prev = e;
  };

  while (head.next !== null) {
    if (++steps > stepsMax) return { verdict: 'unknown', steps, reason: `search budget of ${stepsMax} steps exhausted` };
    if (entry === null) entry = head.next;
    if (entry.isCall) {
      const o = ops[entry.op]!;
      const next = spec.step(state, o.input, o.output);
      let fresh = false;
      if (next !== IMPOSSIBLE) {
        bits[entry.op >> 5]! |= 1 << (entry.op & 31);
        const key = bits.join(',') + '|' + spec.key(next);
        if (!cache.has(key)) {
          cache.add(key);
          fresh = true;
        } else bits[entry.op >> 5]! &= ~(1 << (entry.op & 31));
      }
      if (fresh) {
        stack.push({ entry, state });
        state = next as S;
        lift(entry);
        if (stack.length > deepest) {
          deepest = stack.length;
          deepestOp = entry.op;
        }
        entry = head.next;
      } else {
        entry = entry.next;
      }
    } else {
      // A return whose call is still in the list: that op must linearize before anything later.
      if (stack.length === 0) {
        const o = ops[entry.op]!;
        return { verdict: 'violated', steps, op: o, message: explain(ops, o, ops[deepestOp]!) };
      }
      const top = stack.pop()!;
      state = top.state;
      bits[top.entry.op >> 5]! &= ~(1 << (top.entry.op & 31));
      unlift(top.entry);
      entry = top.entry.next;
    }
  }
  return { verdict: 'ok', steps };
}

function show<I, O>(o: HistOp<I, O>): string {
  const out = o.output === undefined ? 'no return' : JSON.stringify(o.output);
  const ret = o.ret === Infinity ? '∞' : String(o.ret);
  return `${o.id} by ${o.client} [${o.call}..${ret}us] ${JSON.stringify(o.input)} -> ${out}`;
}

function explain<I, O>(ops: readonly HistOp<I, O>[], stuck: HistOp<I, O>, deepest: HistOp<I, O>): string {
  return `no linearization of ${ops.length} operations: ${show(stuck)} cannot be placed (the longest consistent prefix ended at ${show(deepest)})`;
}

// ---------------------------------------------------------------------------------------------
// A read/write register

export type RegInput = { readonly op: 'read' } | { readonly op: 'write'; readonly value: string };
export type RegOutput = { readonly ok: boolean; readonly value: string | null };

export const registerSpec: SeqSpec<string | null, RegInput, RegOutput> = {
  init: null,
  step(s, input, output) {
    if (input.op === 'write') return input.value;
    if (output === undefined) return s; // a read that never returned constrains nothing
    return output.value === s ? s : IMPOSSIBLE;
  },
  key: (s) => (s === null ? '∅' : 's' + s),
};
