/**
 * The compact trace encoding (format version 2, docs/trace-format.md): pure code shared by the
 * writer (`trace.ts`), every reader (replay, shrink, the viewer's loader and server) and the
 * viewer's browser client (the self-contained page decodes its embedded trace with it).
 *
 * Encoding (`TraceEncoder`): records arrive as the simulator (or the explorer) built them, with
 * raw values (bigints, Maps, Sets) and a step's `state` the node's whole raw state. It writes:
 * - payloads in the display encoding (`src/core/json.ts`), with every object found in an input's
 *   or an effect's fields (message bodies, request bodies, persisted values, history events)
 *   interned by identity, and every string of INTERN_STRING_MIN characters or more interned by
 *   value: the first use writes a `blob` record `{type:"blob", id, v}`, every use `{"$ref": id}`.
 *   An object of the data whose only key starts with "$" is escaped as `{"$o": object}`;
 * - a step's state as `s` (a full snapshot) or `d` (the change since the node's previous state in
 *   the trace, a list of operations on paths, below); a snapshot every `snapshotEvery` steps of a
 *   node, and at every boot (start and restart: a crash loses the state, the boot writes it whole).
 *
 * Operations of `d`, applied in order to the previous state (display values):
 *   [0, path, value]  set the key or index at path (an index equal to the length appends)
 *   [1, path]         delete the object key at path
 *   [2, path, n]      truncate the array at path to length n
 * A path is a list of object keys (strings) and array indices (numbers); [0, [], v] replaces the
 * whole state.
 *
 * The diff runs on the raw state against the encoder's shadow of what it last wrote. Machines
 * update their state in place (src/core/contract.ts; measured: the top-level state object is the
 * same object after >99% of steps of wf-crash-storm), so a container's identity proves nothing
 * and every container of the state is walked; but an object reached from an input or an effect
 * is immutable by contract (checks mode freezes it), and most of a state is such objects (log
 * records, metalog entries, message bodies: 78% of the values of wf-crash-storm's states), so
 * the walk stops at them: the same sealed object is the same value. Decoding (`TraceDecoder`) turns compact records back into the expanded form
 * (version-1 shape: `state` the full display state), which is what every consumer reads.
 */

/** Strings at least this long are written once and referenced afterwards. */
export const INTERN_STRING_MIN = 48;
/** Default number of a node's steps between two full snapshots of its state. */
export const SNAPSHOT_EVERY_DEFAULT = 200;
const DEPTH_MAX = 64;

export type Path = (string | number)[];
export type Op = [0, Path, unknown] | [1, Path] | [2, Path, number];

type Emit = (rec: Record<string, unknown>) => void;

const isPlainObj = (v: object): boolean => !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Set) && !ArrayBuffer.isView(v);

function mapHasStringKeys(m: Map<unknown, unknown>): boolean {
  for (const k of m.keys()) if (typeof k !== 'string') return false;
  return true;
}

/**
 * The encoder's copy of what it last wrote of a node's state (its "shadow"), one node per
 * container of the raw state that may still change. A shadow value is one of:
 * - a scalar in display terms (a number, string, boolean, bigint, `null` for null and undefined,
 *   "<function>", "<n bytes>", "…" beyond the depth limit);
 * - a sealed raw object (reachable from an input or an effect, so immutable by the machine
 *   contract, src/core/contract.ts): what was written is its display form, which cannot change;
 * - a `Shadow` node: an object (plain, or a Map whose keys are all strings), an array (or Set),
 *   or a Map with a key that is not a string (displayed as [key, value] pairs), holding the shadow
 *   values of its entries in the raw value's iteration order.
 * Shadow nodes are owned by one parent each (never shared), so the encoder updates them in place.
 */
