/**
 * One worker of the parallel breadth-first search (`parallel.ts` starts them). The visited set is
 * partitioned by fingerprint: worker `w` owns the states whose fingerprint's owner hash is `w`,
 * keeps them in its own fingerprint set (`fpset.ts`) and expands them. A successor owned by
 * another worker is sent to it in batches (states plus, per state, the fingerprint, the global id
 * of the state it was reached from and the owed eventually bits) over a MessagePort per pair of
 * workers, read synchronously with `receiveMessageOnPort`; a shared Int32Array carries a wake-up
 * counter per worker (Atomics.wait/notify), the level barrier, the stop flag, the state budget and
 * the frontier sums.
 *
 * The search is level-synchronous, as TLC's breadth-first search is in effect: every worker
 * expands its part of level L, sends what it found for others and a last batch, receives every
 * peer's last batch, and all meet at a barrier before level L + 1. Every state is therefore
 * discovered at its shortest distance from an initial state, as in the sequential search, so the
 * unique-state count, the number of transitions, the depth and every verdict equal the sequential
 * explorer's, and a violation is found at the same (shortest) depth, possibly through another
 * path of that length. Paths are rebuilt after the search from the parents the owners recorded
 * (global ids: local id * workers + worker).
 */
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { assert } from '../../src/core/assert.ts';
import { ChunkQueue, FpSet, FpSetFull } from './fpset.ts';
import { Judge, StateKey } from './judge.ts';
import type { Model, Property, PropertyKind } from './model.ts';
import { buildModel, type Sets } from './registry.ts';

/** Slots of the shared control array. */
export const C_STOP = 0;
export const C_GEN = 1;
export const C_ARRIVED = 2;
export const C_CLAIMED = 3;
export const C_VIOLATIONS = 4;
/** Three rotating slots for the next frontier's size per level. */
export const C_SUM = 5;
/** One wake-up counter per worker from here. */
export const C_MAIL = 8;

export const STOP_VIOLATION = 1;
export const STOP_LIMIT = 2;
export const STOP_MEMORY = 3;
export const STOP_ERROR = 4;

/** States per batch sent to another worker. */
const BATCH = 4096;
const CLAIM_CHUNK = 1024;
const PROGRESS_EVERY = 1 << 16;

export interface ModelSpec {
  readonly model: string;
  readonly sets: Sets;
  readonly variant: string | null;
}

export interface ParallelOptions {
  readonly depthMax: number;
  readonly statesMax: number;
  readonly memoryBytesMax: number;
  readonly symmetry: boolean;
  readonly violationsMax: number;
}

export interface WorkerInit {
  readonly spec: ModelSpec;
  readonly plugins: readonly string[];
  readonly opts: ParallelOptions;
  readonly index: number;
  readonly n: number;
  readonly ctrl: SharedArrayBuffer;
  /** peers[j]: the port to worker j (null at this worker's own index). */
  readonly peers: readonly (MessagePort | null)[];
}

export interface Found {
  readonly property: string;
  readonly kind: PropertyKind;
  readonly message: string;
  /** Global id of the state (local id * workers + worker). */
  readonly gid: number;
  readonly depth: number;
}

export interface WorkerDone {
  readonly type: 'done';
  readonly statesGenerated: number;
  readonly uniqueStates: number;
  readonly maxDepth: number;
  readonly depthLimitHit: boolean;
  readonly bytes: number;
  readonly memoryFull: string | null;
  readonly violations: readonly Found[];
  readonly witnesses: Readonly<Record<string, { gid: number; depth: number } | null>>;
}

export interface Progress {
  readonly type: 'progress';
  readonly uniqueStates: number;
  readonly statesGenerated: number;
  readonly depth: number;
}

interface Batch {
  readonly states: Float64Array | unknown[];
  readonly meta: Int32Array;
  readonly count: number;
  readonly last: boolean;
}

/**
 * A mix of a fingerprint (murmur3's finaliser over both lanes, with other constants than the
 * fingerprint set's table index). Its high bits choose the owner and its low bits the slot of
 * the sent cache: a multiplication carries bits only upwards, so the low bits of a mix are the
 * weakest, and the owner must not follow the parent's (a 2pc successor differs from its parent
 * in a few low bits).
 */
