/**
 * Methodology: every published behaviour of spec §9.2 and every deliberate `bug-` variant is a
 * named flag that the checkers must catch on its exposing scenario (VariantDef.exposedBy) within
 * a bounded number of seeds, with the expected kind of violation, while the canonical build
 * passes those very seeds. This is what makes the checkers trustworthy: each one is seen failing
 * on a log that is broken in the way it guards against. `halfmoon variants` must list all of them.
 */
import { describe, expect, it } from 'vitest';
import { variantsCommand } from '../../app/cli/commands/variants.ts';
import { runOnce } from '../../sim/run.ts';
import { BOKI_VARIANT_DEFS } from '../../src/boki/params.ts';
import { bokiSystem } from '../../src/systems/boki.ts';

const SEEDS_MAX = 6;

/** What each variant must be caught as (any of). */
const EXPECT: Record<string, string[]> = {
  'seal-only-from-view-0': ['log-liveness'],
  'continuation-flag': ['fatal'],
  'metalog-single-replica-stall': ['log-liveness'],
  'localid-reuse-after-restart': ['fatal', 'log-total-order', 'log-read-validity', 'log-liveness'],
  'storage-restart-abort': ['fatal', 'log-liveness'],
  'finalize-no-catchup': ['fatal'],
  'finalize-ahead-by-one': ['log-metalog-agreement'],
  'manual-reconfig-only': ['log-liveness'],
  'reconfig-keeps-dead-nodes': ['log-liveness'],
  'read-no-timeout': ['log-liveness'],
  'lazy-blocking-timeout': ['log-blocking-read', 'log-read-validity'],
  'storage-lazy-unsynced': ['log-no-lost-ack', 'fatal'],
  'trim-unimplemented': ['fatal'],
  'gapped-condpos-crash': ['fatal'],
  'readprev-pending-hang': ['machine-assertion'],
  'bug-cut-skips-min': ['fatal'],
  'bug-discard-covered': ['log-discarded-invisible'],
  'bug-lost-discard': ['log-liveness'],
  'bug-seqnum-shard-order': ['log-total-order'],
  'bug-cond-ge': ['log-cond-decisions'],
  'bug-no-progress': ['log-read-your-writes'],
  'bug-backup-reorders': ['log-metalog-agreement'],
  'bug-blocking-no-wait': ['log-blocking-read-early'],
};

describe('artifact variants and deliberate bugs are caught; the canonical build passes', () => {
  it('covers every variant of the system', () => {
    expect(Object.keys(EXPECT).sort()).toEqual(BOKI_VARIANT_DEFS.map((v) => v.name).sort());
    expect(BOKI_VARIANT_DEFS.filter((v) => !v.name.startsWith('bug-'))).toHaveLength(15);
  });

  for (const v of BOKI_VARIANT_DEFS) {
    it(`${v.name} on ${v.exposedBy}`, { timeout: 120_000 }, () => {
      let caught: { seed: number; invariant: string } | null = null;
      for (let seed = 1; seed <= SEEDS_MAX && caught === null; seed++) {
        const bad = runOnce({ scenario: v.exposedBy, seed, variant: v.name });
        const good = runOnce({ scenario: v.exposedBy, seed });
        expect(good.violations, `canonical ${v.exposedBy} seed ${seed}: ${good.violations[0]?.message}`).toEqual([]);
        if (bad.violations.length > 0) caught = { seed, invariant: bad.violations[0]!.invariant };
      }
      expect(caught, `${v.name} not caught within ${SEEDS_MAX} seeds of ${v.exposedBy}`).not.toBeNull();
      expect(EXPECT[v.name]).toContain(caught!.invariant);
    });
  }

  it('halfmoon variants lists each with one line', () => {
    const lines: string[] = [];
    variantsCommand.run({ system: 'boki' }, [], { out: (l: string) => lines.push(l), err: () => {} } as never);
    for (const v of bokiSystem.variants) expect(lines.filter((l) => l.trimStart().startsWith(v.name + ' '))).toHaveLength(1);
  });
});