abstract class Shadow {}
/** Display form: an object. `keys[i]`'s value is `vals[i]`, in the raw value's key order. */
class ShObj extends Shadow {
  constructor(
    public keys: string[],
    public vals: unknown[],
  ) {
    super();
  }
}
/** Display form: an array (a raw array or Set). */
class ShArr extends Shadow {
  constructor(public vals: unknown[]) {
    super();
  }
}
/** Display form: an array of [key, value] pairs (a Map with a key that is not a string). */
class ShPairs extends Shadow {
  constructor(
    public keys: unknown[],
    public vals: unknown[],
  ) {
    super();
  }
}

/** Whether two scalars (a raw one and a shadow one) have the same display form. */
function sameScalar(shadow: unknown, raw: unknown): boolean {
  if (shadow === raw) return true;
  switch (typeof raw) {
    case 'undefined':
      return shadow === null;
    case 'number':
      return raw !== raw && typeof shadow === 'number' && shadow !== shadow;
    case 'bigint':
      return typeof shadow === 'bigint' && BigInt.asUintN(64, shadow) === BigInt.asUintN(64, raw);
    case 'function':
      return shadow === '<function>';
    default:
      return false;
  }
}

/** The shadow form of a scalar. */
function shadowScalar(raw: unknown): unknown {
  return raw === undefined ? null : typeof raw === 'function' ? '<function>' : raw;
}

export class TraceEncoder {
  private readonly objBlobs = new WeakMap<object, number>();
  private readonly strBlobs = new Map<string, number>();
  /**
   * Objects reachable from an input or an effect: immutable by the machine contract, so a state
   * that holds one still holds the same value as long as it holds the same object. Only those
   * checks mode freezes (see `seal`).
   */
  private readonly sealed = new WeakSet<object>();
  /** Payload objects that reach a Map, a Set or a byte array: compared by content, never sealed. */
  private readonly unsealable = new WeakSet<object>();
  /** Off for a trace that records no states (its header says level "events"). */
  private sealing = true;
  private nextBlob = 0;
  /** Per node: the shadow of the state last written, and steps since its last snapshot. */
  private readonly prev = new Map<string, { shadow: unknown; since: number }>();
  private emit: Emit;
  /** Blob records written (for the bench's figures). */
  blobCount = 0;
  private interning = true;

  constructor(
    emit: Emit,
    private readonly snapshotEvery = SNAPSHOT_EVERY_DEFAULT,
  ) {
    this.emit = emit;
  }

