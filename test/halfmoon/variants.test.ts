/**
 * Methodology: every artifact variant of Halfmoon's workflow layer (spec §10.2) reproduces a
 * published behaviour; each must be caught by the exactly-once checker under the schedule that
 * exposes it, and the canonical protocol must pass that very configuration. The failure-free
 * variants use fixed programs (two writes with no logged step between, a callee's write read by
 * its caller, ...); the fault-driven ones use wf-crash-storm or wf-duplicates. hmr-no-postwrite-skip
 * is the spec's expected non-finding: with blind writes and no GC, re-putting a version row is
 * harmless, and the test pins that it stays a non-finding (reported, not hidden).
 */
import { describe, expect, it } from 'vitest';
import { runOnce } from '../../sim/run.ts';

type Sets = [string, unknown][];
const quiet: Sets = [['requests', 1], ['concurrency', 1], ['engines', 1], ['crashProbability', 0], ['faults.random', null]];
const prog = (ops: unknown[]): Sets => [...quiet, ['programs', [ops]]];

interface Case {
  variant: string;
  protocol: string;
  scenario: string;
  sets: Sets;
  seeds: number;
  caughtBy: RegExp;
}

const cases: Case[] = [
  { variant: 'hmw-version-tie', protocol: 'hm-write', scenario: 'wf-storm-ref', sets: prog([{ w: 'k0', v: 'a' }, { w: 'k0', v: 'b' }]), seeds: 1, caughtBy: /^C1/ },
  { variant: 'hmr-caller-misses-callee-writes', protocol: 'hm-read', scenario: 'wf-storm-ref', sets: prog([{ call: [{ w: 'k0', v: 'a' }] }, { r: 'k0' }]), seeds: 1, caughtBy: /^C6/ },
  { variant: 'hmw-caller-write-dropped', protocol: 'hm-write', scenario: 'wf-storm-ref', sets: prog([{ call: [{ w: 'k0', v: 'a' }] }, { w: 'k0', v: 'b' }]), seeds: 1, caughtBy: /^C1/ },
  { variant: 'keytag-xor-symmetric', protocol: 'hm-read', scenario: 'wf-storm-ref', sets: prog([{ w: 'b', v: 'x', t: 'a' }, { r: 'a', t: 'b' }]), seeds: 1, caughtBy: /^C4|^C6/ },
  {
    variant: 'version-float64',
    protocol: 'hm-write',
    scenario: 'wf-storm-ref',
    sets: [...prog([{ r: 'k0' }, { w: 'k0', v: 'a' }, { r: 'k1' }, { w: 'k0', v: 'b' }]), ['seqBase', '1152921504606846976']],
    seeds: 1,
    caughtBy: /^C1/,
  },
  { variant: 'eventual-store-reads', protocol: 'hm-write', scenario: 'wf-storm-ref', sets: [['crashProbability', 0], ['faults.random', null], ['storeGetUs', 100], ['storePutUs', 100]], seeds: 3, caughtBy: /^C6/ },
  { variant: 'step-hash-collision-fatal', protocol: 'hm-write', scenario: 'wf-storm-ref', sets: [['crashProbability', 0], ['faults.random', null]], seeds: 2, caughtBy: /^C4/ },
  { variant: 'invoke-result-unwrapped', protocol: 'hm-write', scenario: 'wf-storm-ref', sets: [], seeds: 3, caughtBy: /^C4|^liveness/ },
  { variant: 'advisory-exit', protocol: 'hm-write', scenario: 'wf-duplicates', sets: [['crashProbability', 0]], seeds: 2, caughtBy: /^C1|^C2|^C3/ },
  { variant: 'done-plain-append', protocol: 'hm-write', scenario: 'wf-duplicates', sets: [['crashProbability', 0]], seeds: 2, caughtBy: /^C4|^P2/ },
  { variant: 'random-top-level-id', protocol: 'hm-write', scenario: 'wf-storm-ref', sets: [], seeds: 3, caughtBy: /^C\d|^P2/ },
  { variant: 'postread-untyped', protocol: 'hm-write', scenario: 'wf-storm-ref', sets: [], seeds: 3, caughtBy: /^C4|^liveness/ },
];

describe.each(cases)('$variant', (c) => {
  it(`is caught under ${c.scenario} with ${c.protocol}, which the canonical protocol passes`, () => {
    const caught: string[] = [];
    for (let seed = 1; seed <= c.seeds; seed++) {
      const canonical = runOnce({ scenario: c.scenario, seed, sets: [['protocol', c.protocol], ...c.sets] });
      expect(canonical.violations.map((v) => `${v.invariant}: ${v.message}`)).toEqual([]);
      const broken = runOnce({ scenario: c.scenario, seed, variant: c.variant, sets: [['protocol', c.protocol], ...c.sets] });
      caught.push(...broken.violations.map((v) => v.invariant));
    }
    expect(caught.length, 'the variant escaped').toBeGreaterThan(0);
    expect(caught.some((k) => c.caughtBy.test(k)), `caught only by ${[...new Set(caught)].join(', ')}`).toBe(true);
  });
});

it('hmr-no-postwrite-skip is an expected non-finding without GC (reported, not hidden)', () => {
  for (let seed = 1; seed <= 3; seed++) {
    const r = runOnce({ scenario: 'wf-storm-ref', seed, variant: 'hmr-no-postwrite-skip', sets: [['protocol', 'hm-read']] });
    expect(r.violations).toEqual([]);
  }
});
