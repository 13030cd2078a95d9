/**
 * The run's one source of randomness, behind a small interface. The default generator is
 * pure-rand's xoroshiro128+ (3 ns a draw); seedrandom's alea is the second implementation, kept so
 * a trace can name its algorithm and a second generator can cross-check determinism.
 *
 * Seeds are integers in [0, 2^53). They are expanded to the generator state with splitmix32, so
 * nearby seeds give unrelated streams and all 53 bits matter.
 */
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import seedrandom from 'seedrandom';
import { InputError } from '../src/core/assert.ts';

export type RngAlgorithm = 'xoroshiro128plus' | 'alea';
export const RNG_ALGORITHMS: readonly RngAlgorithm[] = ['xoroshiro128plus', 'alea'];

export interface RngState {
  readonly algorithm: RngAlgorithm;
  readonly state: unknown;
}

export interface Rng {
  readonly algorithm: RngAlgorithm;
  /** Uniform unsigned 32-bit integer. */
  nextU32(): number;
  /** Uniform float in [0, 1) with 32 bits of precision. */
  nextFloat(): number;
  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number;
  save(): RngState;
}

export const MAX_SEED = Number.MAX_SAFE_INTEGER;

export function checkSeed(seed: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new InputError(`seed must be an integer in [0, 2^53), got ${seed}`);
  }
  return seed;
}

function splitmix32(a: number): () => number {
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t = t ^ (t >>> 15);
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) | 0;
  };
}

function seedWords(seed: number): number[] {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 0x1_0000_0000) >>> 0;
  const sm = splitmix32(lo ^ Math.imul(hi, 0x85ebca6b));
  const words: number[] = [sm(), sm(), sm(), sm()];
  // xoroshiro128+ must not start from the all-zero state.
  if ((words[0]! | words[1]! | words[2]! | words[3]!) === 0) words[0] = 1;
  return words;
}

abstract class BaseRng implements Rng {
  abstract readonly algorithm: RngAlgorithm;
  abstract nextU32(): number;
  abstract save(): RngState;
  nextFloat(): number {
    return this.nextU32() / 0x1_0000_0000;
  }
  int(lo: number, hi: number): number {
    // Multiply-shift on 32 bits; the bias for ranges far below 2^32 is negligible for simulation
    // and, unlike rejection sampling, consumes exactly one draw, which keeps decision logs aligned.
    return lo + Math.floor(this.nextFloat() * (hi - lo + 1));
  }
}

class XoroshiroRng extends BaseRng {
  readonly algorithm = 'xoroshiro128plus' as const;
  private readonly g: ReturnType<typeof xoroshiro128plusFromState>;
  constructor(state: readonly number[]) {
    super();
    this.g = xoroshiro128plusFromState(state);
  }
  nextU32(): number {
    return this.g.next() >>> 0;
  }
  save(): RngState {
    return { algorithm: this.algorithm, state: [...this.g.getState()] };
  }
}

class AleaRng extends BaseRng {
  readonly algorithm = 'alea' as const;
  private readonly g: seedrandom.StatefulPRNG<seedrandom.State.Alea>;
  constructor(seedOrState: string | seedrandom.State.Alea) {
    super();
    this.g =
      typeof seedOrState === 'string'
        ? seedrandom.alea(seedOrState, { state: true })
        : seedrandom.alea('', { state: seedOrState });
  }
  nextU32(): number {
    return this.g.int32() >>> 0;
  }
  save(): RngState {
    return { algorithm: this.algorithm, state: this.g.state() };
  }
}

export function createRng(seed: number, algorithm: RngAlgorithm = 'xoroshiro128plus'): Rng {
  checkSeed(seed);
  switch (algorithm) {
    case 'xoroshiro128plus':
      return new XoroshiroRng(seedWords(seed));
    case 'alea':
      return new AleaRng(`halfmoon:${seed}`);
  }
}

export function restoreRng(saved: RngState): Rng {
  switch (saved.algorithm) {
    case 'xoroshiro128plus':
      return new XoroshiroRng(saved.state as number[]);
    case 'alea':
      return new AleaRng(saved.state as seedrandom.State.Alea);
  }
}