  /** Encodes one record; blob records it needs are emitted before it. */
  encode(r: Record<string, unknown>): void {
    switch (r.type) {
      case 'step':
        return this.emit(this.step(r));
      case 'boot': {
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(r)) if (k !== 'state') out[k] = this.enc(r[k], 0);
        if ('state' in r) {
          if (typeof r.node === 'string') this.prev.set(r.node, { shadow: this.mirror(r.state, 0), since: 0 });
          out.s = this.enc(r.state, 0);
        }
        return this.emit(out);
      }
      case 'history':
      case 'violation':
        return this.emit(this.payloads(r));
      case 'header':
      case 'end': {
        // A trace without states has no use for what is sealed.
        if (r.type === 'header') this.sealing = r.level !== 'events';
        // The header comes first and is read alone, the end record is read (and edited) by
        // tools: nothing in them is interned.
        this.interning = false;
        const h = this.enc(r, 0) as Record<string, unknown>;
        this.interning = true;
        return this.emit(h);
      }
      default:
        return this.emit(this.enc(r, 0) as Record<string, unknown>);
    }
  }

  /** Drops what is known of a node's state (it crashed): its next state is a snapshot. */
  forget(node: string): void {
    this.prev.delete(node);
  }

  private step(r: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(r)) {
      if (k === 'state') continue;
      const v = r[k];
      if (k === 'input') {
        this.seal(v, 0);
        out.input = this.payloadObj(v);
      } else if (k === 'effects' && Array.isArray(v)) {
        for (const e of v) this.seal(e, 0);
        out.effects = v.map((e) => this.payloadObj(e));
      } else out[k] = this.enc(v, 0);
    }
    if ('state' in r) {
      const node = typeof r.node === 'string' ? r.node : null;
      const p = node === null ? undefined : this.prev.get(node);
      if (p === undefined || p.since + 1 >= this.snapshotEvery) {
        out.s = this.enc(r.state, 0);
        if (node !== null) this.prev.set(node, { shadow: this.mirror(r.state, 0), since: 0 });
      } else {
        const ops: Op[] = [];
        if (p.shadow !== r.state) p.shadow = this.sync(p.shadow, r.state, [], ops);
        out.d = ops;
        p.since++;
      }
    }
    return out;
  }

  /**
   * Marks what a payload reaches as immutable, where checks mode enforces it: an object or array
   * is sealed when nothing below it is a Map, a Set or a byte array (which checks mode cannot
   * freeze). Returns whether `v` is (now) sealed or a scalar.
   */
  private seal(v: unknown, depth: number): boolean {
    if (typeof v !== 'object' || v === null || !this.sealing) return true;
    if (this.sealed.has(v)) return true;
    if (depth > DEPTH_MAX || this.unsealable.has(v) || v instanceof Map || v instanceof Set || ArrayBuffer.isView(v)) return false;
    let ok = true;
    if (Array.isArray(v)) {
      for (const x of v) if (!this.seal(x, depth + 1)) ok = false;
    } else for (const k of Object.keys(v)) if (!this.seal((v as Record<string, unknown>)[k], depth + 1)) ok = false;
    if (ok) this.sealed.add(v);
    else this.unsealable.add(v);
    return ok;
  }

  /** A record whose object-valued fields are payloads (history bodies, a violation's input). */
  private payloads(r: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const history = r.type === 'history';
    for (const k of Object.keys(r)) {
      const v = r[k];
      // A history record's fields come from effects (written before the step that returned
      // them); a violation's other fields are the checker's, written as they are.
      if (history || k === 'input') this.seal(v, 0);
      out[k] = k === 'input' ? this.payloadObj(v) : history ? this.internObj(v) : this.enc(v, 0);
    }
    return out;
  }

  /** An input or effect: its object-valued fields are interned by identity. */
  private payloadObj(v: unknown): unknown {
    if (typeof v !== 'object' || v === null || !isPlainObj(v)) return this.enc(v, 0);
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o)) out[k] = this.internObj(o[k]);
    return escape(out);
  }

  private internObj(v: unknown): unknown {
    if (typeof v !== 'object' || v === null) return this.enc(v, 1);
    const have = this.objBlobs.get(v);
    if (have !== undefined) return { $ref: have };
    const enc = this.enc(v, 1);
    const id = this.nextBlob++;
    this.emit({ type: 'blob', id, v: enc });
    this.blobCount++;
    this.objBlobs.set(v, id);
    return { $ref: id };
  }

  /** The display encoding with interning (long strings; objects already interned). */
  enc(v: unknown, depth: number): unknown {
    if (depth > DEPTH_MAX) return '…';
    switch (typeof v) {
      case 'bigint':
        return '0x' + hex16(v);
      case 'undefined':
        return null;
      case 'string': {
        if (v.length < INTERN_STRING_MIN || !this.interning) return v;
        let id = this.strBlobs.get(v);
        if (id === undefined) {
          id = this.nextBlob++;
          this.emit({ type: 'blob', id, v });
          this.blobCount++;
          this.strBlobs.set(v, id);
        }
        return { $ref: id };
      }
      case 'function':
        return '<function>';
      case 'object': {
        if (v === null) return null;
        const have = this.objBlobs.get(v);
        if (have !== undefined) return { $ref: have };
        if (Array.isArray(v)) return v.map((x) => this.enc(x, depth + 1));
        if (v instanceof Set) return [...v].map((x) => this.enc(x, depth + 1));
        if (v instanceof Map) {
          if (mapHasStringKeys(v)) {
            const o: Record<string, unknown> = {};
            for (const [k, x] of v) o[k as string] = this.enc(x, depth + 1);
            return escape(o);
          }
          return [...v].map(([k, x]) => [this.enc(k, depth + 1), this.enc(x, depth + 1)]);
        }
        if (ArrayBuffer.isView(v)) return `<${v.byteLength} bytes>`;
        const o: Record<string, unknown> = {};
        for (const k of Object.keys(v)) o[k] = this.enc((v as Record<string, unknown>)[k], depth + 1);
        return escape(o);
      }
      default:
        return v;
    }
  }

  /** The shadow of a raw value at a depth (what `enc` writes for it, in shadow form). */
  private mirror(v: unknown, depth: number): unknown {
    if (depth > DEPTH_MAX) return '…';
    if (typeof v !== 'object' || v === null) return shadowScalar(v);
    if (ArrayBuffer.isView(v)) return `<${v.byteLength} bytes>`;
    if (this.sealed.has(v)) return v;
    return this.mirrorNode(v, depth);
  }

  /** A shadow node of a container (sealed or not); its entries are mirrored. */
  private mirrorNode(v: object, depth: number): Shadow {
    const d = depth + 1;
    if (Array.isArray(v)) {
      const vals = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) vals[i] = this.mirror(v[i], d);
      return new ShArr(vals);
    }
    if (v instanceof Set) {
      const vals: unknown[] = [];
      for (const x of v) vals.push(this.mirror(x, d));
      return new ShArr(vals);
    }
    if (v instanceof Map) {
      const keys: unknown[] = [];
      const vals: unknown[] = [];
      let strings = true;
      for (const [k, x] of v) {
        if (typeof k !== 'string') strings = false;
        keys.push(k);
        vals.push(x);
      }
      if (strings) {
        for (let i = 0; i < vals.length; i++) vals[i] = this.mirror(vals[i], d);
        return new ShObj(keys as string[], vals);
      }
      // Pairs [key, value] sit one level deeper than the Map's entries.
      for (let i = 0; i < vals.length; i++) {
        keys[i] = this.mirror(keys[i], d + 1);
        vals[i] = this.mirror(vals[i], d + 1);
      }
      return new ShPairs(keys, vals);
    }
    const keys = Object.keys(v);
    const vals = new Array<unknown>(keys.length);
    for (let i = 0; i < keys.length; i++) vals[i] = this.mirror((v as Record<string, unknown>)[keys[i]!], d);
    return new ShObj(keys, vals);
  }

  /**
   * Appends to `ops` what turns the display form of `shadow` (what was last written at `path`)
   * into the display form of `raw`, and returns the shadow of `raw` (`shadow` itself, updated in
   * place, where the shape held). Called only when `raw !== shadow`: the same sealed object, or
   * the same scalar, is the same display. It walks every container of the state that may have
   * changed (machines update their state in place, so a container's identity proves nothing) but
   * not into sealed objects, and allocates only for what changed.
   */
  private sync(shadow: unknown, raw: unknown, path: Path, ops: Op[]): unknown {
    const depth = path.length;
    if (depth > DEPTH_MAX) {
      if (shadow === '…') return shadow;
      ops.push([0, path.slice(), '…']);
      return '…';
    }
    if (typeof raw !== 'object' || raw === null) {
      if (sameScalar(shadow, raw)) return shadow;
      ops.push([0, path.slice(), this.enc(raw, depth)]);
      return shadowScalar(raw);
    }
    if (ArrayBuffer.isView(raw)) {
      const d = `<${raw.byteLength} bytes>`;
      if (shadow === d) return shadow;
      ops.push([0, path.slice(), d]);
      return d;
    }
    if (!(shadow instanceof Shadow)) {
      // What was written is a scalar, or a sealed object other than `raw`.
      if (this.sealed.has(raw)) {
        const id = this.objBlobs.get(raw);
        if (id !== undefined) {
          ops.push([0, path.slice(), { $ref: id }]);
          return raw;
        }
      }
      if (typeof shadow !== 'object' || shadow === null) return this.replace(raw, path, ops);
      const was = this.mirrorNode(shadow, depth);
      const now = this.syncNode(was, raw, path, ops);
      return this.sealed.has(raw) ? raw : now;
    }
    return this.syncNode(shadow, raw, path, ops);
  }

  /** `sync` of a container against a shadow node. */
  private syncNode(shadow: Shadow, raw: object, path: Path, ops: Op[]): unknown {
    const depth = path.length;
    if (Array.isArray(raw)) {
      if (!(shadow instanceof ShArr)) return this.replace(raw, path, ops);
      const a = shadow.vals;
      const len = raw.length;
      const n = Math.min(a.length, len);
      for (let i = 0; i < n; i++) this.slot(a, i, raw[i], i, path, ops);
      this.truncate(a, len, path, ops);
      for (let i = n; i < len; i++) this.append(a, raw[i], path, i, ops);
      return shadow;
    }
    if (raw instanceof Set) {
      if (!(shadow instanceof ShArr)) return this.replace(raw, path, ops);
      const a = shadow.vals;
      let i = 0;
      for (const x of raw) {
        if (i < a.length) this.slot(a, i, x, i, path, ops);
        else this.append(a, x, path, i, ops);
        i++;
      }
      this.truncate(a, i, path, ops);
      return shadow;
    }
    if (raw instanceof Map) {
      if (shadow instanceof ShObj) {
        const mark = ops.length;
        const ks = shadow.keys;
        const vs = shadow.vals;
        let i = 0;
        let inOrder = true;
        for (const [k, x] of raw) {
          if (typeof k !== 'string') {
            ops.length = mark; // the display is no longer an object: replace it whole
            return this.replace(raw, path, ops);
          }
          if (!inOrder) continue;
          if (i >= ks.length || ks[i] !== k) {
            inOrder = false;
            continue;
          }
          this.slot(vs, i, x, k, path, ops);
          i++;
        }
        if (inOrder && i === ks.length) return shadow;
        return this.rekey(shadow, raw.entries(), path, ops);
      }
      if (shadow instanceof ShPairs) {
        const mark = ops.length;
        const ks = shadow.keys;
        const vs = shadow.vals;
        let strings = true;
        let i = 0;
        for (const [k, x] of raw) {
          if (typeof k !== 'string') strings = false;
          if (i < ks.length) {
            const wk = ks[i];
            if (k !== wk) {
              path.push(i, 0);
              const now = this.sync(wk, k, path, ops);
              path.length -= 2;
              if (now !== wk) ks[i] = now;
            }
            const wv = vs[i];
            if (x !== wv) {
              path.push(i, 1);
              const now = this.sync(wv, x, path, ops);
              path.length -= 2;
              if (now !== wv) vs[i] = now;
            }
          } else {
            ops.push([0, [...path, i], this.enc([k, x], depth + 1)]);
            ks.push(this.mirror(k, depth + 2));
            vs.push(this.mirror(x, depth + 2));
          }
          i++;
        }
        if (strings) {
          ops.length = mark; // the display is now an object: replace it whole
          return this.replace(raw, path, ops);
        }
        if (ks.length > i) {
          ops.push([2, path.slice(), i]);
          ks.length = i;
          vs.length = i;
        }
        return shadow;
      }
      return this.replace(raw, path, ops);
    }
    if (!(shadow instanceof ShObj)) return this.replace(raw, path, ops);
    const ks = shadow.keys;
    const vs = shadow.vals;
    const o = raw as Record<string, unknown>;
    let i = 0;
    for (const k in o) {
      if (i >= ks.length || ks[i] !== k) return this.rekey(shadow, Object.entries(o)[Symbol.iterator](), path, ops);
      this.slot(vs, i, o[k], k, path, ops);
      i++;
    }
    if (i === ks.length) return shadow;
    return this.rekey(shadow, Object.entries(o)[Symbol.iterator](), path, ops);
  }

  /** An object whose keys changed (added, deleted or reordered): entries matched by key. */
  private rekey(shadow: ShObj, entries: Iterator<[unknown, unknown]>, path: Path, ops: Op[]): ShObj {
    const depth = path.length;
    const old = new Map<string, number>();
    for (let j = 0; j < shadow.keys.length; j++) old.set(shadow.keys[j]!, j);
    const keys: string[] = [];
    const vals: unknown[] = [];
    for (let e = entries.next(); !e.done; e = entries.next()) {
      const [k, x] = e.value as [string, unknown];
      const j = old.get(k);
      keys.push(k);
      if (j === undefined) {
        ops.push([0, [...path, k], this.enc(x, depth + 1)]);
        vals.push(this.mirror(x, depth + 1));
        continue;
      }
      old.delete(k);
      const was = shadow.vals[j];
      if (x === was) vals.push(was);
      else {
        path.push(k);
        vals.push(this.sync(was, x, path, ops));
        path.pop();
      }
    }
    for (const k of old.keys()) ops.push([1, [...path, k]]);
    shadow.keys = keys;
    shadow.vals = vals;
    return shadow;
  }

  /** Brings the shadow's `vals[i]` (reached by `key` below `path`) up to `x`. */
  private slot(vals: unknown[], i: number, x: unknown, key: string | number, path: Path, ops: Op[]): void {
    const was = vals[i];
    if (x === was) return;
    path.push(key);
    const now = this.sync(was, x, path, ops);
    path.pop();
    if (now !== was) vals[i] = now;
  }

  /** Drops the shadow's elements from `len` on, with the op that says so. */
  private truncate(a: unknown[], len: number, path: Path, ops: Op[]): void {
    if (a.length <= len) return;
    ops.push([2, path.slice(), len]);
    a.length = len;
  }

  private append(a: unknown[], x: unknown, path: Path, i: number, ops: Op[]): void {
    ops.push([0, [...path, i], this.enc(x, path.length + 1)]);
    a.push(this.mirror(x, path.length + 1));
  }

  private replace(raw: unknown, path: Path, ops: Op[]): unknown {
    ops.push([0, path.slice(), this.enc(raw, path.length)]);
    return this.mirror(raw, path.length);
  }
}

