/**
 * Symmetry reduction for explorer worlds: the permutations of the declared groups of
 * interchangeable nodes, and a world's canonical fingerprint as the least fingerprint over the
 * candidate permutations (each group's members sorted by their slot hashes, ties tried in every
 * order). Per-permutation hashes of slots, packets and history entries are cached on those shared
 * immutable objects, and a part that names no interchangeable node reuses its plain hash.
 */
import { InputError } from '../../src/core/assert.ts';
import type { NodeId } from '../../src/core/contract.ts';
import { Hash64, hashValue, Lanes } from '../../src/core/hash.ts';
import type { NodeSpec } from '../../src/core/system.ts';
import type { Fp } from './model.ts';
import { type Hist, hashSlot, type Packet, type Slot, type World } from './world-state.ts';

const PERMUTATIONS_MAX = 40_320;

export interface Permutation {
  readonly order: Int32Array;
  readonly rename: ReadonlyMap<string, string>;
}

export class WorldSymmetry {
  readonly perms: readonly Permutation[];
  /** Index of each permutation in `perms`, by its order joined with commas. */
  private readonly permIndex = new Map<string, number>();
  /** Node indices of each symmetry group, ascending. */
  private readonly groupIdx: readonly (readonly number[])[];
  /** Every node id in some symmetry group. */
  private readonly symIds: ReadonlySet<string>;
  /** Scratch space, reused by every call (the explorer is single-threaded). */
  private readonly hasher = new Lanes();
  private readonly scratch: number[];
  private readonly slotLanes: Int32Array;
  private pk = new Int32Array(64);

  constructor(
    private readonly specs: readonly NodeSpec[],
    private readonly index: ReadonlyMap<NodeId, number>,
    groups: readonly (readonly string[])[],
    private readonly timed: boolean,
  ) {
    this.perms = this.buildPermutations(groups);
    this.perms.forEach((p, i) => this.permIndex.set(p.order.join(','), i));
    this.groupIdx = groups.map((g) => g.map((id) => this.index.get(id)!).sort((a, b) => a - b));
    this.symIds = new Set(groups.flat());
    this.scratch = Array.from({ length: specs.length }, (_, i) => i);
    this.slotLanes = new Int32Array(specs.length * 2);
  }

  private buildPermutations(groups: readonly (readonly string[])[]) {
    const n = this.specs.length;
    const seen = new Set<string>();
    for (const g of groups) {
      for (const id of g) {
        if (!this.index.has(id)) throw new InputError(`symmetry: unknown node '${id}' (nodes: ${this.specs.map((s) => s.id).join(', ')})`);
        if (seen.has(id)) throw new InputError(`symmetry: node '${id}' is in two groups`);
        seen.add(id);
      }
      const roles = new Set(g.map((id) => this.specs[this.index.get(id)!]!.role));
      if (roles.size > 1) throw new InputError(`symmetry: group {${g.join(', ')}} mixes roles (${[...roles].join(', ')})`);
    }
    // Every combination of one permutation per group.
    let perms: number[][] = [Array.from({ length: n }, (_, i) => i)];
    for (const g of groups) {
      const idx = g.map((id) => this.index.get(id)!);
      const out: number[][] = [];
      for (const base of perms) {
        for (const p of permutations(idx.length)) {
          const m = base.slice();
          for (let k = 0; k < idx.length; k++) m[idx[k]!] = base[idx[p[k]!]!]!;
          out.push(m);
        }
      }
      perms = out;
      if (perms.length > PERMUTATIONS_MAX) throw new InputError(`symmetry: more than ${PERMUTATIONS_MAX} permutations; declare smaller groups`);
    }
    return perms.map((order) => {
      const rename = new Map<string, string>();
      order.forEach((to, from) => {
        if (to !== from) rename.set(this.specs[from]!.id, this.specs[to]!.id);
      });
      return { order: Int32Array.from(order), rename };
    });
  }

