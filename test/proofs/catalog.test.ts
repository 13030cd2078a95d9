/**
 * Methodology: the proof catalog is itself checked. Its fast subset (what CI runs on every change)
 * must come out exactly as expected: every canonical property proved with its pinned state count,
 * every deliberate bug refuted by an expected property. The catalog must cover every broken
 * register variant and both 2pc bugs, list the Boki log's proofs (pending, with the reason),
 * and a proof whose expectation is wrong must be reported as such (a refutation that finds nothing,
 * a proof that finds a counterexample, a pinned count that moved).
 */
import { describe, expect, it } from 'vitest';
import { catalog, type ProofDef } from '../../proofs/catalog.ts';
import { runProof } from '../../proofs/bounded.ts';
import { VARIANTS } from '../../src/register/machine.ts';
import { SYSTEMS } from '../../src/systems/index.ts';

describe('the proof catalog', () => {
  it('runs its fast subset with every outcome as expected', () => {
    const fast = catalog().filter((p) => p.fast && p.pending === undefined);
    expect(fast.length).toBeGreaterThanOrEqual(15);
    for (const p of fast) {
      const r = runProof(p).result;
      expect(r.ok, `${p.name}: ${r.outcome}: ${r.message}`).toBe(true);
      if (p.expect === 'refuted') expect(r.counterexample!.length).toBeGreaterThan(0);
    }
  });

  it('covers every register variant and both 2pc bugs, with unique names', () => {
    const names = catalog().map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const v of VARIANTS) expect(names).toContain(`register/${v.name}-refuted`);
    expect(names).toContain('2pc/commit-early-refuted');
    expect(names).toContain('2pc/abort-after-prepare-refuted');
  });

  it('lists the log proofs, one per Boki variant, pending with a reason until log-tiny can run them', () => {
    const log = catalog().filter((p) => p.group === 'log');
    expect(log.length).toBe(1 + (SYSTEMS.boki?.variants.length ?? 0));
    for (const p of log) {
      expect(p.pending).toBeTruthy();
      const r = runProof(p).result;
      expect(r.outcome).toBe('pending');
      expect(r.ok).toBe(true);
    }
  });

  it('reports wrong expectations instead of passing them', () => {
    const base: ProofDef = { name: 't', group: 't', statement: 't', checker: 't', model: '2pc', sets: [['rms', 3]], variant: null, expect: 'holds', options: { strategy: 'bfs' }, fast: true };
    expect(runProof({ ...base, expect: 'refuted' }).result.outcome).toBe('not-refuted');
    expect(runProof({ ...base, variant: 'commit-early' }).result.outcome).toBe('violated');
    expect(runProof({ ...base, states: 289 }).result.outcome).toBe('count-changed');
    expect(runProof({ ...base, variant: 'commit-early', expect: 'refuted', refutedBy: ['some other property'] }).result.outcome).toBe('violated');
    expect(runProof({ ...base, options: { strategy: 'bfs', statesMax: 10 } }).result.outcome).toBe('inconclusive');
  });
});
