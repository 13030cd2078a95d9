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
 * `hashValue(new Hash64(), v)` then `hex()` (a test compares them), computed by `Lanes`.
 */
export function digest(v: unknown): string {
  const h = DIGEST.reset(0).value(v).done();
  return (h.r0 >>> 0).toString(16).padStart(8, '0') + (h.r1 >>> 0).toString(16).padStart(8, '0');
}

/**
 * The fast hasher: `Hash64` and `hashValue`, digest for digest, built for the hot paths (the
 * simulator folds every node's final state into the trace hash and checks mode digests every
 * state twice a step; the explorer hashes a node's state, each message and each history event on
 * every step). It allocates nothing per value: a hasher is reset instead of created and its
 * result is written into it (`r0`, `r1`); the lanes stay in locals across a string and across
 * the tag, kind and value of an int; the sorted key order of an object shape is cached (objects
 * of one shape list their keys in one order) and its values read in one `Object.values`; Map and
 * Set entries are hashed in the same lanes, saved and restored around each entry, into a shared
 * stack of digests sorted in place. Fingerprints, packet order, random seeds and trace hashes
 * depend on these digests, so they must not drift from `hashValue`'s.
 */
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

  num(x: number): this {
    if (Number.isInteger(x) && x >= -0x8000_0000 && x <= 0x7fff_ffff && !Object.is(x, -0)) return this.u32(1).u32(x);
    f64[0] = x;
    const lo = u32[0]!;
    const hi = u32[1]!;
    return this.u32(2).u32(lo).u32(hi);
  }

  /** u32(s.length) then u32 of every UTF-16 unit, with the lanes in locals. */
  str(s: string): this {
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
    return this;
  }

  big(x: bigint): this {
    if (x >= 0n && x <= 0x1f_ffff_ffff_ffffn) {
      // Exact as a double: the same two words without bigint arithmetic.
      const d = Number(x);
      const hi = Math.floor(d / 0x1_0000_0000);
      return this.u32(3)
        .u32(d - hi * 0x1_0000_0000)
        .u32(hi);
    }
    const v = BigInt.asUintN(64, x);
    return this.u32(3 + (x < 0n ? 1 : 0))
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

  /** `hashValue(this, v, depth, rename)`, digest for digest. */
  value(v: unknown, rename: ReadonlyMap<string, string> | null = null, depth = 0): this {
    if (depth > MAX_DEPTH) throw new Error('hashValue: value nested deeper than 64 levels (a cycle?)');
    switch (typeof v) {
      case 'undefined':
        this.u32(10);
        return this;
      case 'boolean':
        this.u32(v ? 12 : 11);
        return this;
      case 'number':
        if ((v | 0) === v && !Object.is(v, -0)) {
          this.u32x3(13, 1, v); // the common case of num(): an int32
          return this;
        }
        return this.u32(13).num(v);
      case 'bigint':
        return this.u32(14).big(v);
      case 'string':
        return this.u32(15).str(rename === null ? v : (rename.get(v) ?? v));
      case 'object': {
        if (v === null) return this.u32(16);
        if (Array.isArray(v)) {
          this.u32(17).u32(v.length);
          for (let i = 0; i < v.length; i++) this.value(v[i], rename, depth + 1);
          return this;
        }
        if (v instanceof Map) {
          this.u32(18).u32(v.size);
          const from = top;
          for (const [k, x] of v as Map<unknown, unknown>) this.entry(k, x, true, rename, depth + 1);
          this.unordered(from);
          return this;
        }
        if (v instanceof Set) {
          this.u32(19).u32(v.size);
          const from = top;
          for (const x of v as Set<unknown>) this.entry(x, undefined, false, rename, depth + 1);
          this.unordered(from);
          return this;
        }
        if (ArrayBuffer.isView(v)) {
          const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
          this.u32(20).u32(bytes.length);
          for (let i = 0; i < bytes.length; i++) this.u32(bytes[i]!);
          return this;
        }
        const keys = Object.keys(v);
        if (rename === null) {
          // Object.values lists values in the order Object.keys lists keys; the shape's
          // permutation visits them in sorted-key order without a keyed load per property.
          const sh = shapeOf(keys);
          const vals = Object.values(v);
          const sorted = sh.sorted;
          const perm = sh.perm;
          this.u32(21).u32(sorted.length);
          for (let i = 0; i < sorted.length; i++) {
            this.str(sorted[i]!);
            this.value(vals[perm[i]!], null, depth + 1);
          }
          return this;
        }
        // Renamed keys sort differently: order by the image, hash the original's value.
        this.u32(21).u32(keys.length);
        const images = keys.map((k) => [rename.get(k) ?? k, k] as const).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
        for (const [image, k] of images) {
          this.str(image);
          this.value((v as Record<string, unknown>)[k], rename, depth + 1);
        }
        return this;
      }
      default:
        throw new Error(`hashValue: ${typeof v} is not plain data`);
    }
  }

  /** Digests one Map or Set entry in fresh lanes (seed 0), saved and restored around it, onto the stack. */
  private entry(k: unknown, x: unknown, pair: boolean, rename: ReadonlyMap<string, string> | null, depth: number): void {
    const sa = this.a;
    const sb = this.b;
    const sn = this.n;
    this.a = 0x9747b28c | 0;
    this.b = 0x5bd1e995 | 0;
    this.n = 0;
    this.value(k, rename, depth);
    if (pair) this.value(x, rename, depth);
    this.done();
    pushPair(this.r0, this.r1);
    this.a = sa;
    this.b = sb;
    this.n = sn;
  }

  /** Sorts the digests in stack[from, top) as `hashUnordered` does (plain subtraction of int32s), then mixes them. */
  private unordered(from: number): void {
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
    for (let i = from; i < top; i += 2) this.u32(stack[i]!).u32(stack[i + 1]!);
    top = from;
  }
}

/** `hashValue(h, v, depth, rename)` on the fast hasher. */
export function hashInto(h: Lanes, v: unknown, depth = 0, rename: ReadonlyMap<string, string> | null = null): void {
  h.value(v, rename, depth);
}

/** `keys`, sorted as `Array.prototype.sort` sorts strings (in place, and only when out of order). */
export function sortedKeys(keys: string[]): string[] {
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) return keys.sort();
  }
  return keys;
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

interface Shape {
  readonly raw: readonly string[];
  readonly sorted: readonly string[];
  /** perm[i]: where the i-th sorted key stands in `raw`. */
  readonly perm: readonly number[];
}

/** Sorted keys per object shape, found by the shape's first key and compared key by key. */
const shapes = new Map<string, Shape[]>();

function shapeOf(keys: string[]): Shape {
  const first = keys.length > 0 ? keys[0]! : '';
  let list = shapes.get(first);
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
    if (shapes.size >= 4096) shapes.clear();
    shapes.set(first, (list = []));
  }
  const sorted = keys.slice().sort();
  const sh: Shape = { raw: keys, sorted, perm: sorted.map((k) => keys.indexOf(k)) };
  if (list.length < 16) list.push(sh);
  return sh;
}

const DIGEST = new Lanes();