  /**
   * The permutations worth trying: each group's members in the order of their own slot hashes,
   * and every order among members whose hashes tie. When a member's state names no member of its
   * group (true of register replicas), its slot hash is the same under every renaming, so sorting
   * by it picks the same representatives for every state of an orbit, and the least fingerprint
   * over the candidates is canonical. When it does name them, the result is still the fingerprint
   * of a permutation of the state (sound), just not always the same one per orbit.
   */
  private candidates(w: World): number[] {
    const slots = w.slots;
    const cmp = (x: number, y: number) => {
      const a = slots[x]!;
      const b = slots[y]!;
      return (a.h0 >>> 0) - (b.h0 >>> 0) || (a.h1 >>> 0) - (b.h1 >>> 0);
    };
    // Fast path: no two members of a group tie, so each group has one order and there is one
    // candidate (the same one the general construction below yields).
    const m = this.scratch;
    for (let i = 0; i < m.length; i++) m[i] = i;
    let ties = false;
    for (const g of this.groupIdx) {
      const sorted = g.slice().sort((x, y) => cmp(x, y) || x - y);
      for (let k = 1; k < sorted.length && !ties; k++) if (cmp(sorted[k - 1]!, sorted[k]!) === 0) ties = true;
      if (ties) break;
      for (let k = 0; k < g.length; k++) m[sorted[k]!] = g[k]!;
    }
    if (!ties) return [this.permIndex.get(m.join(','))!];
    let partial: number[][] = [Array.from({ length: this.specs.length }, (_, i) => i)];
    for (const g of this.groupIdx) {
      const sorted = g.slice().sort((x, y) => cmp(x, y) || x - y);
      let orders: number[][] = [[]];
      for (let k = 0; k < sorted.length; ) {
        let e = k + 1;
        while (e < sorted.length && cmp(sorted[k]!, sorted[e]!) === 0) e++;
        const tie = sorted.slice(k, e);
        const next: number[][] = [];
        for (const o of orders) for (const p of permutations(tie.length)) next.push([...o, ...p.map((i) => tie[i]!)]);
        orders = next;
        k = e;
      }
      const out: number[][] = [];
      for (const base of partial) {
        for (const ord of orders) {
          const mm = base.slice();
          for (let k = 0; k < g.length; k++) mm[ord[k]!] = g[k]!;
          out.push(mm);
        }
      }
      partial = out;
    }
    return partial.map((mm) => this.permIndex.get(mm.join(','))!);
  }

  /** The least fingerprint over the candidate permutations of the interchangeable nodes. */
  canonicalFp(w: World, out: Fp): void {
    let best0 = 0;
    let best1 = 0;
    let first = true;
    const slotLanes = this.slotLanes;
    for (const pi of this.candidates(w)) {
      if (pi === 0) {
        if (first || (w.h0 >>> 0) < (best0 >>> 0) || (w.h0 === best0 && (w.h1 >>> 0) < (best1 >>> 0))) {
          best0 = w.h0;
          best1 = w.h1;
          first = false;
        }
        continue;
      }
      const perm = this.perms[pi]!;
      for (let i = 0; i < w.slots.length; i++) {
        const s = w.slots[i]!;
        const j = perm.order[i]!;
        // A slot that names no interchangeable node hashes the same under every renaming.
        s.names ??= slotNames(s, this.symIds) ? 2 : 1;
        if (s.names === 1) {
          slotLanes[j * 2] = s.h0;
          slotLanes[j * 2 + 1] = s.h1;
          continue;
        }
        const lanes = (s.sym ??= new Int32Array(this.perms.length * 2).fill(0));
        if (lanes[pi * 2] === 0 && lanes[pi * 2 + 1] === 0) {
          const h = this.hasher.reset(0x73);
          hashSlot(h, s.up, s.halted, s.state, s.synced, s.pending, s.timers, s.lastUp, this.timed, perm.rename);
          const { r0: a, r1: b } = h.done();
          lanes[pi * 2] = a;
          lanes[pi * 2 + 1] = b | (a === 0 && b === 0 ? 1 : 0);
        }
        slotLanes[j * 2] = lanes[pi * 2]!;
        slotLanes[j * 2 + 1] = lanes[pi * 2 + 1]!;
      }
      const h = this.hasher.reset(0x77);
      for (let j = 0; j < w.slots.length; j++) h.u32(slotLanes[j * 2]!).u32(slotLanes[j * 2 + 1]!);
      h.u32(w.net.length);
      // The packets' lanes under the permutation, in ascending (unsigned) order.
      const n = w.net.length;
      if (this.pk.length < 2 * n) this.pk = new Int32Array(4 * n);
      const pk = this.pk;
      for (let i = 0; i < n; i++) {
        const l = this.packetUnder(w.net[i]!, pi);
        const x0 = l[pi * 2]!;
        const x1 = l[pi * 2 + 1]!;
        let j = i - 1;
        while (j >= 0 && ((pk[2 * j]! >>> 0) - (x0 >>> 0) || (pk[2 * j + 1]! >>> 0) - (x1 >>> 0)) > 0) {
          pk[2 * j + 2] = pk[2 * j]!;
          pk[2 * j + 3] = pk[2 * j + 1]!;
          j--;
        }
        pk[2 * j + 2] = x0;
        pk[2 * j + 3] = x1;
      }
      for (let i = 0; i < 2 * n; i += 2) h.u32(pk[i]!).u32(pk[i + 1]!);
      for (const b of w.budget) h.u32(b);
      const hl = this.histUnder(w.hist, pi);
      h.u32(hl[0]).u32(hl[1]);
      if (this.timed) h.num(w.nowUs);
      h.u32(w.violation === null ? 0 : 1);
      const { r0: a, r1: b } = h.done();
      if (first || (a >>> 0) < (best0 >>> 0) || (a === best0 && (b >>> 0) < (best1 >>> 0))) {
        best0 = a;
        best1 = b;
        first = false;
      }
    }
    out[0] = best0;
    out[1] = best1;
  }

