/**
 * Stable 64-bit hashing of plain data, the same on every machine and in every process.
 *
 * `Hash64` is an incremental hasher with two independent 32-bit lanes (murmur3-style mixing),
 * used for trace hashes, state digests and explorer fingerprints. `digest(value)` hashes a value's
 * canonical form: object keys sorted, Map and Set entries sorted by their own digests, so two
 * states that are equal as data hash equally whatever order they were built in. Numbers hash by
 * their float64 bits (so -0 and 0 differ, and NaN is one value), bigints by their 64-bit words,
 * with a type tag before every value so that 1, 1n and "1" differ.
 *
 * `hashValue` can also hash a value as if some strings were replaced by others (a renaming), which
 * is how the explorer fingerprints a state under a permutation of interchangeable node ids without
 * building the permuted copy.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const C3 = 0x85ebca6b;
const C4 = 0xc2b2ae35;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

export class Hash64 {
  private a: number;
  private b: number;
  private n = 0;

  constructor(seed = 0) {
    this.a = (0x9747b28c ^ seed) | 0;
    this.b = (0x5bd1e995 ^ Math.imul(seed, 31)) | 0;
  }

  /** Mixes one 32-bit integer (any JS number is truncated to its low 32 bits). */
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

  /** Mixes a float64 exactly (both words). */
  num(x: number): this {
    if (Number.isInteger(x) && x >= -0x8000_0000 && x <= 0x7fff_ffff && !Object.is(x, -0)) {
      return this.u32(1).u32(x);
    }
    f64[0] = x;
    return this.u32(2).u32(u32[0]!).u32(u32[1]!);
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

  /** 64-bit result as 16 lower-case hex digits. */
  hex(): string {
    const [a, b] = this.finish();
    return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
  }

  /** The two 32-bit halves (signed int32). */
  finish(): [number, number] {
    let a = this.a ^ this.n;
    let b = this.b ^ this.n;
    a = (a + b) | 0;
    b = (b + a) | 0;
    a = fmix(a);
    b = fmix(b);
    a = (a + b) | 0;
    b = (b + a) | 0;
    return [a, b];
  }
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** Hash of a string alone, as an int32; cheap enough for message-type names. */
export function strHash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

const MAX_DEPTH = 64;

/**
 * Feeds the canonical form of a plain-data value into `h`. With `rename`, every string (values,
 * object keys, Map keys) found in it is hashed as its image, as if the value had been rewritten.
 */
export function hashValue(h: Hash64, v: unknown, depth = 0, rename: ReadonlyMap<string, string> | null = null): void {
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
        for (const x of v) hashValue(h, x, depth + 1, rename);
        return;
      }
      if (v instanceof Map) {
        h.u32(18).u32(v.size);
        hashUnordered(
          h,
          [...v].map(([k, x]) => {
            const e = new Hash64();
            hashValue(e, k, depth + 1, rename);
            hashValue(e, x, depth + 1, rename);
            return e.finish();
          }),
        );
        return;
      }
      if (v instanceof Set) {
        h.u32(19).u32(v.size);
        hashUnordered(
          h,
          [...v].map((x) => {
            const e = new Hash64();
            hashValue(e, x, depth + 1, rename);
            return e.finish();
          }),
        );
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
        keys.sort();
        for (const k of keys) {
          h.str(k);
          hashValue(h, (v as Record<string, unknown>)[k], depth + 1, null);
        }
        return;
      }
      // Renamed keys sort differently: order by the image, hash the original's value.
      const images = keys.map((k) => [rename.get(k) ?? k, k] as const).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
      for (const [image, k] of images) {
        h.str(image);
        hashValue(h, (v as Record<string, unknown>)[k], depth + 1, rename);
      }
      return;
    }
    default:
      throw new Error(`hashValue: ${typeof v} is not plain data`);
  }
}

function hashUnordered(h: Hash64, parts: [number, number][]): void {
  parts.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  for (const [a, b] of parts) h.u32(a).u32(b);
}