function hex16(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16).padStart(16, '0');
}



/** Escapes an object of the data whose only key starts with "$" (it would read as a reference). */
function escape(o: Record<string, unknown>): Record<string, unknown> {
  const ks = Object.keys(o);
  return ks.length === 1 && ks[0]!.startsWith('$') ? { $o: o } : o;
}

// ---------------------------------------------------------------------------------------------
// Decoding

export class TraceFormatError extends Error {}

/** Blob values, decoded, by id; shared by every decoder of one trace. */
export type BlobTable = Map<number, unknown>;

/** Resolves references and escapes in an encoded value. The result shares blob values: never mutate it. */
export function decodeValue(v: unknown, blobs: BlobTable): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      const y = decodeValue(x, blobs);
      if (y !== x) {
        out ??= v.slice();
        out[i] = y;
      }
    }
    return out ?? v;
  }
  const o = v as Record<string, unknown>;
  const ks = Object.keys(o);
  if (ks.length === 1 && ks[0]!.startsWith('$')) {
    const k = ks[0]!;
    if (k === '$ref') {
      const id = o.$ref;
      if (typeof id !== 'number' || !blobs.has(id)) throw new TraceFormatError(`reference to an unknown blob ${String(id)}`);
      return blobs.get(id);
    }
    if (k === '$o') {
      const inner = o.$o;
      if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) throw new TraceFormatError('malformed escape $o');
      const out: Record<string, unknown> = {};
      for (const kk of Object.keys(inner)) out[kk] = decodeValue((inner as Record<string, unknown>)[kk], blobs);
      return out;
    }
  }
  let out: Record<string, unknown> | null = null;
  for (const k of ks) {
    const x = o[k];
    const y = decodeValue(x, blobs);
    if (y !== x) {
      out ??= { ...o };
      out[k] = y;
    }
  }
  return out ?? o;
}

