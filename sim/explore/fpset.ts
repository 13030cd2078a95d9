/**
 * The set of visited states: 64-bit fingerprints (two int32 lanes) in an open-addressing hash
 * table of typed arrays, with linear probing. No per-state objects or strings exist, so a state
 * costs a few dozen bytes and the garbage collector never walks the set.
 *
 * Every inserted fingerprint gets a dense id (0, 1, 2, ...) in insertion order, and the set keeps,
 * per id, the fingerprint and the id of the state it was first reached from. Following parents
 * back to an initial state gives the fingerprints of a shortest path (in breadth-first order),
 * which `path.ts` turns back into states by re-executing the model: no state is ever stored.
 *
 * Growth doubles the table when it is 70% full; a byte budget refuses growth beyond it, so a huge
 * state space stops the search with a clear reason instead of exhausting memory.
 */
import { assert } from '../../src/core/assert.ts';

const LOAD_MAX = 0.7;

export class FpSetFull extends Error {
  readonly tag = 'FpSetFull' as const;
}

/** Mixes the two lanes into a well-spread 32-bit table index (murmur3's finaliser). */
function mix(a: number, b: number): number {
  let h = (a ^ Math.imul(b, 0x9e3779b1)) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

export class FpSet {
  /**
   * The hash table, one entry of three int32s per slot: the two lanes and id + 1 (0 marks an
   * empty slot), side by side so a probe touches one cache line, not three arrays.
   */
  private table: Int32Array;
  private mask: number;
  private denseA: Int32Array;
  private denseB: Int32Array;
  private parents: Int32Array | null;
  size = 0;

  constructor(
    capacityLog2 = 16,
    private readonly bytesMax = Number.MAX_SAFE_INTEGER,
    trackParents = true,
  ) {
    assert(capacityLog2 >= 4 && capacityLog2 <= 30, 'fingerprint set capacity out of range');
    const cap = 1 << capacityLog2;
    this.table = new Int32Array(cap * 3);
    this.mask = cap - 1;
    const dense = Math.max(16, cap >>> 1);
    this.denseA = new Int32Array(dense);
    this.denseB = new Int32Array(dense);
    this.parents = trackParents ? new Int32Array(dense) : null;
  }

  /**
   * Inserts a fingerprint first reached from `parent` (-1 for an initial state). Returns the new
   * id (>= 0), or -(id + 1) of the existing entry. Throws FpSetFull past the byte budget.
   */
  insert(a: number, b: number, parent: number): number {
    const t = this.table;
    const mask = this.mask;
    let i = mix(a, b) & mask;
    for (;;) {
      const s = t[i * 3 + 2]!;
      if (s === 0) break;
      if (t[i * 3] === a && t[i * 3 + 1] === b) return -s;
      i = (i + 1) & mask;
    }
    const id = this.size;
    if (id + 1 > (this.mask + 1) * LOAD_MAX) {
      this.grow();
      return this.insert(a, b, parent);
    }
    if (id >= this.denseA.length) this.growDense();
    t[i * 3] = a;
    t[i * 3 + 1] = b;
    t[i * 3 + 2] = id + 1;
    this.denseA[id] = a;
    this.denseB[id] = b;
    if (this.parents !== null) this.parents[id] = parent;
    this.size = id + 1;
    return id;
  }

  /** The id of a fingerprint, or -1. */
  find(a: number, b: number): number {
    const t = this.table;
    let i = mix(a, b) & this.mask;
    for (;;) {
      const s = t[i * 3 + 2]!;
      if (s === 0) return -1;
      if (t[i * 3] === a && t[i * 3 + 1] === b) return s - 1;
      i = (i + 1) & this.mask;
    }
  }

  laneA(id: number): number {
    return this.denseA[id]!;
  }
  laneB(id: number): number {
    return this.denseB[id]!;
  }
  parent(id: number): number {
    assert(this.parents !== null, 'this fingerprint set does not track parents');
    return this.parents[id]!;
  }

  /** Ids from an initial state to `id`, following first-reached parents. */
  chain(id: number): number[] {
    const out: number[] = [];
    for (let x = id; x >= 0; x = this.parent(x)) {
      out.push(x);
      assert(out.length <= this.size, 'parent chain longer than the set: a cycle');
    }
    return out.reverse();
  }

  get bytes(): number {
    return this.table.byteLength + this.denseA.byteLength + this.denseB.byteLength + (this.parents?.byteLength ?? 0);
  }

  private ensureBudget(extra: number): void {
    if (this.bytes + extra > this.bytesMax) {
      throw new FpSetFull(`the fingerprint set would exceed its memory budget of ${this.bytesMax} bytes at ${this.size} states`);
    }
  }

  private grow(): void {
    const oldCap = this.mask + 1;
    const cap = oldCap * 2;
    assert(cap <= 1 << 30, 'fingerprint set larger than 2^30 slots');
    this.ensureBudget(cap * 12);
    // Re-insert by a scan of the old table from an empty slot on (so no probe run wraps around
    // the end): an entry moves to its slot or one table-width above it, so the writes sweep the
    // new table in order instead of landing at random, which is what made growth slow.
    const old = this.table;
    const oldMask = this.mask;
    const t = new Int32Array(cap * 3);
    const mask = cap - 1;
    let start = 0;
    while (old[start * 3 + 2] !== 0) start++;
    for (let k = 1; k <= oldCap; k++) {
      const j = (start + k) & oldMask;
      const s = old[j * 3 + 2]!;
      if (s === 0) continue;
      const a = old[j * 3]!;
      const b = old[j * 3 + 1]!;
      let i = mix(a, b) & mask;
      while (t[i * 3 + 2] !== 0) i = (i + 1) & mask;
      t[i * 3] = a;
      t[i * 3 + 1] = b;
      t[i * 3 + 2] = s;
    }
    this.table = t;
    this.mask = mask;
  }

  private growDense(): void {
    const n = this.denseA.length * 2;
    this.ensureBudget(n * (this.parents ? 12 : 8));
    const a = new Int32Array(n);
    a.set(this.denseA);
    this.denseA = a;
    const b = new Int32Array(n);
    b.set(this.denseB);
    this.denseB = b;
    if (this.parents) {
      const p = new Int32Array(n);
      p.set(this.parents);
      this.parents = p;
    }
  }
}

/** A FIFO of values in fixed-size chunks, so a large frontier never needs one huge array. */
export class ChunkQueue<T> {
  private chunks: T[][] = [[]];
  private head = 0;
  private count = 0;
  constructor(private readonly chunkSize = 8192) {}
  push(x: T): void {
    let last = this.chunks[this.chunks.length - 1]!;
    if (last.length === this.chunkSize) {
      last = [];
      this.chunks.push(last);
    }
    last.push(x);
    this.count++;
  }
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const first = this.chunks[0]!;
    const x = first[this.head]!;
    this.head++;
    this.count--;
    if (this.head === this.chunkSize) {
      this.chunks.shift();
      this.head = 0;
      if (this.chunks.length === 0) this.chunks.push([]);
    }
    return x;
  }
  get size(): number {
    return this.count;
  }
}
