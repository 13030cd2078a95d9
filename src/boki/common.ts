/**
 * What every Boki role shares: the cluster configuration carried in each node's state, the view
 * book each node keeps (every view it learned, which are sealed, their final tails), and small
 * timing helpers.
 */
import { assert } from '../core/assert.ts';
import type { Effect } from '../core/contract.ts';
import { setTimer } from '../core/contract.ts';
import type { FinalLog, MetaEntry } from './messages.ts';
import type { BokiParams, BokiVariant } from './params.ts';
import { deriveView, type View, type ViewInfo } from './view.ts';
import type { ViewRecord } from './zk-client.ts';

/** One object shared by every node of a cluster (configs are immutable plain data). */
export interface BokiConfig {
  readonly p: BokiParams;
  readonly variant: BokiVariant | null;
  readonly sequencers: readonly string[];
  readonly engines: readonly string[];
  readonly storages: readonly string[];
}

export interface ViewBook {
  /** Indexed by view id. */
  infos: (ViewInfo | null)[];
  /** The newest view learned, or -1. */
  current: number;
  /** The newest view frozen, or -1. */
  frozen: number;
  /** Final tails of sealed views. */
  finals: Map<number, readonly FinalLog[]>;
}

export function newViewBook(): ViewBook {
  return { infos: [], current: -1, frozen: -1, finals: new Map() };
}

/**
 * Records a view-log record in the book. Returns false for a duplicate (a second new-view or
 * finalize record for the same view, written after a lost reply): the first record wins, on every
 * node, because every node reads the same totally ordered log.
 */
export function bookRecord(b: ViewBook, rec: ViewRecord): boolean {
  switch (rec.kind) {
    case 'new': {
      const v: View = rec.view;
      if (v.viewId <= b.current) return false;
      assert(v.viewId === b.current + 1, `views arrive consecutively (got ${v.viewId} after ${b.current})`);
      b.infos[v.viewId] = deriveView(v);
      b.current = v.viewId;
      return true;
    }
    case 'freeze':
      if (rec.viewId !== b.current || b.frozen >= rec.viewId) return false;
      b.frozen = rec.viewId;
      return true;
    case 'finalize':
      if (b.finals.has(rec.viewId) || rec.viewId > b.current) return false;
      b.finals.set(rec.viewId, rec.logs);
      return true;
  }
}

export function viewInfo(b: ViewBook, viewId: number): ViewInfo | null {
  return b.infos[viewId] ?? null;
}

/** Is the current view accepting appends (learned and not frozen)? */
export function viewActive(b: ViewBook): boolean {
  return b.current >= 0 && b.frozen < b.current;
}

/** Delay until the next multiple of `intervalUs` on the local clock (a periodic timer's grid). */
export function gridDelay(nowUs: number, intervalUs: number): number {
  const r = nowUs % intervalUs;
  return r === 0 ? intervalUs : intervalUs - r;
}

/** Arms a named on-demand timer aligned to its interval grid. */
export function armGrid(out: Effect[], name: string, nowUs: number, intervalUs: number): void {
  out.push(setTimer(name, gridDelay(nowUs, intervalUs)));
}

/**
 * Arms the on-demand `repair` timer once: every role resends what a broken channel may have lost
 * when it fires, and re-arms only while something is still outstanding.
 */
export function armRepair(s: { repairArmed: boolean; readonly cfg: BokiConfig }, out: Effect[], delayUs = s.cfg.p.repairIntervalMs * 1000): void {
  if (s.repairArmed) return;
  s.repairArmed = true;
  out.push(setTimer('repair', delayUs));
}

/** Number of records a newLogs entry orders. */
export function entrySize(e: MetaEntry): number {
  if (e.kind !== 'newLogs') return 0;
  let n = 0;
  for (const d of e.deltas) n += d;
  return n;
}

/** End position (exclusive) of the log after this entry. */
export function entryEnd(e: MetaEntry): number {
  return e.startPos + entrySize(e);
}

/** The final tail entry with metalog position k, if the tail holds it. */
export function tailEntry(fl: FinalLog, k: number): MetaEntry | undefined {
  const first = fl.finalPos - fl.tail.length;
  if (k < first || k >= fl.finalPos) return undefined;
  const e = fl.tail[k - first];
  assert(e !== undefined && e.k === k, 'final tails are contiguous and end at the final position');
  return e;
}

export function finalLogOf(b: ViewBook, ls: number, viewId: number): FinalLog | undefined {
  const fs = b.finals.get(viewId);
  if (!fs) return undefined;
  for (const f of fs) if (f.ls === ls) return f;
  return undefined;
}

export const CATCHUP_BATCH_MAX = 256;