function shallowClone(v: unknown): unknown {
  if (Array.isArray(v)) return v.slice();
  if (typeof v === 'object' && v !== null) return { ...(v as Record<string, unknown>) };
  throw new TraceFormatError('a state change goes through a value that is not an object or array');
}

/** Applies `ops` to `root` without mutating anything reachable from before (copy on write). */
export function applyOps(root: unknown, ops: unknown, blobs: BlobTable): unknown {
  if (!Array.isArray(ops)) throw new TraceFormatError('a state change (d) must be a list of operations');
  const fresh = new Set<unknown>();
  const own = (v: unknown): unknown => {
    if (fresh.has(v)) return v;
    const c = shallowClone(v);
    fresh.add(c);
    return c;
  };
  for (const op of ops) {
    if (!Array.isArray(op) || typeof op[0] !== 'number' || !Array.isArray(op[1])) throw new TraceFormatError('malformed state change operation');
    const path = op[1] as Path;
    if (path.length === 0 && op[0] !== 2) {
      if (op[0] !== 0) throw new TraceFormatError('only a set may replace the whole state');
      root = decodeValue(op[2], blobs);
      fresh.clear();
      continue;
    }
    root = own(root);
    let cur = root as Record<string | number, unknown>;
    const last = op[0] === 2 ? path.length : path.length - 1;
    for (let j = 0; j < last; j++) {
      const k = path[j]!;
      const child = own(cur[k]);
      cur[k] = child;
      cur = child as Record<string | number, unknown>;
    }
    switch (op[0]) {
      case 0: {
        const k = path[path.length - 1]!;
        if (Array.isArray(cur) && typeof k === 'number' && k > cur.length) throw new TraceFormatError('a set past the end of an array');
        cur[k] = decodeValue(op[2], blobs);
        break;
      }
      case 1:
        delete cur[path[path.length - 1]!];
        break;
      case 2:
        if (!Array.isArray(cur) || typeof op[2] !== 'number') throw new TraceFormatError('a truncation of something that is not an array');
        cur.length = op[2];
        break;
      default:
        throw new TraceFormatError(`unknown state change operation ${String(op[0])}`);
    }
  }
  return root;
}

