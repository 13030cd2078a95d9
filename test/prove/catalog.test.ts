/**
 * Methodology: the proof catalog is itself checked. Its fast subset (what CI runs on every change)
 * must come out exactly as expected: every canonical property proved with its pinned state count,
 * every deliberate bug refuted by an expected property. The catalog must cover every broken
 * register variant and both 2pc bugs, give every Boki variant a log proof or an exclusion with its
 * reason (and run the log group's fast proofs),
 * and a proof whose expectation is wrong must be reported as such (a refutation that finds nothing,
 * a proof that finds a counterexample, a pinned count that moved).
 */
import { describe, expect, it } from 'vitest';
import { catalog, LOG_NOT_EXPECTED, type ProofDef } from '../../app/prove/catalog.ts';
import { runProof } from '../../app/prove/bounded.ts';
import { VARIANTS } from '../../src/register/machine.ts';
import { SYSTEMS } from '../../src/systems/index.ts';

describe('the proof catalog', () => {
  it('runs its fast subset with every outcome as expected', () => {
    // The log group's fast proofs run in their own test below.
    const fast = catalog().filter((p) => p.fast && p.pending === undefined && p.group !== 'log');
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

  it('runs the log group: every Boki variant is a proof or an exclusion with a reason, and the fast log proofs come out as expected', () => {
    const log = catalog().filter((p) => p.group === 'log');
    const variants = (SYSTEMS.boki?.variants ?? []).map((v) => v.name);
    expect(variants.length).toBeGreaterThan(0);
    const canonical = log.find((p) => p.name === 'log/invariants-one-crash');
    expect(canonical?.expect).toBe('survives');
    expect(canonical?.variant).toBeNull();
    for (const v of variants) {
      const proofs = log.filter((p) => p.variant === v);
      const why = LOG_NOT_EXPECTED[v];
      // Exactly one of the two: a refutation, or an exclusion that says why.
      expect(proofs.length + (why === undefined ? 0 : 1), v).toBe(1);
      if (why !== undefined) expect(why.length, v).toBeGreaterThan(20);
      else expect(proofs[0]!.expect, v).toBe('refuted');
    }
    for (const k of Object.keys(LOG_NOT_EXPECTED)) expect(variants).toContain(k);
    for (const p of log) expect(p.pending, p.name).toBeUndefined();
    // Refutations without a known issue name the property and message that must catch them.
    for (const p of log.filter((x) => x.expect === 'refuted' && x.knownIssue === undefined)) expect(p.refutedBy?.length, p.name).toBeGreaterThan(0);
    const fast = log.filter((p) => p.fast);
    expect(fast.length).toBeGreaterThanOrEqual(2);
    for (const p of fast) {
      const r = runProof(p).result;
      expect(r.ok, `${p.name}: ${r.outcome}: ${r.message}`).toBe(true);
      expect(r.outcome).toBe(p.expect === 'refuted' ? 'refuted' : p.expect === 'holds' ? 'proved' : 'survived');
      if (p.expect === 'refuted') {
        expect(p.refutedBy).toContain(r.property);
        expect(r.counterexample!.length).toBeGreaterThan(0);
      }
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
