/**
 * The fast hasher (`Lanes` in src/core/hash.ts, which `digest` and the explorer both use) must
 * give `hashValue`'s digests bit for bit: fingerprints,
 * packet order and the seeds of derived random draws all depend on them, so a drift would change
 * state counts and traces. Checked on random plain data (nested objects with keys in any order,
 * arrays, Maps and Sets nested in each other, numbers of every kind, bigints, typed arrays) and
 * under renamings, against `hashValue` of src/core/hash.ts. A deliberately broken variant (Map
 * entries mixed in insertion order) must be told apart.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digest, Hash64, hashInto, hashValue, Lanes } from '../../src/core/hash.ts';

const key = fc.constantFrom('a', 'b', 'c', 'r0', 'r1', 'c0', 'zz', 'ts', 'value', '');
const leaf = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, NaN, 2 ** 40, -(2 ** 31), 2 ** 31),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.string({ maxLength: 6 }),
  key,
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map((es) => Object.fromEntries(es)),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 4 }).map((es) => new Map(es)),
    fc.array(tie('value'), { maxLength: 4 }).map((xs) => new Set(xs)),
    fc.uint8Array({ maxLength: 5 }),
  ),
}));
const renaming = fc.option(fc.constant(new Map([['r0', 'r1'], ['r1', 'r0'], ['c0', 'zz']])), { nil: null });

function core(v: unknown, seed: number, rename: ReadonlyMap<string, string> | null): [number, number] {
  const h = new Hash64(seed);
  hashValue(h, v, 0, rename);
  return h.finish();
}

function ours(v: unknown, seed: number, rename: ReadonlyMap<string, string> | null): [number, number] {
  const h = new Lanes(seed);
  hashInto(h, v, 0, rename);
  h.done();
  return [h.r0, h.r1];
}

describe('Lanes, the fast hasher', () => {
  it('equals hashValue on random plain data, with and without a renaming (seed 18)', () => {
    fc.assert(
      fc.property(value, fc.integer(), renaming, (v, seed, rename) => {
        expect(ours(v, seed, rename)).toEqual(core(v, seed, rename));
      }),
      { seed: 18, numRuns: 3000 },
    );
  });

  it('a hasher reset between values gives the digest of a fresh one', () => {
    const h = new Lanes(5);
    hashInto(h, new Map([['x', [1, 2, new Set(['y'])]]]));
    h.reset(7);
    hashInto(h, { b: 1, a: new Map([[1, 2]]) });
    h.done();
    expect([h.r0, h.r1]).toEqual(core({ a: new Map([[1, 2]]), b: 1 }, 7, null));
  });

  it('a digest taken in the middle of hashing a value leaves that value\'s digest alone', () => {
    const h = new Lanes(3);
    hashInto(h, new Map([['a', new Set([1, 2])]]));
    const mid = digest(new Map([[{ z: 1, y: [2] }, new Set(['q'])]]));
    hashInto(h, [new Set(['x', 'y']), { b: 2, a: 1 }]);
    h.done();
    const ref = new Hash64(3);
    hashValue(ref, new Map([['a', new Set([1, 2])]]));
    hashValue(ref, [new Set(['x', 'y']), { a: 1, b: 2 }]);
    expect([h.r0, h.r1]).toEqual(ref.finish());
    const r2 = new Hash64();
    hashValue(r2, new Map([[{ y: [2], z: 1 }, new Set(['q'])]]));
    expect(mid).toBe(r2.hex());
  });

  it('tells apart a broken variant that mixes Map entries in insertion order', () => {
    const broken = (v: Map<unknown, unknown>): [number, number] => {
      const h = new Hash64(0).u32(18).u32(v.size);
      for (const [k, x] of v) {
        const e = new Hash64();
        hashValue(e, k);
        hashValue(e, x);
        const [a, b] = e.finish();
        h.u32(a).u32(b);
      }
      return h.finish();
    };
    const m = new Map<unknown, unknown>([['b', 1], ['a', 2], ['c', 3]]);
    expect(ours(m, 0, null)).toEqual(core(m, 0, null));
    expect(broken(m)).not.toEqual(core(m, 0, null));
  });
});
