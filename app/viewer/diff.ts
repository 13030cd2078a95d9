/**
 * A structural diff of two JSON values (node states in the display encoding), for the viewer's
 * "state before → after" panel. Computed only for the selected step, so its cost is bounded by the
 * size of one state, and capped in the number of changes it reports.
 *
 * Objects are compared key by key. Arrays are aligned on equal elements (Myers' O(ND) diff over
 * element fingerprints) when they are short enough, so a push, a shift or an insertion in the
 * middle shows as one added or removed element instead of every later index changing; longer
 * arrays fall back to trimming the common prefix and suffix and comparing the rest by index.
 */

export type ChangeKind = 'added' | 'removed' | 'changed';

export interface Change {
  /** Path from the root: `op.acked[2]`, `done["c0#3"]`. Empty for the root itself. */
  readonly path: string;
  readonly kind: ChangeKind;
  readonly before?: unknown;
  readonly after?: unknown;
}

export interface DiffResult {
  readonly changes: Change[];
  /** Changes beyond the cap that were not listed. */
  readonly omitted: number;
}

/** Arrays longer than this (on either side) are not aligned with Myers' diff. */
const ALIGN_MAX = 2000;
/** Myers' search stops after this many edits and falls back to index comparison. */
const EDITS_MAX = 200;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function keyPath(base: string, k: string): string {
  return IDENT.test(k) ? (base ? `${base}.${k}` : k) : `${base}[${JSON.stringify(k)}]`;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

export function diffJson(before: unknown, after: unknown, max = 300): DiffResult {
  const changes: Change[] = [];
  let omitted = 0;
  const emit = (c: Change) => {
    if (changes.length < max) changes.push(c);
    else omitted++;
  };
  const walk = (a: unknown, b: unknown, path: string, depth: number): void => {
    if (a === b) return;
    if (depth > 64) {
      if (!deepEqual(a, b)) emit({ path, kind: 'changed', before: a, after: b });
      return;
    }
    if (isObj(a) && isObj(b)) {
      for (const k of Object.keys(a)) {
        const p = keyPath(path, k);
        if (!Object.prototype.hasOwnProperty.call(b, k)) emit({ path: p, kind: 'removed', before: a[k] });
        else walk(a[k], b[k], p, depth + 1);
      }
      for (const k of Object.keys(b)) if (!Object.prototype.hasOwnProperty.call(a, k)) emit({ path: keyPath(path, k), kind: 'added', after: b[k] });
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) return diffArrays(a, b, path, depth);
    if (!deepEqual(a, b)) emit({ path, kind: 'changed', before: a, after: b });
  };
  const diffArrays = (a: unknown[], b: unknown[], path: string, depth: number): void => {
    let pre = 0;
    while (pre < a.length && pre < b.length && deepEqual(a[pre], b[pre])) pre++;
    let suf = 0;
    while (suf < a.length - pre && suf < b.length - pre && deepEqual(a[a.length - 1 - suf], b[b.length - 1 - suf])) suf++;
    const a1 = a.length - suf;
    const b1 = b.length - suf;
    const script = a1 - pre <= ALIGN_MAX && b1 - pre <= ALIGN_MAX ? myers(a, b, pre, a1, b1) : null;
    if (script === null) {
      for (let i = pre; i < Math.max(a1, b1); i++) {
        const p = `${path}[${i}]`;
        if (i >= a1) emit({ path: p, kind: 'added', after: b[i] });
        else if (i >= b1) emit({ path: p, kind: 'removed', before: a[i] });
        else walk(a[i], b[i], p, depth + 1);
      }
      return;
    }
    // A removal followed by an insertion at the same place is a change of that element.
    for (let s = 0; s < script.length; s++) {
      const e = script[s]!;
      const next = script[s + 1];
      if (e.op === 'del' && next && next.op === 'ins' && next.j === e.j) {
        walk(a[e.i], b[next.j], `${path}[${next.j}]`, depth + 1);
        s++;
      } else if (e.op === 'del') emit({ path: `${path}[${e.i}]`, kind: 'removed', before: a[e.i] });
      else emit({ path: `${path}[${e.j}]`, kind: 'added', after: b[e.j] });
    }
  };
  walk(before, after, '', 0);
  return { changes, omitted };
}

interface Edit {
  readonly op: 'del' | 'ins';
  /** Index in `a` (deletions) and the index in `b` where it happens. */
  readonly i: number;
  readonly j: number;
}

/**
 * Myers' greedy shortest edit script between a[lo..a1) and b[lo..b1); null when it needs more
 * than EDITS_MAX edits. Elements are compared by a JSON fingerprint computed once per element.
 */
function myers(a: unknown[], b: unknown[], lo: number, a1: number, b1: number): Edit[] | null {
  const fa: string[] = [];
  const fb: string[] = [];
  for (let i = lo; i < a1; i++) fa.push(JSON.stringify(a[i]) ?? 'undefined');
  for (let j = lo; j < b1; j++) fb.push(JSON.stringify(b[j]) ?? 'undefined');
  const n = fa.length;
  const m = fb.length;
  const max = Math.min(n + m, EDITS_MAX);
  const off = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    const nv = v.slice();
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && fa[x] === fb[y]) {
        x++;
        y++;
      }
      nv[off + k] = x;
      if (x >= n && y >= m) return backtrack(trace, off, d, n, m, lo);
    }
    v = nv;
  }
  return null;
}

function backtrack(trace: Int32Array[], off: number, dEnd: number, n: number, m: number, lo: number): Edit[] {
  const edits: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = dEnd; d > 0; d--) {
    const v = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!);
    const pk = down ? k + 1 : k - 1;
    const px = v[off + pk]!;
    const py = px - pk;
    while (x > (down ? px : px + 1) && y > (down ? py + 1 : py)) {
      x--;
      y--;
    }
    if (down) edits.push({ op: 'ins', i: x + lo, j: py + lo });
    else edits.push({ op: 'del', i: px + lo, j: y + lo });
    x = px;
    y = py;
  }
  return edits.reverse();
}
