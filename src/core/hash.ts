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

/** Canonical 64-bit digest of a plain-data value, as 16 hex digits. */
export function digest(v: unknown): string {
  const h = new Hash64();
  hashValue(h, v);
  return h.hex();
}