/**
 * Canonical 64-bit digest of a plain-data value, as 16 hex digits: the same value as
 * `hashValue(new Hash64(), v)` then `hex()` (a test compares them), computed by `FastDigest`.
 */
export function digest(v: unknown): string {
  return FAST.digest(v);
}

/**
 * `hashValue` without a renaming, specialised for speed (the simulator folds every node's final
 * state into the trace hash, and checks mode digests every state twice a step): the two lanes
 * live in fields mixed inline rather than through a method call per 32-bit word, strings and
 * object keys are mixed in tight loops, the sorted key order of an object shape is cached
 * (objects of one shape list their keys in one order), and Map and Set entries are hashed into a
 * saved-and-restored lane pair instead of a fresh hasher and an entries copy each. Bit for bit
 * the same result as `hashValue`.
 */
class FastDigest {
  private a = 0;
  private b = 0;
  private n = 0;
  /** Sorted keys per object shape, found by the shape's first key and compared key by key. */
  private readonly shapes = new Map<string, Shape[]>();

  digest(v: unknown): string {
    this.a = 0x9747b28c | 0;
    this.b = 0x5bd1e995 | 0;
    this.n = 0;
    this.value(v, 0);
    const [a, b] = this.finishPair();
    return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
  }

  private finishPair(): [number, number] {
    let a = this.a ^ this.n;
    let b = this.b ^ this.n;
    a = (a + b) | 0;
    b = (b + a) | 0;
    a = fmix(a);
    b = fmix(b);
    a = (a + b) | 0;
    b = (b + a) | 0;
    return [a, b];
  }

  private u32(x: number): void {
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
  }

