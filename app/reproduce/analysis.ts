/**
 * Per-run measurements for the reproduction, computed from a finished run's history: which
 * requests count (warm-up and the first sixth left out, slow outliers dropped, as the artifact's
 * `compute_latency.py` does), request latency quantiles, per-operation latencies (Fig. 10),
 * the log calls' own service times (the calibration check), records and log reads per request,
 * the storage model (proofs/storage.ts), and the switching timeline.
 *
 * Measures are flat maps from a name to a number (or null when undefined for the run), so runs
 * with different seeds aggregate measure by measure.
 */
import type { FinishedRun, HistoryEvent } from '../../src/core/system.ts';
import type { Json } from '../../src/halfmoon/records.ts';
import type { RuntimeEvent } from '../../src/halfmoon/workflow/events.ts';
import { callsAndReturns, type CallRet } from '../../proofs/liveness.ts';
import { isCoordinatorRequest } from '../../proofs/exactly-once.ts';
import { type StorageBase, storageAccountingMany, type StorageVariant } from '../../proofs/storage.ts';
import { quantile } from './stats.ts';

export type Measures = Record<string, number | null>;

/** The artifact's filters (scripts/compute_latency.py): the first sixth is warm-up, > 30× median is an outlier. */
export const WARMUP_FRACTION = 1 / 6;
export const OUTLIER_FACTOR = 30;

export interface Requests {
  /** Measured requests, in call order. */
  readonly calls: readonly CallRet[];
  readonly ids: ReadonlySet<string>;
}

/** The requests that count: client requests `q<k>` with k >= warmup, minus the first sixth. */
export function measuredRequests(history: readonly HistoryEvent[], warmupRequests: number): Requests {
  const calls = callsAndReturns(history).filter((c) => !isCoordinatorRequest(c.reqId) && requestIndex(c.reqId) >= warmupRequests);
  const kept = calls.slice(Math.floor(calls.length * WARMUP_FRACTION));
  return { calls: kept, ids: new Set(kept.map((c) => c.reqId)) };
}

function requestIndex(reqId: string): number {
  const m = /^q(\d+)$/.exec(reqId);
  return m ? Number(m[1]) : -1;
}

/** p50/p99/mean latency in ms of the completed measured requests, outliers dropped. */
export function latencyMeasures(req: Requests, prefix = ''): Measures {
  const lat = req.calls.filter((c) => c.ret !== Infinity).map((c) => (c.ret - c.call) / 1000);
  if (lat.length === 0) return { [`${prefix}p50Ms`]: null, [`${prefix}p99Ms`]: null, [`${prefix}meanMs`]: null, [`${prefix}completed`]: 0 };
  const limit = quantile(lat, 0.5) * OUTLIER_FACTOR;
  const kept = lat.filter((x) => x < limit);
  return {
    [`${prefix}p50Ms`]: quantile(kept, 0.5),
    [`${prefix}p99Ms`]: quantile(kept, 0.99),
    [`${prefix}meanMs`]: kept.reduce((a, b) => a + b, 0) / kept.length,
    [`${prefix}completed`]: lat.length,
    [`${prefix}outliers`]: lat.length - kept.length,
  };
}

function runtimeEvents(history: readonly HistoryEvent[]): { t: number; e: RuntimeEvent }[] {
  const out: { t: number; e: RuntimeEvent }[] = [];
  for (const h of history) if (h.kind === 'record') out.push({ t: h.t, e: h.event as RuntimeEvent });
  return out;
}

/** Records (appends, conditional appends, overwrites that succeeded) and log reads per measured request. */
export function logMeasures(history: readonly HistoryEvent[], req: Requests): Measures {
  let appends = 0;
  let reads = 0;
  for (const { e } of runtimeEvents(history)) {
    if (e.ev !== 'logOp' || !req.ids.has(e.requestId)) continue;
    if ((e.op === 'append' || e.op === 'condAppend' || e.op === 'overwrite') && e.code === 'APPEND_OK') appends++;
    if (e.op === 'readNext' || e.op === 'readPrev' || e.op === 'checkTail') reads++;
  }
  const n = Math.max(1, req.ids.size);
  return { appendsPerRequest: appends / n, logReadsPerRequest: reads / n };
}

/**
 * The log calls' service times as the functions saw them (`waitUs` of logOp events), median per
 * call kind: the emergent latencies to set beside the calibration targets. readPrev is split by
 * whether the key stream held a record (then the engine may fetch it from a storage node).
 */
export function logCallMeasures(history: readonly HistoryEvent[], req: Requests): Measures {
  const by = new Map<string, number[]>();
  const add = (k: string, v: number) => {
    let l = by.get(k);
    if (!l) by.set(k, (l = []));
    l.push(v);
  };
  for (const { e } of runtimeEvents(history)) {
    if (e.ev !== 'logOp' || !req.ids.has(e.requestId)) continue;
    switch (e.op) {
      case 'append':
      case 'condAppend':
      case 'overwrite':
        if (e.code === 'APPEND_OK') add(e.op, e.waitUs);
        break;
      case 'readPrev':
        add(e.code === 'READ_OK' ? 'readPrevFound' : 'readPrevEmpty', e.waitUs);
        break;
      case 'readNext':
      case 'checkTail':
        add(e.op, e.waitUs);
        break;
      default:
        break;
    }
  }
  const out: Measures = {};
  for (const k of ['append', 'condAppend', 'overwrite', 'readPrevFound', 'readPrevEmpty', 'readNext']) {
    const l = by.get(k);
    out[`call.${k}.p50Ms`] = l && l.length > 0 ? quantile(l, 0.5) / 1000 : null;
  }
  const found = by.get('readPrevFound')?.length ?? 0;
  const empty = by.get('readPrevEmpty')?.length ?? 0;
  out['call.readPrevFoundFraction'] = found + empty > 0 ? found / (found + empty) : null;
  return out;
}

