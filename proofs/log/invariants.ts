/**
 * Incremental invariants over node states, checked after every step of the node that moved, so a
 * per-metalog-entry property costs O(new entries) and never floods the history:
 *
 *   log-metalog-agreement  every replica of a metalog (sequencer primaries and backups, index
 *                          engines) holds the same entry at each position: the first holder
 *                          fixes (logspace, k) and any later difference fails. A finalized log's
 *                          length equals the published final position.
 *   log-decision-agreement every index replica decides each conditional append and overwrite
 *                          identically.
 *
 * Entries are shared objects in the simulator, so the common case is an identity comparison; a
 * structural comparison decides otherwise. Progress per (node state, logspace) is kept in a
 * WeakMap keyed by the state object, so a restarted node (a new state) is re-read from scratch.
 */
import type { Invariant, WorldView } from '../../src/core/system.ts';
import type { EngineState } from '../../src/boki/engine/state.ts';
import type { MetaEntry } from '../../src/boki/messages.ts';
import type { SequencerState } from '../../src/boki/sequencer.ts';

function sameEntry(a: MetaEntry, b: MetaEntry): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind || a.ls !== b.ls || a.k !== b.k || a.startPos !== b.startPos) return false;
  if (a.kind === 'trim' || b.kind === 'trim') return a.kind === 'trim' && b.kind === 'trim' && a.book === b.book && a.trimSeq === b.trimSeq && a.tid === b.tid;
  if (a.deltas.length !== b.deltas.length) return false;
  for (let i = 0; i < a.deltas.length; i++) if (a.deltas[i] !== b.deltas[i] || a.starts[i] !== b.starts[i]) return false;
  return true;
}

function describe(e: MetaEntry): string {
  return e.kind === 'trim' ? `trim(book ${e.book})` : `newLogs(start ${e.startPos}, starts [${e.starts.join(',')}], deltas [${e.deltas.join(',')}])`;
}

export function metalogAgreement(): Invariant {
  const fixed = new Map<number, MetaEntry[]>();
  const seen = new WeakMap<object, Map<number, number>>();
  const finalChecked = new WeakMap<object, Set<number>>();
  const check = (node: string, st: object, ls: number, entries: readonly MetaEntry[], finalized: boolean, finalPos: number): string | null => {
    let per = seen.get(st);
    if (!per) seen.set(st, (per = new Map()));
    let from = per.get(ls) ?? 0;
    if (from > entries.length) from = entries.length; // truncated at finalize
    let ref = fixed.get(ls);
    if (!ref) fixed.set(ls, (ref = []));
    for (let k = from; k < entries.length; k++) {
      const e = entries[k]!;
      if (e.k !== k) return `${node} holds entry ${e.k} at position ${k} of logspace ${ls}`;
      const r = ref[k];
      if (r === undefined) ref[k] = e;
      else if (!sameEntry(r, e)) return `${node} holds ${describe(e)} at position ${k} of logspace ${ls}, another replica ${describe(r)}`;
    }
    per.set(ls, entries.length);
    if (finalized) {
      let f = finalChecked.get(st);
      if (!f) finalChecked.set(st, (f = new Set()));
      if (!f.has(ls)) {
        f.add(ls);
        if (entries.length !== finalPos) return `${node} finalized logspace ${ls} with ${entries.length} entries, but the published final position is ${finalPos}`;
      }
    }
    return null;
  };
  return {
    name: 'log-metalog-agreement',
    afterStep(view: WorldView, node: string) {
      const role = view.role(node);
      if (role === 'sequencer') {
        const st = view.state(node) as SequencerState;
        for (const sl of st.logs.values()) {
          const m = check(node, st, sl.ls, sl.entries, sl.finalized, sl.finalPos);
          if (m) return m;
        }
      } else if (role === 'engine') {
        const st = view.state(node) as EngineState;
        for (const ix of st.indexes.values()) {
          const m = check(node, st, ix.ls, ix.entries, ix.finalized, ix.finalPos);
          if (m) return m;
        }
      }
      return null;
    },
  };
}

export function decisionAgreement(): Invariant {
  const fixed = new Map<number, Map<number, number>>();
  const seen = new WeakMap<object, Map<number, number>>();
  return {
    name: 'log-decision-agreement',
    afterStep(view: WorldView, node: string) {
      if (view.role(node) !== 'engine') return null;
      const st = view.state(node) as EngineState;
      let per = seen.get(st);
      if (!per) seen.set(st, (per = new Map()));
      for (const ix of st.indexes.values()) {
        const log = ix.condLog;
        const from = per.get(ix.ls) ?? 0;
        if (from === log.length) continue;
        let ref = fixed.get(ix.ls);
        if (!ref) fixed.set(ix.ls, (ref = new Map()));
        for (let i = from; i < log.length; i += 2) {
          const pos = log[i]!;
          const ok = log[i + 1]!;
          const had = ref.get(pos);
          if (had === undefined) ref.set(pos, ok);
          else if (had !== ok) return `${node} decided position ${pos} of logspace ${ix.ls} as ${ok ? 'success' : 'failure'}, another index replica as ${had ? 'success' : 'failure'}`;
        }
        per.set(ix.ls, log.length);
      }
      return null;
    },
  };
}
