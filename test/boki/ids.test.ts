/**
 * Methodology: property tests (fast-check) of the identifier layouts of spec §2. Every helper must
 * round-trip its fields over their full ranges, numeric order of seqnums must equal the
 * lexicographic order of (view, sequencer, position) (so "strictly increasing across views" is a
 * plain bigint comparison), and values beyond 2^53 must survive (a plain number would not).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bookHash, localid, localidCounter, localidEngine, logspaceId, logspaceSequencer, logspaceView, progress, progressLogspace, progressPos, seq, seqLogspace, seqOf, seqPos, seqView } from '../../src/boki/ids.ts';

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });

describe('seqnum layout view16 | sequencer16 | position32', () => {
  it('round-trips every field', () => {
    fc.assert(
      fc.property(u16, u16, u32, (v, s, p) => {
        const x = seq(v, s, p);
        expect(seqView(x)).toBe(v);
        expect(seqPos(x)).toBe(p);
        expect(seqLogspace(x)).toBe(logspaceId(v, s));
        expect(logspaceView(seqLogspace(x))).toBe(v);
        expect(logspaceSequencer(seqLogspace(x))).toBe(s);
        expect(seqOf(logspaceId(v, s), p)).toBe(x);
      }),
    );
  });

  it('orders like (view, sequencer, position)', () => {
    fc.assert(
      fc.property(u16, u16, u32, u16, u16, u32, (v1, s1, p1, v2, s2, p2) => {
        const lex = v1 !== v2 ? v1 < v2 : s1 !== s2 ? s1 < s2 : p1 < p2;
        expect(seq(v1, s1, p1) < seq(v2, s2, p2)).toBe(lex);
      }),
    );
  });

  it('keeps values past 2^53 exact', () => {
    const x = seq(0xfffe, 0x1234, 0xffff_fffe);
    expect(x > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(seqPos(x)).toBe(0xffff_fffe);
    expect(seqPos(x + 1n)).toBe(0xffff_ffff);
  });
});

describe('localid and progress', () => {
  it('round-trip', () => {
    fc.assert(
      fc.property(u32, u32, (a, b) => {
        expect(localidEngine(localid(a, b))).toBe(a);
        expect(localidCounter(localid(a, b))).toBe(b);
        expect(progressLogspace(progress(a, b))).toBe(a);
        expect(progressPos(progress(a, b))).toBe(b);
      }),
    );
  });

  it('progress in a later view is larger whatever the positions', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xfffe }), u16, u32, u32, (v, s, p1, p2) => {
        expect(progress(logspaceId(v, s), p1) < progress(logspaceId(v + 1, 0), p2)).toBe(true);
      }),
    );
  });
});

describe('book hash', () => {
  it('is deterministic and spreads books over tokens', () => {
    expect(bookHash(7, 23333)).toBe(bookHash(7, 23333));
    const buckets = new Array<number>(128).fill(0);
    for (let b = 0; b < 12_800; b++) buckets[bookHash(b, 23333) % 128]!++;
    expect(Math.min(...buckets)).toBeGreaterThan(50);
    expect(Math.max(...buckets)).toBeLessThan(160);
  });
});
