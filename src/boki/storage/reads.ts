/**
 * Reads by position (spec §5.5): answered at once when the record is ordered (or can no longer
 * be), else parked until an applied entry orders it.
 */
import { send } from '../../core/contract.ts';
import { armRepair } from '../common.ts';
import type { ReadAt } from '../messages.ts';
import type { StoLog, StorageState, Eff } from './state.ts';

const PARKED_MAX = 100_000;

export function onReadAt(s: StorageState, from: string, m: ReadAt, out: Eff[]): void {
  const sl = s.logs.get(m.ls);
  if (!sl) {
    out.push(send(from, { type: 'readAtResult', qid: m.qid, ls: m.ls, pos: m.pos, rec: null, aux: null }));
    return;
  }
  if (sl.ordered[m.pos] !== undefined || sl.finalized || m.pos < sl.appliedEnd) return answerRead(sl, from, m, out);
  if (sl.parkedCount >= PARKED_MAX) return answerRead(sl, from, m, out);
  let list = sl.parked.get(m.pos);
  if (!list) sl.parked.set(m.pos, (list = []));
  list.push({ from, m });
  sl.parkedCount++;
  armRepair(s, out);
}

export function answerRead(sl: StoLog, from: string, m: ReadAt, out: Eff[]): void {
  const r = sl.ordered[m.pos] ?? null;
  out.push(send(from, { type: 'readAtResult', qid: m.qid, ls: m.ls, pos: m.pos, rec: r, aux: r ? (sl.aux.get(m.pos) ?? null) : null }));
}
