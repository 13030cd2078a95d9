/**
 * Random access to a compact trace's records, in pages, for the viewer: the server answers
 * `/records?from=&to=` from it, and the self-contained page (which embeds the compact lines, the
 * blobs and this index) decodes from it in the browser. Pure TypeScript (no Node or DOM APIs).
 *
 * Record numbering is the expanded one the model uses: 0 is the header, blob records are not
 * counted. A record's state may be a change (`d`) from the node's previous state, so decoding
 * record r starts at the latest snapshot at or before r of every node (`snapshots`), which the
 * writer puts at most `snapshotEvery` steps of that node apart: a range costs a bounded number of
 * records to decode, however long the trace.
 */
import { type BlobTable, TraceDecoder } from '../../sim/trace-codec.ts';

export const PAGE_RECORDS = 256;

/** The index a self-contained page embeds, and the server keeps. */
export interface RecordIndex {
  readonly records: number;
  /** Per node, the record indices of its snapshots (boot, snap, or a step with a full state), ascending. */
  readonly snapshots: Record<string, number[]>;
}

/** Builds the index while the loader streams the trace. */
export class RecordIndexBuilder {
  private n = 0;
  private readonly snaps: Record<string, number[]> = {};
  /** Notes the compact record with expanded index `i`. */
  add(raw: Record<string, unknown>, i: number): void {
    this.n = i + 1;
    if (typeof raw.node !== 'string') return;
    if ('s' in raw || 'state' in raw) (this.snaps[raw.node] ??= []).push(i);
  }
  finish(): RecordIndex {
    return { records: this.n, snapshots: this.snaps };
  }
}

/** Where decoding must start to know every node's state at record `a`. */
export function decodeStart(index: RecordIndex, a: number): number {
  let start = a;
  for (const list of Object.values(index.snapshots)) {
    let lo = 0;
    let hi = list.length; // first element > a
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]! <= a) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) start = Math.min(start, list[lo - 1]!);
  }
  return start;
}

/**
 * The expanded records [a, b): `line(i)` gives compact record i (parsed), `blobs` every blob of
 * the trace. Record 0 (the header) is returned as is.
 */
export function decodeRange(index: RecordIndex, blobs: BlobTable, line: (i: number) => Record<string, unknown>, a: number, b: number): Record<string, unknown>[] {
  a = Math.max(0, a);
  b = Math.min(index.records, b);
  const out: Record<string, unknown>[] = [];
  if (a >= b) return out;
  const dec = new TraceDecoder(blobs, true);
  for (let i = Math.max(1, decodeStart(index, a)); i < b; i++) {
    const r = dec.feed(line(i));
    if (i >= a && r !== null) out.push(r);
  }
  if (a === 0) out.unshift(line(0));
  return out;
}
