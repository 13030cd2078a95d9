/**
 * Methodology: the incremental invariants on fake node states: metalog prefix agreement must fire
 * when two replicas hold different entries at one position (and not for the same entry held by
 * many), re-read a restarted node's fresh state, and check a finalized length against the
 * published final position; decision agreement must fire when two index replicas decide a
 * position differently.
 */
import { describe, expect, it } from 'vitest';
import type { WorldView } from '../../../src/core/system.ts';
import { decisionAgreement, metalogAgreement } from '../../../proofs/log/invariants.ts';
import type { MetaEntry } from '../../../src/boki/messages.ts';

const entry = (k: number, deltas: number[]): MetaEntry => ({ kind: 'newLogs', ls: 0, k, startPos: 0, starts: deltas.map(() => 0), deltas });

function world(states: Record<string, unknown>, roles: Record<string, string>): WorldView {
  return { nowUs: 0, eventIndex: 0, nodeIds: () => Object.keys(states), role: (id) => roles[id]!, isUp: () => true, state: (id) => states[id], history: [], lastFaultUs: -1 };
}

const seqState = (entries: MetaEntry[], finalized = false, finalPos = -1) => ({ logs: new Map([[0, { ls: 0, entries, finalized, finalPos }]]) });

describe('metalog agreement', () => {
  it('accepts replicas holding the same entries, fails one that differs', () => {
    const e0 = entry(0, [1, 0]);
    const e1 = entry(1, [0, 2]);
    const states: Record<string, unknown> = { a: seqState([e0, e1]), b: seqState([e0, { ...e1 }]), c: seqState([e0, entry(1, [0, 3])]) };
    const w = world(states, { a: 'sequencer', b: 'sequencer', c: 'sequencer' });
    const inv = metalogAgreement();
    expect(inv.afterStep!(w, 'a')).toBeNull();
    expect(inv.afterStep!(w, 'b')).toBeNull();
    expect(inv.afterStep!(w, 'c')).toMatch(/position 1 of logspace 0/);
  });

  it('checks a finalized log\'s length against the published final position', () => {
    const e0 = entry(0, [1]);
    const w = world({ a: seqState([e0, entry(1, [1])], true, 1) }, { a: 'sequencer' });
    expect(metalogAgreement().afterStep!(w, 'a')).toMatch(/final position is 1/);
  });

  it('re-reads a node whose state was replaced (a restart)', () => {
    const inv = metalogAgreement();
    const states: Record<string, unknown> = { a: seqState([entry(0, [1])]) };
    const w = world(states, { a: 'sequencer' });
    expect(inv.afterStep!(w, 'a')).toBeNull();
    states.a = seqState([entry(0, [2])]);
    expect(inv.afterStep!(w, 'a')).toMatch(/position 0/);
  });
});

describe('decision agreement', () => {
  it('fails two index replicas deciding one position differently', () => {
    const ix = (log: number[]) => ({ indexes: new Map([[7, { ls: 7, condLog: log, entries: [], finalized: false, finalPos: -1 }]]) });
    const w = world({ e1: ix([3, 1, 5, 0]), e2: ix([3, 1]), e3: ix([3, 0]) }, { e1: 'engine', e2: 'engine', e3: 'engine' });
    const inv = decisionAgreement();
    expect(inv.afterStep!(w, 'e1')).toBeNull();
    expect(inv.afterStep!(w, 'e2')).toBeNull();
    expect(inv.afterStep!(w, 'e3')).toMatch(/position 3 of logspace 7/);
  });
});