/**
 * Turns compact records (fed in file order) into expanded ones: references resolved, a step's or
 * boot's `state` the node's full display state. Returns null for blob records (kept in `blobs`).
 * A record may also carry a plain `state` (a snapshot in display form, as hand-written traces,
 * the explorer and real recordings write it).
 */
export class TraceDecoder {
  readonly states = new Map<string, unknown>();
  /** `lenient`: a change with no known base yields no state (decoding from the middle of a trace). */
  constructor(
    readonly blobs: BlobTable = new Map(),
    private readonly lenient = false,
  ) {}

  feed(r: Record<string, unknown>): Record<string, unknown> | null {
    switch (r.type) {
      case 'blob': {
        if (typeof r.id !== 'number') throw new TraceFormatError('a blob record needs a numeric id');
        if (!this.blobs.has(r.id)) this.blobs.set(r.id, decodeValue(r.v, this.blobs));
        return null;
      }
      case 'step':
      case 'boot':
      case 'snap': {
        const res: Record<string, unknown> = {};
        for (const k of Object.keys(r)) if (k !== 'd') res[k] = k === 'state' ? r[k] : decodeValue(r[k], this.blobs);
        const node = typeof r.node === 'string' ? r.node : null;
        if ('s' in r) {
          res.state = res.s;
          delete res.s;
        } else if ('d' in r) {
          if (node === null || !this.states.has(node)) {
            if (!this.lenient) throw new TraceFormatError(`a state change for ${node ?? 'a step without a node'} with no earlier state`);
          } else res.state = applyOps(this.states.get(node), r.d, this.blobs);
        }
        if (node !== null && 'state' in res) this.states.set(node, res.state);
        return res;
      }
      case 'fault': {
        const res = decodeValue(r, this.blobs) as Record<string, unknown>;
        // A crash loses the node's state; its next state comes with its boot.
        if (res.kind === 'crash' && Array.isArray(res.nodes) && !(isObj(res.detail) && 'refused' in res.detail)) for (const n of res.nodes) if (typeof n === 'string') this.states.delete(n);
        return res;
      }
      default:
        return decodeValue(r, this.blobs) as Record<string, unknown>;
    }
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