/**
 * Latency of each workflow operation of the measured top-level executions (Fig. 10): from the
 * moment the operation was issued (the previous operation's return, or the end of the instance's
 * start-up steps) to its return to the handler. Operations are sequential within an execution,
 * so that moment is the execution's last record before the operation's own micro-steps.
 */
export function opMeasures(history: readonly HistoryEvent[], req: Requests): Measures {
  const top = new Set<string>();
  const boundary = new Map<string, number>();
  const lat: Record<'read' | 'write' | 'invoke', number[]> = { read: [], write: [], invoke: [] };
  for (const { t, e } of runtimeEvents(history)) {
    switch (e.ev) {
      case 'execStart':
        if (e.top && req.ids.has(e.requestId)) {
          top.add(e.exec);
          boundary.set(e.exec, t);
        }
        break;
      case 'logOp':
      case 'storeOp':
        if (top.has(e.exec) && e.stage !== 'op') boundary.set(e.exec, t);
        break;
      case 'wfOp':
        if (!top.has(e.exec)) break;
        lat[e.kind].push((t - boundary.get(e.exec)!) / 1000);
        boundary.set(e.exec, t);
        break;
      default:
        break;
    }
  }
  const out: Measures = {};
  for (const k of ['read', 'write', 'invoke'] as const) {
    out[`op.${k}.p50Ms`] = lat[k].length ? quantile(lat[k], 0.5) : null;
    out[`op.${k}.p99Ms`] = lat[k].length ? quantile(lat[k], 0.99) : null;
  }
  return out;
}

export interface NamedStorageVariant extends StorageVariant {
  readonly name: string;
}

/**
 * The storage model under each variant: `storage.<variant>.{logKB,dataKB,totalKB}` (KB = 1024
 * bytes, as the artifact prints), time-averaged over the measured requests.
 */
export function storageMeasures(
  history: readonly HistoryEvent[],
  req: Requests,
  base: Omit<StorageBase, 'measured'>,
  variants: readonly NamedStorageVariant[],
): Measures {
  const out: Measures = {};
  const reports = storageAccountingMany(history, { ...base, measured: req.ids }, variants);
  variants.forEach((v, i) => {
    const r = reports[i]!;
    out[`storage.${v.name}.logKB`] = r.logBytes / 1024;
    out[`storage.${v.name}.dataKB`] = r.dataBytes / 1024;
    out[`storage.${v.name}.totalKB`] = r.totalBytes / 1024;
    if (i === 0) {
      for (const [kind, s] of Object.entries(r.records)) out[`record.${kind}.bytes`] = s.meanBytes;
      for (const [part, b] of Object.entries(r.parts)) out[`storage.${v.name}.part.${part}KB`] = b / 1024;
    }
  });
  return out;
}

/** Initial rows of a workload as the storage model takes them: row name -> value bytes. */
export function initialRowBytes(rows: readonly (readonly [string, Json])[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const [name, v] of rows) m.set(name, typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : Buffer.byteLength(JSON.stringify(v), 'utf8'));
  return m;
}

/**
 * The switching timeline: per `bucketUs` of simulated time, the median latency of the requests
 * that completed in it (`timeline.<i>`), and each transition's start and length in order.
 */
export function switchingMeasures(run: FinishedRun, report: Readonly<Record<string, unknown>>, bucketUs: number, untilUs: number): Measures {
  const out: Measures = {};
  const calls = callsAndReturns(run.history).filter((c) => !isCoordinatorRequest(c.reqId) && c.ret !== Infinity);
  const buckets = Math.ceil(untilUs / bucketUs);
  const lat: number[][] = Array.from({ length: buckets }, () => []);
  for (const c of calls) {
    const b = Math.floor(c.ret / bucketUs);
    if (b < buckets) lat[b]!.push((c.ret - c.call) / 1000);
  }
  lat.forEach((l, i) => {
    out[`timeline.${i}`] = l.length ? quantile(l, 0.5) : null;
  });
  const transitions = (report.transitions as { from: string; to: string; startUs: number; endUs: number; lengthMs: number | null; latencyUsP50: { before: number | null; during: number | null; after: number | null } }[] | undefined) ?? [];
  out['switches'] = transitions.filter((t) => t.lengthMs !== null).length;
  transitions.forEach((t, i) => {
    out[`transition.${i}.startS`] = t.startUs / 1e6;
    out[`transition.${i}.endS`] = t.endUs >= 0 ? t.endUs / 1e6 : null;
    out[`transition.${i}.lengthMs`] = t.lengthMs;
    out[`transition.${i}.toHMR`] = t.to === 'HMR' ? 1 : 0;
    out[`transition.${i}.p50BeforeMs`] = t.latencyUsP50.before === null ? null : t.latencyUsP50.before / 1000;
    out[`transition.${i}.p50DuringMs`] = t.latencyUsP50.during === null ? null : t.latencyUsP50.during / 1000;
    out[`transition.${i}.p50AfterMs`] = t.latencyUsP50.after === null ? null : t.latencyUsP50.after / 1000;
  });
  return out;
}

