/**
 * The fast canonical digest (src/core/hash.ts `digest`) must equal `hashValue` into a fresh
 * Hash64, bit for bit: trace hashes fold every node's final state through it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digest, Hash64, hashValue } from '../../src/core/hash.ts';

const reference = (v: unknown): string => {
  const h = new Hash64();
  hashValue(h, v);
  return h.hex();
};

const leaf = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 2 ** 32 + 5),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.constantFrom(0n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n, -1n, 2n ** 32n),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);

const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('arr'), tie('obj'), tie('map'), tie('set')),
  arr: fc.array(tie('v'), { maxLength: 5 }),
  obj: fc.dictionary(fc.constantFrom('a', 'b', 'k', 'zz', '1', '02', 'type', 'ls'), tie('v'), { maxKeys: 5 }),
  map: fc.array(fc.tuple(leaf, tie('v')), { maxLength: 4 }).map((es) => new Map(es)),
  set: fc.array(leaf, { maxLength: 4 }).map((es) => new Set(es)),
}));

describe('digest', () => {
  it('equals hashValue on random plain data (objects of repeated shapes in any key order)', () => {
    fc.assert(
      fc.property(value.v, (v) => {
        expect(digest(v)).toBe(reference(v));
        // A second pass hits the shape cache.
        expect(digest([v, v])).toBe(reference([v, v]));
      }),
      { numRuns: 2000, seed: 18 },
    );
  });

  it('tells objects of one key set in different insertion orders apart from different values', () => {
    const a = { x: 1, y: 2n, z: 'z' };
    const b = { z: 'z', y: 2n, x: 1 };
    const c = { z: 'z', y: 3n, x: 1 };
    expect(digest(a)).toBe(digest(b));
    expect(digest(b)).toBe(reference(b));
    expect(digest(c)).not.toBe(digest(a));
    expect(digest(new Uint8Array([1, 2, 3]))).toBe(reference(new Uint8Array([1, 2, 3])));
  });
});
