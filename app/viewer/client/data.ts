/**
 * The viewer's data: the model's columns as typed arrays (indexed once, at load), and lazy access
 * to full records, in pages of PAGE_RECORDS: from the `halfmoon view` server (`/records`), or
 * decoded in the browser from the compact trace a self-contained page embeds. A record a panel
 * asks for that is not loaded yet comes back null and its page is fetched; `onLoaded` then lets
 * the app draw the panel again. A small cache of pages keeps memory flat for any trace length.
 */
import type { SystemLens } from '../lens.ts';
import type { ViewModel } from '../model.ts';
import { lensFor } from '../systems/index.ts';

export interface Steps {
  readonly n: number;
  readonly t: Float64Array;
  readonly node: Int32Array;
  readonly kind: Uint8Array;
  readonly label: Int32Array;
  readonly msg: Int32Array;
  readonly req: Int32Array;
  readonly prev: Int32Array;
  readonly rec: Int32Array;
  readonly flags: Uint8Array;
  readonly nEff: Int32Array;
  readonly i: Float64Array;
}

export interface Arrows {
  readonly n: number;
  readonly msg: Int32Array;
  readonly from: Int32Array;
  readonly to: Int32Array;
  readonly p0: Float64Array;
  readonly t0: Float64Array;
  readonly p1: Float64Array;
  readonly t1: Float64Array;
  readonly kind: Uint8Array;
  readonly flags: Uint8Array;
  readonly step: Int32Array;
  readonly fate: Int32Array;
  /** Message kind per arrow (string index), for the kind filter. */
  readonly mkind: Int32Array;
  /** Request per arrow (string index) or -1. */
  readonly req: Int32Array;
}

const PAGES_MAX = 64;
export const PAGE = 256;

/** Fetches the expanded records [a, b). */
export type RecordSource = (a: number, b: number) => Promise<Record<string, unknown>[]>;

export class Data {
  readonly S: Steps;
  readonly A: Arrows;
  readonly lens: SystemLens | null;
  private readonly pages = new Map<number, Record<string, unknown>[]>();
  private readonly loading = new Map<number, Promise<void>>();
  /** Called when a page a panel asked for has arrived. */
  onLoaded: () => void = () => {};
  private arrowsByMsg: Map<number, number[]> | null = null;
  private stepsByReq: Map<number, number[]> | null = null;
  /** Arrows leaving and entering each step, built on first use. */
  private arrowsAtStep: Map<number, number[]> | null = null;

  constructor(
    readonly model: ViewModel,
    private readonly source: RecordSource,
  ) {
    const s = model.steps;
    this.S = {
      n: s.rec.length,
      t: Float64Array.from(s.t),
      node: Int32Array.from(s.node),
      kind: Uint8Array.from(s.kind),
      label: Int32Array.from(s.label),
      msg: Int32Array.from(s.msg),
      req: Int32Array.from(s.req),
      prev: Int32Array.from(s.prev),
      rec: Int32Array.from(s.rec),
      flags: Uint8Array.from(s.flags),
      nEff: Int32Array.from(s.nEff),
      i: Float64Array.from(s.i),
    };
    const a = model.arrows;
    const msgKind = model.msgs.kind;
    const msgReq = model.msgs.req;
    this.A = {
      n: a.msg.length,
      msg: Int32Array.from(a.msg),
      from: Int32Array.from(a.from),
      to: Int32Array.from(a.to),
      p0: Float64Array.from(a.p0),
      t0: Float64Array.from(a.t0),
      p1: Float64Array.from(a.p1),
      t1: Float64Array.from(a.t1),
      kind: Uint8Array.from(a.kind),
      flags: Uint8Array.from(a.flags),
      step: Int32Array.from(a.step),
      fate: Int32Array.from(a.fate),
      mkind: Int32Array.from(a.msg, (m) => msgKind[m]!),
      req: Int32Array.from(a.msg, (m) => msgReq[m]!),
    };
    this.lens = lensFor(model.meta.system);
  }

