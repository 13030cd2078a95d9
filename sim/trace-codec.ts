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
 * The diff runs on the raw states and stops wherever the old and new values are the same object
 * (machines return new states with structural sharing), so a step costs what it changed, not the
 * size of the state. Decoding (`TraceDecoder`) turns compact records back into the expanded form
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

/** How a raw value is displayed: 'o' an object, 'a' an array, 'p' an array of [key, value] pairs, 's' a scalar. */
function shapeOf(v: unknown): 'o' | 'a' | 'p' | 's' {
  if (typeof v !== 'object' || v === null) return 's';
  if (Array.isArray(v) || v instanceof Set) return 'a';
  if (v instanceof Map) return mapHasStringKeys(v) ? 'o' : 'p';
  if (ArrayBuffer.isView(v)) return 's';
  return 'o';
}

export class TraceEncoder {
  private readonly objBlobs = new WeakMap<object, number>();
  private readonly strBlobs = new Map<string, number>();
  private nextBlob = 0;
  /** Per node: the raw state last written, and steps since its last snapshot. */
  private readonly prev = new Map<string, { shown: unknown; since: number }>();
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
          if (typeof r.node === 'string') this.prev.set(r.node, { shown: display(r.state, 0), since: 0 });
          out.s = this.enc(r.state, 0);
        }
        return this.emit(out);
      }
      case 'history':
      case 'violation':
        return this.emit(this.payloads(r));
      case 'header':
      case 'end': {
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
      if (k === 'input') out.input = this.payloadObj(v);
      else if (k === 'effects' && Array.isArray(v)) out.effects = v.map((e) => this.payloadObj(e));
      else out[k] = this.enc(v, 0);
    }
    if ('state' in r) {
      const node = typeof r.node === 'string' ? r.node : null;
      const p = node === null ? undefined : this.prev.get(node);
      if (p === undefined || p.since + 1 >= this.snapshotEvery) {
        out.s = this.enc(r.state, 0);
        if (node !== null) this.prev.set(node, { shown: display(r.state, 0), since: 0 });
      } else {
        const ops: Op[] = [];
        p.shown = this.sync(p.shown, r.state, [], ops);
        out.d = ops;
        p.since++;
      }
    }
    return out;
  }

  /** A record whose object-valued fields are payloads (history bodies, a violation's input). */
  private payloads(r: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(r)) {
      const v = r[k];
      out[k] = k === 'input' ? this.payloadObj(v) : this.internObj(v);
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

  /**
   * Appends to `ops` what turns `shown` (the display form of the node's previous state, which
   * this encoder owns) into the display form of `raw`, and updates `shown` in place to match;
   * returns the new display value (a different one only where the shape changed). It walks the
   * whole raw state, since machines may update their state in place, but allocates only for what
   * changed.
   */
  private sync(shown: unknown, raw: unknown, path: Path, ops: Op[]): unknown {
    const depth = path.length;
    const sb = depth > DEPTH_MAX ? 's' : shapeOf(raw);
    if (sb === 's') {
      const d = depth > DEPTH_MAX ? '…' : typeof raw === 'bigint' ? (typeof shown === 'string' && shown.length === 18 && BigInt(shown) === BigInt.asUintN(64, raw) ? shown : displayScalar(raw)) : displayScalar(raw);
      if (d !== shown) ops.push([0, path.slice(), this.enc(raw, depth)]);
      return d;
    }
    if (typeof shown !== 'object' || shown === null || Array.isArray(shown) !== (sb !== 'o')) return this.replace(raw, path, ops);
    if (sb === 'o') {
      const o = shown as Record<string, unknown>;
      let n = 0;
      if (raw instanceof Map) {
        for (const [k, v] of raw) {
          n++;
          this.syncKey(o, k as string, v, path, ops);
        }
      } else {
        const r = raw as Record<string, unknown>;
        for (const k in r) {
          n++;
          this.syncKey(o, k, r[k], path, ops);
        }
      }
      if (Object.keys(o).length !== n) {
        for (const k of Object.keys(o)) {
          if (raw instanceof Map ? !raw.has(k) : !Object.prototype.hasOwnProperty.call(raw, k)) {
            ops.push([1, [...path, k]]);
            delete o[k];
          }
        }
      }
      return o;
    }
    const arr = shown as unknown[];
    const items: unknown[] = sb === 'a' ? (Array.isArray(raw) ? raw : [...(raw as Set<unknown>)]) : [...(raw as Map<unknown, unknown>)];
    const n = Math.min(arr.length, items.length);
    if (sb === 'p') {
      for (let i = 0; i < n; i++) {
        const pr = arr[i];
        if (!Array.isArray(pr) || pr.length !== 2) return this.replace(raw, path, ops);
      }
    }
    for (let i = 0; i < n; i++) {
      path.push(i);
      if (sb === 'a') {
        const was = arr[i];
        const now = this.sync(was, items[i], path, ops);
        if (now !== was) arr[i] = now;
      } else {
        const pr = arr[i] as unknown[];
        const kv = items[i] as [unknown, unknown];
        for (let j = 0; j < 2; j++) {
          path.push(j);
          const was = pr[j];
          const now = this.sync(was, kv[j], path, ops);
          if (now !== was) pr[j] = now;
          path.pop();
        }
      }
      path.pop();
    }
    if (arr.length > items.length) {
      ops.push([2, path.slice(), items.length]);
      arr.length = items.length;
    }
    for (let i = n; i < items.length; i++) {
      const x = sb === 'a' ? items[i] : [(items[i] as unknown[])[0], (items[i] as unknown[])[1]];
      ops.push([0, [...path, i], this.enc(x, depth + 1)]);
      arr.push(display(x, depth + 1));
    }
    return arr;
  }

  private replace(raw: unknown, path: Path, ops: Op[]): unknown {
    ops.push([0, path.slice(), this.enc(raw, path.length)]);
    return display(raw, path.length);
  }

  private syncKey(o: Record<string, unknown>, k: string, v: unknown, path: Path, ops: Op[]): void {
    if (!Object.prototype.hasOwnProperty.call(o, k)) {
      ops.push([0, [...path, k], this.enc(v, path.length + 1)]);
      o[k] = display(v, path.length + 1);
      return;
    }
    path.push(k);
    const was = o[k];
    const now = this.sync(was, v, path, ops);
    path.pop();
    if (now !== was) o[k] = now;
  }
}

/** The display form of a scalar (what toDisplay gives). */
function displayScalar(v: unknown): unknown {
  switch (typeof v) {
    case 'bigint':
      return '0x' + hex16(v);
    case 'undefined':
      return null;
    case 'function':
      return '<function>';
    case 'object':
      return v === null ? null : ArrayBuffer.isView(v) ? `<${v.byteLength} bytes>` : v;
    default:
      return v;
  }
}

/** The display form (as `toDisplay` in src/core/json.ts, at a given depth), freshly allocated. */
function display(v: unknown, depth: number): unknown {
  if (depth > DEPTH_MAX) return '…';
  if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return displayScalar(v);
  if (Array.isArray(v)) return v.map((x) => display(x, depth + 1));
  if (v instanceof Set) return [...v].map((x) => display(x, depth + 1));
  if (v instanceof Map) {
    if (mapHasStringKeys(v)) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of v) o[k as string] = display(x, depth + 1);
      return o;
    }
    return [...v].map(([k, x]) => [display(k, depth + 1), display(x, depth + 1)]);
  }
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(v)) o[k] = display((v as Record<string, unknown>)[k], depth + 1);
  return o;
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