  /** Three words at once (a tag, a kind, a value): the lanes stay in locals. */
  private u32x3(x: number, y: number, z: number): void {
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < 3; i++) {
      const w = (i === 0 ? x : i === 1 ? y : z) | 0;
      let k = Math.imul(w, C1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, C2);
      a ^= k;
      a = (a << 13) | (a >>> 19);
      a = (Math.imul(a, 5) + 0xe6546b64) | 0;
      let j = Math.imul(w, C3) ^ b;
      j = (j << 17) | (j >>> 15);
      b = (Math.imul(j, C4) + 0x27d4eb2f) | 0;
    }
    this.a = a;
    this.b = b;
    this.n += 3;
  }

  /** u32(s.length) then u32 of every UTF-16 unit, with the lanes in locals. */
  private str(s: string): void {
    this.u32(s.length);
    let a = this.a;
    let b = this.b;
    const len = s.length;
    for (let i = 0; i < len; i++) {
      const x = s.charCodeAt(i);
      let k = Math.imul(x, C1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, C2);
      a ^= k;
      a = (a << 13) | (a >>> 19);
      a = (Math.imul(a, 5) + 0xe6546b64) | 0;
      let j = Math.imul(x, C3) ^ b;
      j = (j << 17) | (j >>> 15);
      b = (Math.imul(j, C4) + 0x27d4eb2f) | 0;
    }
    this.a = a;
    this.b = b;
    this.n += len;
  }

  private num(x: number): void {
    if (Number.isInteger(x) && x >= -0x8000_0000 && x <= 0x7fff_ffff && !Object.is(x, -0)) {
      this.u32(1);
      this.u32(x);
      return;
    }
    f64[0] = x;
    const lo = u32[0]!;
    const hi = u32[1]!;
    this.u32(2);
    this.u32(lo);
    this.u32(hi);
  }

  private shape(keys: string[]): Shape {
    const first = keys.length > 0 ? keys[0]! : '';
    let list = this.shapes.get(first);
    if (list) {
      for (const sh of list) {
        const raw = sh.raw;
        if (raw.length !== keys.length) continue;
        let same = true;
        for (let i = 1; i < raw.length; i++) {
          if (raw[i] !== keys[i]) {
            same = false;
            break;
          }
        }
        if (same) return sh;
      }
    } else {
      if (this.shapes.size >= 4096) this.shapes.clear();
      this.shapes.set(first, (list = []));
    }
    const sorted = keys.slice().sort();
    const sh: Shape = { raw: keys, sorted, perm: sorted.map((k) => keys.indexOf(k)) };
    if (list.length < 16) list.push(sh);
    return sh;
  }

  /** Hashes one Map or Set entry in a fresh lane pair (seed 0) and returns its finished pair. */
  private entry(k: unknown, x: unknown, pair: boolean, depth: number): [number, number] {
    const sa = this.a;
    const sb = this.b;
    const sn = this.n;
    this.a = 0x9747b28c | 0;
    this.b = 0x5bd1e995 | 0;
    this.n = 0;
    this.value(k, depth);
    if (pair) this.value(x, depth);
    const r = this.finishPair();
    this.a = sa;
    this.b = sb;
    this.n = sn;
    return r;
  }

  private unordered(parts: [number, number][]): void {
    if (parts.length > 1) parts.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      this.u32(p[0]);
      this.u32(p[1]);
    }
  }

  private value(v: unknown, depth: number): void {
    if (depth > MAX_DEPTH) throw new Error('hashValue: value nested deeper than 64 levels (a cycle?)');
    switch (typeof v) {
      case 'undefined':
        this.u32(10);
        return;
      case 'boolean':
        this.u32(v ? 12 : 11);
        return;
      case 'number':
        if ((v | 0) === v && !Object.is(v, -0)) {
          this.u32x3(13, 1, v); // the common case of num(): an int32
          return;
        }
        this.u32(13);
        this.num(v);
        return;
      case 'bigint': {
        this.u32(14);
        if (v >= 0n && v <= 0x1f_ffff_ffff_ffffn) {
          // Exact as a double: the same two words without bigint arithmetic.
          const x = Number(v);
          const hi = Math.floor(x / 0x1_0000_0000);
          this.u32(3);
          this.u32(x - hi * 0x1_0000_0000);
          this.u32(hi);
          return;
        }
        const w = BigInt.asUintN(64, v);
        this.u32(3 + (v < 0n ? 1 : 0));
        this.u32(Number(w & 0xffff_ffffn));
        this.u32(Number(w >> 32n));
        return;
      }
      case 'string':
        this.u32(15);
        this.str(v);
        return;
      case 'object': {
        if (v === null) {
          this.u32(16);
          return;
        }
        if (Array.isArray(v)) {
          this.u32(17);
          this.u32(v.length);
          for (let i = 0; i < v.length; i++) this.value(v[i], depth + 1);
          return;
        }
        if (v instanceof Map) {
          this.u32(18);
          this.u32(v.size);
          const parts: [number, number][] = [];
          for (const [k, x] of v as Map<unknown, unknown>) parts.push(this.entry(k, x, true, depth + 1));
          this.unordered(parts);
          return;
        }
        if (v instanceof Set) {
          this.u32(19);
          this.u32(v.size);
          const parts: [number, number][] = [];
          for (const x of v as Set<unknown>) parts.push(this.entry(x, undefined, false, depth + 1));
          this.unordered(parts);
          return;
        }
        if (ArrayBuffer.isView(v)) {
          const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
          this.u32(20);
          this.u32(bytes.length);
          for (let i = 0; i < bytes.length; i++) this.u32(bytes[i]!);
          return;
        }
        // Object.values lists values in the order Object.keys lists keys; the shape's
        // permutation visits them in sorted-key order without a keyed load per property.
        const sh = this.shape(Object.keys(v));
        const vals = Object.values(v);
        const sorted = sh.sorted;
        const perm = sh.perm;
        this.u32(21);
        this.u32(sorted.length);
        for (let i = 0; i < sorted.length; i++) {
          this.str(sorted[i]!);
          this.value(vals[perm[i]!], depth + 1);
        }
        return;
      }
      default:
        throw new Error(`hashValue: ${typeof v} is not plain data`);
    }
  }
}

interface Shape {
  readonly raw: readonly string[];
  readonly sorted: readonly string[];
  /** perm[i]: where the i-th sorted key stands in `raw`. */
  readonly perm: readonly number[];
}

const FAST = new FastDigest();
