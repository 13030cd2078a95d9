/**
 * Identifier layouts of the Boki shared log (spec §2), and the only functions that shift bits.
 *
 *   seqnum    = view16 | sequencer16 | position32   (the top 32 bits are the logspace id)
 *   localid   = engineId32 | counter32
 *   progress  = logspaceId32 | metalogPosition32
 *
 * At module boundaries (the API, history records, checkers) these are bigints, because a seqnum
 * exceeds 2^53 as soon as viewId >= 32. Inside machines the hot paths carry a seqnum as the pair
 * (logspace, position) of plain numbers; `logspaceId` composes the 32-bit logspace with integer
 * arithmetic (not `<<`, which would overflow int32 for views >= 32768).
 */
import { assert } from '../core/assert.ts';

const U32 = 0xffff_ffffn;

/** The seqnum of position `pos` in the physical log of `sequencer` in `view`. */
export function seq(view: number, sequencer: number, pos: number): bigint {
  return (BigInt(view) << 48n) | (BigInt(sequencer) << 32n) | BigInt(pos);
}

/** The seqnum of position `pos` in logspace `ls` (the same layout, logspace given whole). */
export function seqOf(ls: number, pos: number): bigint {
  return (BigInt(ls) << 32n) | BigInt(pos);
}

export function seqView(s: bigint): number {
  return Number(s >> 48n);
}

export function seqLogspace(s: bigint): number {
  return Number(s >> 32n);
}

export function seqPos(s: bigint): number {
  return Number(s & U32);
}

export function localid(engine: number, counter: number): bigint {
  return (BigInt(engine) << 32n) | BigInt(counter);
}

export function localidEngine(l: bigint): number {
  return Number(l >> 32n);
}

export function localidCounter(l: bigint): number {
  return Number(l & U32);
}

/** A metalog progress token: "the invocation has seen entries below `pos` of logspace `ls`". */
export function progress(ls: number, pos: number): bigint {
  return (BigInt(ls) << 32n) | BigInt(pos);
}

export function progressLogspace(p: bigint): number {
  return Number(p >> 32n);
}

export function progressPos(p: bigint): number {
  return Number(p & U32);
}

/** The 32-bit logspace id of the physical log led by `sequencer` in `view`. */
export function logspaceId(view: number, sequencer: number): number {
  assert(view >= 0 && view <= 0xffff, 'a view id is 16 bits');
  assert(sequencer >= 0 && sequencer <= 0xffff, 'a sequencer id is 16 bits');
  return view * 0x1_0000 + sequencer;
}

export function logspaceView(ls: number): number {
  return Math.floor(ls / 0x1_0000);
}

export function logspaceSequencer(ls: number): number {
  return ls % 0x1_0000;
}

/** The view of a seqnum held as a (logspace, position) pair is the logspace's view. */
export function pairLess(lsA: number, posA: number, lsB: number, posB: number): boolean {
  return lsA < lsB || (lsA === lsB && posA < posB);
}

/**
 * The numeric id of a node from its name (`eng3` -> 3). Node ids are 16-bit and unique per role
 * (spec §1.1); the role prefix is not part of the number.
 */
export function nodeNumber(id: string): number {
  const m = /(\d+)$/.exec(id);
  assert(m !== null, `node id ${id} must end in its number`);
  const n = Number(m[1]);
  assert(n <= 0xffff, `node number of ${id} must fit 16 bits`);
  return n;
}

/**
 * Book -> hash token index. The prototype uses xxHash64(book, seed); the spec allows any
 * documented deterministic hash that every role computes identically from the view. This is
 * MurmurHash3's 32-bit finaliser applied to (book XOR seed) and then to the result XOR a second
 * seed word: two rounds of full avalanche over 32-bit inputs, which is all a 32-bit book id needs.
 */
export function bookHash(book: number, seed: number): number {
  let h = (book ^ seed) >>> 0;
  h = fmix32(h);
  h = fmix32((h ^ Math.imul(seed, 0x9e3779b1)) >>> 0);
  return h >>> 0;
}

export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A small deterministic PRNG (mulberry32) for the controller's shuffles and hash tokens. The
 * prototype uses an mt19937 seeded with `randomSeed` (23333); any fixed generator serves, since
 * every node reads the resulting view from the coordination service rather than recomputing it.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}