  str(i: number): string {
    return i >= 0 ? (this.model.strings[i] ?? '?') : '';
  }

  /** The record at index `rec` of the trace, or null while its page is being fetched. */
  record(rec: number): Record<string, unknown> | null {
    if (rec < 0 || rec >= this.model.meta.records) return null;
    const p = Math.floor(rec / PAGE);
    const page = this.pages.get(p);
    if (page) return page[rec - p * PAGE] ?? null;
    void this.load(p).then(() => this.onLoaded());
    return null;
  }

  /** Loads the pages holding these records (the violation and its lead-up before first paint). */
  async ensure(recs: readonly number[]): Promise<void> {
    const ps = new Set(recs.filter((r) => r >= 0).map((r) => Math.floor(r / PAGE)));
    await Promise.all([...ps].map((p) => this.load(p)));
  }

  private load(p: number): Promise<void> {
    if (this.pages.has(p)) return Promise.resolve();
    let l = this.loading.get(p);
    if (!l) {
      l = this.source(p * PAGE, (p + 1) * PAGE).then(
        (recs) => {
          if (this.pages.size >= PAGES_MAX) this.pages.delete(this.pages.keys().next().value!);
          this.pages.set(p, recs);
          this.loading.delete(p);
        },
        (e: unknown) => {
          this.loading.delete(p);
          console.error('halfmoon viewer: cannot load records', e);
        },
      );
      this.loading.set(p, l);
    }
    return l;
  }

  arrowsOfMsg(m: number): number[] {
    if (!this.arrowsByMsg) {
      this.arrowsByMsg = new Map();
      for (let a = 0; a < this.A.n; a++) push(this.arrowsByMsg, this.A.msg[a]!, a);
    }
    return this.arrowsByMsg.get(m) ?? [];
  }

  /** Arrows that start or end at a step (its sends and its delivery). */
  arrowsAt(k: number): number[] {
    if (!this.arrowsAtStep) {
      this.arrowsAtStep = new Map();
      const send = this.model.msgs.send;
      for (let a = 0; a < this.A.n; a++) {
        push(this.arrowsAtStep, send[this.A.msg[a]!]!, a);
        if (this.A.step[a]! >= 0) push(this.arrowsAtStep, this.A.step[a]!, a);
      }
    }
    return this.arrowsAtStep.get(k) ?? [];
  }

  stepsOfReq(req: number): number[] {
    if (!this.stepsByReq) {
      this.stepsByReq = new Map();
      for (let k = 0; k < this.S.n; k++) if (this.S.req[k]! >= 0) push(this.stepsByReq, this.S.req[k]!, k);
    }
    return this.stepsByReq.get(req) ?? [];
  }

  /** The string index of a request id, or -1. */
  reqIndex(name: string): number {
    return this.model.strings.indexOf(name);
  }

  /** First step with position >= u on the axis (binary search). */
  lowerBound(axis: 'order' | 'time', u: number): number {
    if (axis === 'order') return Math.max(0, Math.min(this.S.n, Math.ceil(u)));
    const t = this.S.t;
    let lo = 0;
    let hi = this.S.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (t[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  stepPos(axis: 'order' | 'time', k: number): number {
    return axis === 'order' ? k : this.S.t[k]!;
  }
}

function push(m: Map<number, number[]>, k: number, v: number): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

/** Formats a time in the model's unit for people: "12.303 ms", "1.55 s", "step 42". */
export function formatTime(model: ViewModel, t: number): string {
  if (model.meta.timeUnit === 'step') return `step ${Math.round(t)}`;
  const a = Math.abs(t);
  if (a >= 1_000_000) return `${(t / 1_000_000).toFixed(a >= 10_000_000 ? 2 : 3)} s`;
  if (a >= 1000) return `${(t / 1000).toFixed(3)} ms`;
  return `${Math.round(t * 1000) / 1000} µs`;
}
