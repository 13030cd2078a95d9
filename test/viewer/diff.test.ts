/**
 * The state diff. Examples pin the shapes a person reads (a push is one addition, a changed field
 * one change, a new map key one addition with a readable path). Properties with fast-check: a value
 * never differs from itself; the diff is empty exactly when the values are deeply equal; applying
 * the reported changes to an object turns it into the other one; and for arrays the reported edits
 * are a shortest edit script (their count equals n + m - 2 LCS, computed independently).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deepEqual, diffJson, type Change } from '../../app/viewer/diff.ts';

describe('diffJson examples', () => {
  it('reports changed fields, added and removed keys with readable paths', () => {
    const before = { op: { phase: 'query', acked: ['r0'] }, done: { 'c0#1': 1 }, gone: true };
    const after = { op: { phase: 'update', acked: ['r0', 'r1'] }, done: { 'c0#1': 1, 'c0#2': 2 } };
    expect(diffJson(before, after).changes).toEqual([
      { path: 'op.phase', kind: 'changed', before: 'query', after: 'update' },
      { path: 'op.acked[1]', kind: 'added', after: 'r1' },
      { path: 'done["c0#2"]', kind: 'added', after: 2 },
      { path: 'gone', kind: 'removed', before: true },
    ]);
  });

  it('aligns arrays: a shift is one removal and one addition, not a change at every index', () => {
    expect(diffJson([1, 2, 3, 4], [2, 3, 4, 5]).changes).toEqual([
      { path: '[0]', kind: 'removed', before: 1 },
      { path: '[3]', kind: 'added', after: 5 },
    ]);
    expect(diffJson([{ a: 1 }, { b: 2 }], [{ a: 1 }, { b: 3 }, { c: 4 }]).changes).toEqual([
      { path: '[1].b', kind: 'changed', before: 2, after: 3 },
      { path: '[2]', kind: 'added', after: { c: 4 } },
    ]);
  });

  it('caps the number of changes and counts the rest', () => {
    const a = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    const b = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i + 1]));
    const r = diffJson(a, b, 10);
    expect(r.changes).toHaveLength(10);
    expect(r.omitted).toBe(40);
  });

  it('handles type changes and the whole value', () => {
    expect(diffJson(null, { a: 1 }).changes).toEqual([{ path: '', kind: 'changed', before: null, after: { a: 1 } }]);
    expect(diffJson([1], { 0: 1 }).changes).toHaveLength(1);
  });
});

/** Applies changes reported for objects (no arrays) by following their paths. */
function apply(root: unknown, changes: readonly Change[]): unknown {
  if (changes.length === 1 && changes[0]!.path === '') return structuredClone(changes[0]!.after);
  const out = structuredClone(root) as Record<string, unknown>;
  for (const c of changes) {
    const keys: string[] = [];
    const re = /(?:^|\.)([A-Za-z_$][A-Za-z0-9_$]*)|\[("(?:[^"\\]|\\.)*")\]/g;
    for (const m of c.path.matchAll(re)) keys.push(m[1] ?? (JSON.parse(m[2]!) as string));
    let o = out;
    for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
    const last = keys.at(-1)!;
    if (c.kind === 'removed') delete o[last];
    else o[last] = structuredClone(c.after);
  }
  return out;
}

function lcs(a: readonly number[], b: readonly number[]): number {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) dp[i]![j] = a[i - 1] === b[j - 1] ? dp[i - 1]![j - 1]! + 1 : Math.max(dp[i - 1]![j]!, dp[i]![j - 1]!);
  return dp[a.length]![b.length]!;
}

const objectsOnly = fc.letrec<{ obj: Record<string, unknown>; val: unknown }>((tie) => ({
  obj: fc.dictionary(fc.oneof(fc.constantFrom('a', 'b', 'c', 'd'), fc.string({ maxLength: 4 })), tie('val'), { maxKeys: 5 }),
  val: fc.oneof({ depthSize: 'small' }, fc.integer({ min: -3, max: 3 }), fc.constantFrom('x', 'y', null, true), tie('obj')),
})).obj;

describe('diffJson properties', () => {
  it('a value never differs from itself, and the diff is empty exactly for equal values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 4 }), (a, b) => {
        expect(diffJson(a, structuredClone(a)).changes).toEqual([]);
        const r = diffJson(a, b, 100_000);
        expect(r.changes.length === 0).toBe(deepEqual(a, b));
      }),
      { numRuns: 300 },
    );
  });

  it('applying the changes between two objects turns the first into the second', () => {
    fc.assert(
      fc.property(objectsOnly, objectsOnly, (a, b) => {
        expect(apply(a, diffJson(a, b, 100_000).changes)).toEqual(b);
      }),
      { numRuns: 300 },
    );
  });

  it('array edits form a shortest edit script', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 30 }), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 30 }), (a, b) => {
        const r = diffJson(a, b, 100_000).changes;
        const edits = r.reduce((s, c) => s + (c.kind === 'changed' ? 2 : 1), 0);
        expect(edits).toBe(a.length + b.length - 2 * lcs(a, b));
      }),
      { numRuns: 300 },
    );
  });
});
