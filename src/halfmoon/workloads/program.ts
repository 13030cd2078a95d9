/**
 * Workflow programs as data, for property tests and the explorer: a request carries a program
 * (a list of reads, writes and sync or async invokes of sub-programs) that the generic function
 * `prog` interprets. fast-check generates the programs; the runtime sees ordinary functions.
 */
import type { WorkflowFn } from '../program.ts';
import type { Json } from '../records.ts';
import { pick, type Workload } from './types.ts';

/**
 * An operation of a generated program; `t` names the table (default "t"). A write with `rmw`
 * is read-modify-write: the value written is `v` followed by a digest of the last value this
 * execution read (or of nothing), so a read that returns the wrong version changes what is
 * written and what the function returns, where a checker sees it.
 */
export type ProgOp =
  | { readonly r: string; readonly t?: string }
  | { readonly w: string; readonly v: string; readonly t?: string; readonly rmw?: boolean }
  | { readonly call: readonly ProgOp[]; readonly async?: boolean };

const prog: WorkflowFn = (ctx, input) => {
  const ops = (input as { ops: ProgOp[] }).ops;
  const seen: Json[] = [];
  let last: Json = null;
  for (const op of ops) {
    if ('r' in op) {
      last = ctx.read(op.t ?? 't', op.r);
      seen.push(last);
    } else if ('w' in op) {
      const value = op.rmw === true ? `${op.v}<${digest(last)}` : op.v;
      ctx.write(op.t ?? 't', op.w, value);
      if (op.rmw === true) seen.push(value);
    }
    else if (op.async) ctx.invokeAsync('prog', { ops: op.call as Json });
    else seen.push(ctx.invoke('prog', { ops: op.call as Json }));
  }
  return seen;
};

/** FNV-1a (32 bits, hex) of a value's JSON: a bounded stand-in for it inside a written value. */
export function digest(v: Json): string {
  const s = JSON.stringify(v);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function num(p: Readonly<Record<string, Json>>, k: string, d: number): number {
  const v = p[k];
  return typeof v === 'number' ? v : d;
}

/** A random program: `ops` operations over `keys` keys, invokes nested at most `depth` deep. */
export function randomProgram(p: Readonly<Record<string, Json>>, tag: string, rand: (l: string) => number, depth = 1): ProgOp[] {
  const n = num(p, 'opsPerRequest', 3);
  const keys = num(p, 'keys', 2);
  const out: ProgOp[] = [];
  for (let i = 0; i < n; i++) {
    const roll = pick(rand, 'op', 10);
    const key = `k${pick(rand, 'key', keys)}`;
    if (roll < 4) out.push({ r: key });
    else if (roll < 8 || depth <= 0) out.push({ w: key, v: `${tag}.${i}`, rmw: true });
    else out.push({ call: randomProgram({ ...p, opsPerRequest: 2 }, `${tag}.${i}`, rand, depth - 1), async: roll === 9 });
  }
  return out;
}

export const programWorkload: Workload = {
  name: 'program',
  description: 'generated workflow programs (reads, writes, sync and async invokes) for properties and proofs',
  functions: { prog },
  generate(p, k, rand) {
    const fixed = p.programs;
    if (Array.isArray(fixed) && fixed.length > 0) return { fn: 'prog', input: { ops: fixed[k % fixed.length] as Json } };
    return { fn: 'prog', input: { ops: randomProgram(p, `q${k}`, rand, num(p, 'depth', 1)) as unknown as Json } };
  },
  initial(p) {
    const rows = Array.from({ length: num(p, 'keys', 2) }, (_, i) => ['t', `k${i}`, `init:k${i}`] as [string, string, Json]);
    // Tables and keys named by fixed programs get rows too.
    const seen = new Set(rows.map(([t, k]) => `${t}/${k}`));
    const visit = (ops: readonly ProgOp[]) => {
      for (const op of ops) {
        if ('call' in op) visit(op.call);
        else {
          const t = op.t ?? 't';
          const k = 'r' in op ? op.r : op.w;
          if (!seen.has(`${t}/${k}`)) {
            seen.add(`${t}/${k}`);
            rows.push([t, k, `init:${t}/${k}`]);
          }
        }
      }
    };
    if (Array.isArray(p.programs)) for (const prg of p.programs) visit(prg as unknown as ProgOp[]);
    return rows;
  },
};
