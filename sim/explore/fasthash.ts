/**
 * The explorer's hasher: the same 64-bit digests as `Hash64` and `hashValue` in src/core/hash.ts,
 * bit for bit (test/explore/fasthash.test.ts checks it on random plain data), built for the
 * explorer's hot path, which hashes a node's state, each message and each history event on every
 * step. It allocates nothing per value: the hasher is reset instead of created, Map and Set
 * entries are digested into a reused lane stack and sorted in place, and object keys are sorted
 * only when they are not already in order. Fingerprints, packet order and random seeds depend on
 * these digests, so they must not drift from the core's: state counts and traces stay the same.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const C3 = 0x85ebca6b;
const C4 = 0xc2b2ae35;
const MAX_DEPTH = 64;

const f64 = new Float64Array(1);
const u32v = new Uint32Array(f64.buffer);

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** `Hash64` with `reset` and a result written into the hasher (`r0`, `r1`) instead of a new array. */
export class Lanes {
  a = 0;
  b = 0;
  n = 0;
  r0 = 0;
  r1 = 0;

  constructor(seed = 0) {
    this.reset(seed);
  }

  reset(seed: number): this {
    this.a = (0x9747b28c ^ seed) | 0;
    this.b = (0x5bd1e995 ^ Math.imul(seed, 31)) | 0;
    this.n = 0;
    return this;
  }

  u32(x: number): this {
    let k = Math.imul(x | 0, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    let a = this.a ^ k;
    a = (a << 13) | (a >>> 19);
    this.a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    let j = Math.imul(x | 0, C3) ^ this.b;
    j = (j << 17) | (j >>> 15);
    this.b = (Math.imul(j, C4) + 0x27d4eb2f) | 0;
    this.n++;
    return this;
  }

  num(x: number): this {
    if (Number.isInteger(x) && x >= -0x8000_0000 && x <= 0x7fff_ffff && !Object.is(x, -0)) return this.u32(1).u32(x);
    f64[0] = x;
    return this.u32(2).u32(u32v[0]!).u32(u32v[1]!);
  }

  str(s: string): this {
    this.u32(s.length);
    for (let i = 0; i < s.length; i++) this.u32(s.charCodeAt(i));
    return this;
  }

  big(x: bigint): this {
    const v = BigInt.asUintN(64, x);
    const neg = x < 0n ? 1 : 0;
    return this.u32(3 + neg)
      .u32(Number(v & 0xffff_ffffn))
      .u32(Number(v >> 32n));
  }

  /** Finishes into `r0`, `r1` (signed int32), as `Hash64.finish` returns them. */
  done(): this {
    let a = this.a ^ this.n;
    let b = this.b ^ this.n;
    a = (a + b) | 0;
    b = (b + a) | 0;
    a = fmix(a);
    b = fmix(b);
    a = (a + b) | 0;
    b = (b + a) | 0;
    this.r0 = a;
    this.r1 = b;
    return this;
  }
}

/** One hasher per nesting depth, for Map and Set entry digests. */
const entryHashers: Lanes[] = [];
function entryHasher(depth: number): Lanes {
  let h = entryHashers[depth];
  if (h === undefined) entryHashers[depth] = h = new Lanes();
  return h.reset(0);
}

/** Entry digests of the Maps and Sets being hashed, as a stack of (a, b) pairs. */
let stack = new Int32Array(1024);
let top = 0;

function pushPair(a: number, b: number): void {
  if (top + 2 > stack.length) {
    const s = new Int32Array(stack.length * 2);
    s.set(stack);
    stack = s;
  }
  stack[top++] = a;
  stack[top++] = b;
}

/** Sorts the pairs in stack[from, top) as `hashUnordered` does (plain subtraction of int32s), then mixes them. */
function mixUnordered(h: Lanes, from: number): void {
  const n = (top - from) >> 1;
  // Insertion sort on pairs: entry counts are small, and the order must equal Array.sort's with
  // the comparator (x, y) => x[0] - y[0] || x[1] - y[1] (a total order on distinct pairs; equal
  // pairs are interchangeable).
  for (let i = 1; i < n; i++) {
    const a = stack[from + 2 * i]!;
    const b = stack[from + 2 * i + 1]!;
    let j = i - 1;
    while (j >= 0) {
      const x = stack[from + 2 * j]!;
      const y = stack[from + 2 * j + 1]!;
      const c = x - a || y - b;
      if (c <= 0) break;
      stack[from + 2 * j + 2] = x;
      stack[from + 2 * j + 3] = y;
      j--;
    }
    stack[from + 2 * j + 2] = a;
    stack[from + 2 * j + 3] = b;
  }
  for (let i = from; i < top; i += 2) h.u32(stack[i]!).u32(stack[i + 1]!);
  top = from;
}

/** `keys`, sorted as `Array.prototype.sort` sorts strings (in place, and only when out of order). */
export function sortedKeys(keys: string[]): string[] {
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) return keys.sort();
  }
  return keys;
}

/** `hashValue` of src/core/hash.ts, digest for digest. */
export function hashInto(h: Lanes, v: unknown, depth = 0, rename: ReadonlyMap<string, string> | null = null): void {
  if (depth > MAX_DEPTH) throw new Error('hashValue: value nested deeper than 64 levels (a cycle?)');
  switch (typeof v) {
    case 'undefined':
      h.u32(10);
      return;
    case 'boolean':
      h.u32(v ? 12 : 11);
      return;
    case 'number':
      h.u32(13).num(v);
      return;
    case 'bigint':
      h.u32(14).big(v);
      return;
    case 'string':
      h.u32(15).str(rename === null ? v : (rename.get(v) ?? v));
      return;
    case 'object': {
      if (v === null) {
        h.u32(16);
        return;
      }
      if (Array.isArray(v)) {
        h.u32(17).u32(v.length);
        for (let i = 0; i < v.length; i++) hashInto(h, v[i], depth + 1, rename);
        return;
      }
      if (v instanceof Map) {
        h.u32(18).u32(v.size);
        const from = top;
        for (const [k, x] of v) {
          const e = entryHasher(depth);
          hashInto(e, k, depth + 1, rename);
          hashInto(e, x, depth + 1, rename);
          e.done();
          pushPair(e.r0, e.r1);
        }
        mixUnordered(h, from);
        return;
      }
      if (v instanceof Set) {
        h.u32(19).u32(v.size);
        const from = top;
        for (const x of v) {
          const e = entryHasher(depth);
          hashInto(e, x, depth + 1, rename);
          e.done();
          pushPair(e.r0, e.r1);
        }
        mixUnordered(h, from);
        return;
      }
      if (ArrayBuffer.isView(v)) {
        const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        h.u32(20).u32(bytes.length);
        for (let i = 0; i < bytes.length; i++) h.u32(bytes[i]!);
        return;
      }
      const keys = Object.keys(v);
      h.u32(21).u32(keys.length);
      if (rename === null) {
        const sorted = sortedKeys(keys);
        for (let i = 0; i < sorted.length; i++) {
          const k = sorted[i]!;
          h.str(k);
          hashInto(h, (v as Record<string, unknown>)[k], depth + 1, null);
        }
        return;
      }
      const images = keys.map((k) => [rename.get(k) ?? k, k] as const).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
      for (const [image, k] of images) {
        h.str(image);
        hashInto(h, (v as Record<string, unknown>)[k], depth + 1, rename);
      }
      return;
    }
    default:
      throw new Error(`hashValue: ${typeof v} is not plain data`);
  }
}