function spread(a: number, b: number): number {
  let h = (a ^ Math.imul(b ^ 0x5bd1e995, 0x27d4eb2d)) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The owner among `n` workers of a mix: its high bits, scaled (multiply-shift). */
function ownerOfSpread(h: number, n: number): number {
  return Math.floor((h * n) / 4294967296);
}

/** Which worker owns a fingerprint. */
export function ownerOf(a: number, b: number, n: number): number {
  return ownerOfSpread(spread(a, b), n);
}

/**
 * Slots of the cache of fingerprints already sent to other workers: most successors are states
 * reached before (a state of 2pc is reached about 12 times), and a repeat found here is not sent.
 * A hit is always right (what was sent reaches its owner), a miss only costs a message entry.
 */
const SENT_LOG2 = 16;

class Halt extends Error {}

/** Runs this worker's part of the search; `post` sends progress to the main thread. */
export function runWorker(init: WorkerInit, post: (m: Progress) => void): { done: WorkerDone; set: FpSet } {
  const model = buildModel(init.spec.model, init.spec.sets, init.spec.variant) as Model<unknown, unknown>;
  return search(model, init, post);
}

export function search<S, A>(model: Model<S, A>, init: WorkerInit, post: (m: Progress) => void): { done: WorkerDone; set: FpSet } {
  const { opts, index: me, n } = init;
  const ctrl = new Int32Array(init.ctrl);
  assert(n >= 2 && ctrl.length >= C_MAIL + n, 'parallel search: bad control block');
  const key = new StateKey(model, opts.symmetry);
  const judge = new Judge(model, key, Number.MAX_SAFE_INTEGER);
  const set = new FpSet(16, Math.max(1 << 20, Math.floor(opts.memoryBytesMax / n)), true);
  const useE = key.ebitsAll !== 0;
  const finals = judge.hasFinals;
  const isFault = model.isFault?.bind(model) ?? null;
  const sometimes = model.properties.filter((p): p is Extract<Property<S>, { kind: 'sometimes' }> => p.kind === 'sometimes');
  const witnesses: Record<string, { gid: number; depth: number } | null> = {};
  for (const p of sometimes) witnesses[p.name] = null;
  let pending = sometimes.slice();
  const violations: Found[] = [];
  const numeric = typeof model.initStates()[0] === 'number';
  const gidLimit = Math.floor(0x7fff_ffff / n);

  let statesGenerated = 0;
  let uniqueStates = 0;
  let maxDepth = 0;
  let depthLimitHit = false;
  let memoryFull: string | null = null;
  let quota = 0;
  let level = 0;
  let cur = { s: new ChunkQueue<S>(), id: new ChunkQueue<number>(), e: new ChunkQueue<number>() };
  let nxt = { s: new ChunkQueue<S>(), id: new ChunkQueue<number>(), e: new ChunkQueue<number>() };
  let frontierPeak = 0;

  const stop = (why: number) => {
    Atomics.compareExchange(ctrl, C_STOP, 0, why);
    for (let j = 0; j < n; j++) Atomics.notify(ctrl, C_MAIL + j);
    Atomics.notify(ctrl, C_GEN);
  };
  const stopped = () => Atomics.load(ctrl, C_STOP) !== 0;

  /** One more state within --max-states, claimed from the shared budget in chunks. */
  const claim = (): boolean => {
    if (quota > 0) {
      quota--;
      return true;
    }
    for (;;) {
      const c = Atomics.load(ctrl, C_CLAIMED);
      if (c >= opts.statesMax) return false;
      const left = opts.statesMax - c;
      const take = Math.max(1, Math.min(CLAIM_CHUNK, Math.floor(left / (4 * n))));
      if (Atomics.compareExchange(ctrl, C_CLAIMED, c, c + take) === c) {
        quota = take - 1;
        return true;
      }
    }
  };

  const gidOf = (id: number): number => {
    assert(id < gidLimit, 'parallel search: more states per worker than global ids can name');
    return id * n + me;
  };

  const found = (property: string, kind: PropertyKind, message: string, id: number, depth: number) => {
    violations.push({ property, kind, message, gid: gidOf(id), depth });
    if (Atomics.add(ctrl, C_VIOLATIONS, 1) + 1 >= opts.violationsMax) {
      stop(STOP_VIOLATION);
      throw new Halt();
    }
  };

  // Judges a newly discovered state; returns false when it must not be expanded.
  const discovered = (t: S, id: number, depth: number): boolean => {
    if (!claim()) {
      stop(STOP_LIMIT);
      throw new Halt();
    }
    uniqueStates++;
    if (depth > maxDepth) maxDepth = depth;
    const v = judge.checkAlways(t);
    if (v !== null) {
      found(v.property, 'always', v.message, id, depth);
      return false;
    }
    if (pending.length > 0) {
      for (const p of pending) if (p.holds(t)) witnesses[p.name] = { gid: gidOf(id), depth };
      pending = pending.filter((p) => witnesses[p.name] === null);
    }
    if (Atomics.load(ctrl, C_CLAIMED) >= opts.statesMax && quota === 0) {
      stop(STOP_LIMIT);
      throw new Halt();
    }
    return true;
  };

  // Outgoing batches, one per peer.
  const outS: (Float64Array | unknown[])[] = [];
  const outM: Int32Array[] = [];
  const outN: number[] = [];
  const fresh = (j: number) => {
    outS[j] = numeric ? new Float64Array(BATCH) : new Array<unknown>(BATCH);
    outM[j] = new Int32Array(BATCH * 4);
    outN[j] = 0;
  };
  for (let j = 0; j < n; j++) fresh(j);
  const flush = (j: number, last: boolean) => {
    const port = init.peers[j]!;
    const m = outM[j]!;
    const s = outS[j]!;
    const count = outN[j]!;
    const batch: Batch = { states: s, meta: m, count, last };
    if (s instanceof Float64Array) port.postMessage(batch, [s.buffer as ArrayBuffer, m.buffer as ArrayBuffer]);
    else {
      s.length = count;
      port.postMessage(batch, [m.buffer as ArrayBuffer]);
    }
    Atomics.add(ctrl, C_MAIL + j, 1);
    Atomics.notify(ctrl, C_MAIL + j);
    fresh(j);
  };

  let lasts = 0;
  /** Takes in every batch waiting; returns whether there was one. */
  const drain = (): boolean => {
    let got = false;
    for (let j = 0; j < n; j++) {
      const port = init.peers[j];
      if (port === null || port === undefined) continue;
      for (;;) {
        const r = receiveMessageOnPort(port);
        if (r === undefined) break;
        got = true;
        const b = r.message as Batch;
        const meta = b.meta;
        for (let i = 0; i < b.count; i++) {
          const id = set.insert(meta[i * 4]!, meta[i * 4 + 1]!, meta[i * 4 + 2]!);
          if (id < 0) continue;
          const t = b.states[i] as S;
          if (!discovered(t, id, level + 1)) continue;
          nxt.s.push(t);
          nxt.id.push(id);
          if (useE) nxt.e.push(meta[i * 4 + 3]!);
        }
        if (b.last) lasts++;
      }
    }
    return got;
  };

  const barrier = () => {
    const gen = Atomics.load(ctrl, C_GEN);
    if (Atomics.add(ctrl, C_ARRIVED, 1) === n - 1) {
      Atomics.store(ctrl, C_ARRIVED, 0);
      Atomics.add(ctrl, C_GEN, 1);
      Atomics.notify(ctrl, C_GEN);
      return;
    }
    // A stop releases the barrier too: a stopped worker leaves wherever it is.
    while (Atomics.load(ctrl, C_GEN) === gen && !stopped()) Atomics.wait(ctrl, C_GEN, gen, 1000);
  };

  const fp = new Int32Array(2);
  const raw = new Int32Array(2);
  const rawNext = new Int32Array(2);
  // One cache for all peers: the owner is a function of the fingerprint.
  const sent = new Int32Array(3 << SENT_LOG2);
  const sentMask = (1 << SENT_LOG2) - 1;
  try {
    // Initial states: each worker takes the ones it owns.
    for (const s of model.initStates()) {
      const e = useE ? key.settle(s, key.ebitsAll) : 0;
      key.key(s, e, fp);
      if (ownerOf(fp[0]!, fp[1]!, n) !== me) continue;
      const r = set.insert(fp[0]!, fp[1]!, -1);
      if (r < 0) continue;
      if (!discovered(s, r, 0)) continue;
      cur.s.push(s);
      cur.id.push(r);
      if (useE) cur.e.push(e);
    }
    const acts: A[] = [];
    for (;;) {
      if (cur.s.size > frontierPeak) frontierPeak = cur.s.size;
      let expanded = 0;
      lasts = 0;
      while (cur.s.size > 0) {
        const s = cur.s.shift()!;
        const id = cur.id.shift()!;
        const e = useE ? cur.e.shift()! : 0;
        if ((++expanded & 255) === 0) {
          if (stopped()) throw new Halt();
          drain();
        }
        if (level >= opts.depthMax) {
          depthLimitHit = true;
          if (finals) {
            const f = judge.checkFinal(s, e, true);
            if (f !== null) found(f.property, f.kind, f.message, id, level);
          }
          continue;
        }
        acts.length = 0;
        model.actions(s, acts);
        let progress = !finals;
        if (finals) model.fingerprint(s, raw);
        const gid = gidOf(id);
        // The state's own key: a successor with it is a self-loop, known without a probe.
        const sa = set.laneA(id);
        const sb = set.laneB(id);
        for (let i = 0; i < acts.length; i++) {
          const a = acts[i]!;
          const t = model.next(s, a, acts);
          if (t === null) continue;
          statesGenerated++;
          if ((statesGenerated & (PROGRESS_EVERY - 1)) === 0) post({ type: 'progress', uniqueStates, statesGenerated, depth: level });
          if (!progress && (isFault === null || !isFault(a))) {
            model.fingerprint(t, rawNext);
            progress = rawNext[0] !== raw[0] || rawNext[1] !== raw[1];
          }
          const te = useE ? key.settle(t, e) : 0;
          key.key(t, te, fp);
          const fa = fp[0]!;
          const fb = fp[1]!;
          if (fa === sa && fb === sb) continue;
          const h = spread(fa, fb);
          const w = ownerOfSpread(h, n);
          if (w === me) {
            const r = set.insert(fa, fb, gid);
            if (r < 0) continue;
            if (!discovered(t, r, level + 1)) continue;
            nxt.s.push(t);
            nxt.id.push(r);
            if (useE) nxt.e.push(te);
            continue;
          }
          const slot = (h & sentMask) * 3;
          if (sent[slot] === fa && sent[slot + 1] === fb && sent[slot + 2] === 1) continue;
          sent[slot] = fa;
          sent[slot + 1] = fb;
          sent[slot + 2] = 1;
          const k = outN[w]!;
          (outS[w] as unknown[])[k] = t;
          const m = outM[w]!;
          m[k * 4] = fa;
          m[k * 4 + 1] = fb;
          m[k * 4 + 2] = gid;
          m[k * 4 + 3] = te;
          outN[w] = k + 1;
          if (k + 1 === BATCH) flush(w, false);
        }
        if (!progress) {
          const f = judge.checkFinal(s, e, false);
          if (f !== null) found(f.property, f.kind, f.message, id, level);
        }
      }
      for (let j = 0; j < n; j++) if (j !== me) flush(j, true);
      // Every peer's last batch of this level, then the barrier.
      while (lasts < n - 1) {
        if (stopped()) throw new Halt();
        const seen = Atomics.load(ctrl, C_MAIL + me);
        if (drain()) continue;
        Atomics.wait(ctrl, C_MAIL + me, seen, 200);
      }
      if (me === 0) Atomics.store(ctrl, C_SUM + ((level + 1) % 3), 0);
      Atomics.add(ctrl, C_SUM + (level % 3), nxt.s.size);
      barrier();
      if (stopped()) break;
      const total = Atomics.load(ctrl, C_SUM + (level % 3));
      if (total === 0) break;
      level++;
      const tmp = cur;
      cur = nxt;
      nxt = tmp;
    }
  } catch (e) {
    if (e instanceof FpSetFull) {
      memoryFull = e.message;
      stop(STOP_MEMORY);
    } else if (!(e instanceof Halt)) {
      stop(STOP_ERROR);
      throw e;
    }
  }
  return {
    done: {
      type: 'done',
      statesGenerated,
      uniqueStates,
      maxDepth,
      depthLimitHit,
      bytes: set.bytes + frontierPeak * (useE ? 24 : 16),
      memoryFull,
      violations,
      witnesses,
    },
    set,
  };
}

/** Questions the main thread asks a worker after its search. */
export interface NodeQuery {
  readonly type: 'node';
  readonly id: number;
}
export interface NodeAnswer {
  readonly type: 'node';
  readonly a: number;
  readonly b: number;
  readonly parent: number;
}
export interface WorkerFailed {
  readonly type: 'error';
  readonly error: string;
}

/** A worker's whole life: the search, its report, then answers about its states. */
export function serveWorker(init: WorkerInit, port: MessagePort): void {
  let set: FpSet;
  try {
    const r = runWorker(init, (m) => port.postMessage(m));
    set = r.set;
    port.postMessage(r.done);
  } catch (e) {
    port.postMessage({ type: 'error', error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) } satisfies WorkerFailed);
    return;
  }
  port.on('message', (q: NodeQuery) => {
    const id = q.id;
    const ok = id >= 0 && id < set.size;
    port.postMessage({ type: 'node', a: ok ? set.laneA(id) : 0, b: ok ? set.laneB(id) : 0, parent: ok ? set.parent(id) : -2 } satisfies NodeAnswer);
  });
}
