/**
 * Methodology: the derived plans of spec §1.2, checked on concrete views against the rules as
 * written (physical logs, metalog backups, storage plan, index plan, book -> log), plus the
 * controller's view builder: view 0 keeps the published order, later views reshuffle
 * deterministically, and every hash token names an active sequencer.
 */
import { describe, expect, it } from 'vitest';
import { logspaceId } from '../../src/boki/ids.ts';
import { buildView, deriveView, logOfBook } from '../../src/boki/view.ts';

const cfg = { metalogReplicas: 3, userlogReplicas: 3, indexReplicas: 3, numPhylogs: 2, hashTokens: 128, randomSeed: 23333 };
const seqs = ['seq0', 'seq1', 'seq2', 'seq3'];
const engs = ['eng0', 'eng1', 'eng2', 'eng3', 'eng4'];
const stos = ['sto0', 'sto1', 'sto2', 'sto3'];

describe('view plans', () => {
  const vi = deriveView(buildView(0, cfg, seqs, engs, stos));

  it('the first numPhylogs sequencers lead one log each, backups follow in ring order', () => {
    expect(vi.logs.map((l) => l.primary)).toEqual(['seq0', 'seq1']);
    expect(vi.logs[0]!.ls).toBe(logspaceId(0, 0));
    expect(vi.logs[1]!.ls).toBe(logspaceId(0, 1));
    expect(vi.logs[0]!.backups).toEqual(['seq1', 'seq2']);
    expect(vi.logs[1]!.backups).toEqual(['seq2', 'seq3']);
  });

  it("engine k's shard lives on storages[(k*R + j) mod S]", () => {
    for (let k = 0; k < engs.length; k++) {
      expect(vi.storagesOfEngine[k]).toEqual([0, 1, 2].map((j) => stos[(k * 3 + j) % 4]));
    }
    for (const [st, es] of vi.enginesOfStorage) for (const e of es) expect(vi.storagesOfEngine[e]).toContain(st);
  });

  it("the log of sequencer k is indexed by engines[(k*IR + j) mod E]", () => {
    expect(vi.logs[0]!.indexEngines).toEqual(['eng0', 'eng1', 'eng2']);
    expect(vi.logs[1]!.indexEngines).toEqual(['eng3', 'eng4', 'eng0']);
  });

  it('maps every book to an active log, the same way on every call', () => {
    for (let b = 0; b < 200; b++) {
      const l = logOfBook(vi, b);
      expect(vi.logs).toContain(l);
      expect(logOfBook(vi, b)).toBe(l);
    }
    const used = new Set(Array.from({ length: 200 }, (_, b) => logOfBook(vi, b).ls));
    expect(used.size).toBe(2);
  });
});

describe('buildView', () => {
  it('keeps the given order in view 0 and reshuffles later views deterministically', () => {
    expect(buildView(0, cfg, seqs, engs, stos).sequencers).toEqual(seqs);
    const a = buildView(3, cfg, seqs, engs, stos);
    expect(buildView(3, cfg, seqs, engs, stos)).toEqual(a);
    expect([...a.sequencers].sort()).toEqual(seqs);
    expect([...a.engines].sort()).toEqual(engs);
  });

  it('clamps replication to the nodes available and names active sequencers in tokens', () => {
    const v = buildView(1, { ...cfg, indexReplicas: 8 }, seqs, engs, stos);
    expect(v.indexReplicas).toBe(engs.length);
    const active = new Set(v.sequencers.slice(0, v.numPhylogs).map((s) => Number(s.slice(3))));
    for (const t of v.hashTokens) expect(active.has(t)).toBe(true);
    expect(v.hashTokens.length).toBe(128);
  });
});
