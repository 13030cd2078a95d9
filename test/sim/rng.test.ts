/**
 * Methodology: generators are pure functions of their seed: the same seed gives the same stream
 * in every instance, different seeds give different streams, saved state resumes exactly, and the
 * integer helper stays in range. Pinned first values guard against an accidental change of the
 * seed expansion, which would silently change every recorded run.
 */
import { describe, expect, it } from 'vitest';
import { createRng, restoreRng, RNG_ALGORITHMS } from '../../sim/rng.ts';

describe.each(RNG_ALGORITHMS)('rng %s', (alg) => {
  it('is a function of its seed', () => {
    const a = createRng(42, alg);
    const b = createRng(42, alg);
    const c = createRng(43, alg);
    const xs = Array.from({ length: 100 }, () => a.nextU32());
    expect(Array.from({ length: 100 }, () => b.nextU32())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c.nextU32())).not.toEqual(xs);
  });
  it('resumes from saved state', () => {
    const a = createRng(7, alg);
    for (let i = 0; i < 10; i++) a.nextU32();
    const saved = a.save();
    const rest = Array.from({ length: 20 }, () => a.nextU32());
    const b = restoreRng(JSON.parse(JSON.stringify(saved)));
    expect(Array.from({ length: 20 }, () => b.nextU32())).toEqual(rest);
  });
  it('keeps int() in range and floats in [0, 1)', () => {
    const r = createRng(1, alg);
    for (let i = 0; i < 10_000; i++) {
      const x = r.int(-3, 5);
      expect(x).toBeGreaterThanOrEqual(-3);
      expect(x).toBeLessThanOrEqual(5);
      const f = r.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
    }
  });
  it('uses all 53 bits of the seed', () => {
    const a = createRng(2 ** 40 + 1, alg).nextU32();
    const b = createRng(1, alg).nextU32();
    expect(a).not.toBe(b);
  });
});

it('pins the first draws of seed 1 (changing them changes every recorded run)', () => {
  const r = createRng(1, 'xoroshiro128plus');
  expect([r.nextU32(), r.nextU32(), r.nextU32()]).toMatchInlineSnapshot(`
    [
      3362229289,
      3244824786,
      2157361142,
    ]
  `);
});
