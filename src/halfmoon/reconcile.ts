/**
 * Cross-era reconciliation for HM-W -> HM-R (spec §8.3, "W->R: version markers"). HM-W writes
 * live only in base rows; HM-R readers look for versions in the key streams. While no HM-W
 * instance is alive (the coordinator's RECONCILE phase), for each key whose base row is newer
 * than its key stream's latest version, the reconciler materialises the base value into a version
 * row and appends a Marker pointing at it, carrying the base row's version as its effective
 * version. HM-R's read path treats a Marker like a PostWrite.
 *
 * Transitional instances may write concurrently (they log PostWrites to the key stream and
 * mirror into the base row), so after appending a marker the reconciler verifies that no
 * PostWrite slipped in between the tail it saw and its marker; if one did, it appends a new marker
 * pointing at the candidate with the highest effective version, and verifies again.
 */
import { decodeRecord, encodeRecord, keyTag, rowName, type StepRecord, type TagScheme, type Version, VERSION_ZERO, versionCmp } from './records.ts';
import type { OpIO } from './steps.ts';

/** Markers appended for one key, at most: each retry needs a new transitional write to race. */
const VERIFY_ROUNDS_MAX = 1000;

interface VersionRec {
  readonly seq: bigint;
  /** The version row that holds the value. */
  readonly row: bigint;
  readonly effective: Version;
}

function versionRecord(seq: bigint, data: string, table: string, key: string): VersionRec | null {
  const env = decodeRecord(data);
  if (!env) return null;
  const r = env.rec;
  if (r.kind === 'PostWrite' && r.table === table && r.key === key) return { seq, row: r.version, effective: { s: seq, w: 0, iid: r.iid } };
  if (r.kind === 'Marker' && r.table === table && r.key === key) return { seq, row: r.version, effective: r.sourceVersion };
  return null;
}

export interface ReconcileOutcome {
  readonly markers: number;
}

/** Reconciles one key. `iid` names the reconciler in its records. */
export function reconcileKey(io: OpIO, tags: TagScheme, table: string, key: string, iid: string): ReconcileOutcome {
  const tag = keyTag(tags, table, key);
  // 1. The key stream's latest version, and the base row.
  let tail: VersionRec | null = null;
  for (let max = 0xffff_0000_0000_0000n, guard = 0; guard < 10_000; guard++) {
    const r = io.log({ op: 'readPrev', tag, maxSeq: max });
    if (r.code !== 'READ_OK') break;
    tail = versionRecord(r.record.seqnum, r.record.data, table, key);
    if (tail) break;
    max = r.record.seqnum - 1n; // a foreign record under a colliding tag
  }
  const base = io.get(rowName(table, key, 'BASE'));
  // 2. Current already: the stream's latest version is at least the base row's.
  if (versionCmp(base.version, tail?.effective ?? VERSION_ZERO) <= 0) return { markers: 0 };
  // 3. Materialise the base value into a version row named by a ReconcilePre, then mark it.
  const preRec: StepRecord = { kind: 'ReconcilePre', iid, step: -1, table, key };
  const pre = io.log({ op: 'append', tags: [], data: encode(preRec) }, { rec: preRec });
  if (pre.code !== 'APPEND_OK') io.abort(`ReconcilePre append failed: ${pre.code}`);
  io.store({ op: 'put', row: rowName(table, key, pre.seqnum), value: base.value });
  let markerSeq = appendMarker(io, tag, iid, table, key, pre.seqnum, base.version);
  let markers = 1;
  let from = tail ? tail.seq + 1n : 0n;
  let best: { row: bigint; effective: Version } = { row: pre.seqnum, effective: base.version };
  // 4. Verify: nothing slipped in between the tail seen and the marker.
  for (let round = 0; round < VERIFY_ROUNDS_MAX; round++) {
    let slipped = false;
    for (let guard = 0; guard < 10_000; guard++) {
      const r = io.log({ op: 'readNext', tag, minSeq: from });
      if (r.code !== 'READ_OK' || r.record.seqnum >= markerSeq) break;
      from = r.record.seqnum + 1n;
      const v = versionRecord(r.record.seqnum, r.record.data, table, key);
      if (!v) continue;
      slipped = true;
      if (versionCmp(v.effective, best.effective) > 0) best = { row: v.row, effective: v.effective };
    }
    if (!slipped) return { markers };
    from = markerSeq + 1n;
    markerSeq = appendMarker(io, tag, iid, table, key, best.row, best.effective);
    markers++;
  }
  io.abort(`reconciling ${table}/${key}: ${VERIFY_ROUNDS_MAX} verification rounds`);
}

function appendMarker(io: OpIO, tag: bigint, iid: string, table: string, key: string, row: bigint, sourceVersion: Version): bigint {
  const rec: StepRecord = { kind: 'Marker', iid, step: -1, table, key, version: row, sourceVersion };
  const r = io.log({ op: 'append', tags: [tag], data: encode(rec) }, { rec });
  if (r.code !== 'APPEND_OK') io.abort(`Marker append failed: ${r.code}`);
  return r.seqnum;
}

function encode(rec: StepRecord): string {
  return encodeRecord({ rec });
}