  /** The lanes of every permutation for `p` (those of `pi` at `2 * pi`), filling them for `pi` if not yet. */
  private packetUnder(p: Packet, pi: number): Int32Array {
    const lanes = (p.sym ??= new Int32Array(this.perms.length * 2).fill(0));
    if (lanes[pi * 2] === 0 && lanes[pi * 2 + 1] === 0) {
      const perm = this.perms[pi]!;
      p.names ??= mentions(p.body, this.symIds, 0) ? 2 : 1;
      let b0 = p.b0;
      let b1 = p.b1;
      if (p.names === 2) {
        const bh = new Hash64(0x62);
        hashValue(bh, p.body, 0, perm.rename);
        [b0, b1] = bh.finish();
      }
      const [a, b] = new Hash64(0x70).u32(p.kind).u32(perm.order[p.from]!).u32(perm.order[p.to]!).str(perm.rename.get(p.reqId) ?? p.reqId).u32(b0).u32(b1).finish();
      lanes[pi * 2] = a;
      lanes[pi * 2 + 1] = b | (a === 0 && b === 0 ? 1 : 0);
    }
    return lanes;
  }

  private histUnder(x: Hist | null, pi: number): [number, number] {
    if (x === null) return [0, 0];
    const lanes = (x.sym ??= new Int32Array(this.perms.length * 2).fill(0));
    if (lanes[pi * 2] === 0 && lanes[pi * 2 + 1] === 0) {
      const prev = this.histUnder(x.prev, pi);
      x.names ??= mentions(x.ev, this.symIds, 0) ? 2 : 1;
      let e0 = x.e0;
      let e1 = x.e1;
      if (x.names === 2) {
        const eh = new Hash64(0x65);
        hashValue(eh, x.ev, 0, this.perms[pi]!.rename);
        [e0, e1] = eh.finish();
      }
      const h = new Hash64(0x68);
      if (x.prev) h.u32(prev[0]).u32(prev[1]);
      const [a, b] = h.u32(e0).u32(e1).finish();
      lanes[pi * 2] = a;
      lanes[pi * 2 + 1] = b | (a === 0 && b === 0 ? 1 : 0);
    }
    return [lanes[pi * 2]!, lanes[pi * 2 + 1]!];
  }
}

export function* permutations(n: number): Generator<number[]> {
  const a = Array.from({ length: n }, (_, i) => i);
  yield a.slice();
  // Heap's algorithm.
  const c = new Array<number>(n).fill(0);
  let i = 0;
  while (i < n) {
    if (c[i]! < i) {
      const j = i % 2 === 0 ? 0 : c[i]!;
      [a[j], a[i]] = [a[i]!, a[j]!];
      yield a.slice();
      c[i]!++;
      i = 0;
    } else {
      c[i] = 0;
      i++;
    }
  }
}

/** Does a plain-data value contain one of `ids` as a string (a value, an object key, a Map key)? */
export function mentions(v: unknown, ids: ReadonlySet<string>, depth: number): boolean {
  if (typeof v === 'string') return ids.has(v);
  if (typeof v !== 'object' || v === null || depth > 64) return false;
  if (Array.isArray(v)) return v.some((x) => mentions(x, ids, depth + 1));
  if (v instanceof Map) {
    for (const [k, x] of v) if (mentions(k, ids, depth + 1) || mentions(x, ids, depth + 1)) return true;
    return false;
  }
  if (v instanceof Set) {
    for (const x of v) if (mentions(x, ids, depth + 1)) return true;
    return false;
  }
  if (ArrayBuffer.isView(v)) return false;
  for (const k in v as Record<string, unknown>) {
    if (depth === 0 && k === 'cfg') continue;
    if (ids.has(k) || mentions((v as Record<string, unknown>)[k], ids, depth + 1)) return true;
  }
  return false;
}

/** Whether a slot's hashed parts name an interchangeable node. */
export function slotNames(s: Slot, ids: ReadonlySet<string>): boolean {
  if (mentions(s.up ? s.state : s.lastUp, ids, 0) || mentions(s.synced, ids, 1)) return true;
  return s.pending.some((p) => ids.has(p.key) || mentions(p.value, ids, 1));
}
