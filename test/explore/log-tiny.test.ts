/**
 * Methodology: log-tiny (the Boki log under the explorer) is checked along hand-forced schedules,
 * for what the catalog's guided searches cannot show alone. A walk takes seeded random non-fault
 * actions, except that right after a chosen action it crashes a chosen node (losing every unsynced
 * write) and restarts it a few steps later, or never. Along the same schedule the variant must
 * fail with the property that names its bug and the canonical log must not: storage-restart-abort,
 * storage-lazy-unsynced and bug-discard-covered are reachable on log-tiny, and their catalog
 * entries are non-findings of the search (the walks spend their one crash in the first steps),
 * not configurations that cannot express them. Without faults the scripted workload completes,
 * and the run ends there.
 */
import { describe, expect, it } from 'vitest';
import { buildModel, type Sets } from '../../sim/explore/registry.ts';

interface Forced {
  /** The always-property that failed along the walk, with its message, or null. */
  readonly violation: string | null;
  /** The final properties' verdicts where the walk ended. */
  readonly finals: Readonly<Record<string, string | null>>;
  /** Did the walk end in a terminal state (the workload done)? */
  readonly terminal: boolean;
}

const STEPS_MAX = 3000;

function forced(sets: Sets, variant: string | null, trigger: RegExp | null, node: string, restartAfter: number | null, seed = 1): Forced {
  // The explorer's model interface, untyped: worlds and actions are opaque here.
  const m = buildModel('log-tiny', sets, variant) as any;
  let x = seed;
  const rnd = () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x80000000;
  };
  let s = m.initStates()[0];
  let crashedAt = -1;
  let restarted = false;
  let i = 0;
  for (; i < STEPS_MAX && s.violation === null; i++) {
    const acts: unknown[] = [];
    m.actions(s, acts);
    if (acts.length === 0) break;
    let a: unknown = undefined;
    if (crashedAt >= 0 && !restarted && restartAfter !== null && i - crashedAt >= restartAfter) {
      a = acts.find((y) => m.describeAction(y, s) === `restart ${node}`);
      restarted = a !== undefined;
    }
    if (a === undefined) {
      const plain = acts.filter((y) => !m.isFault(y));
      a = plain[Math.floor(rnd() * plain.length)];
    }
    const what: string = m.describeAction(a, s);
    const t = m.next(s, a, null);
    if (t === null) continue;
    s = t;
    if (crashedAt < 0 && trigger !== null && trigger.test(what) && s.violation === null) {
      const crashes: unknown[] = [];
      m.actions(s, crashes);
      // The last crash action of the node keeps none of its unsynced writes.
      const c = crashes.filter((y) => m.describeAction(y, s).startsWith(`crash ${node}`)).at(-1);
      if (c !== undefined) {
        s = m.next(s, c, null);
        crashedAt = i;
      }
    }
  }
  const acts: unknown[] = [];
  m.actions(s, acts);
  const terminal = acts.length === 0 && s.violation === null;
  const finals: Record<string, string | null> = {};
  for (const p of m.properties) if (p.kind === 'final') finals[p.name] = p.check(s, !terminal);
  return { violation: s.violation === null ? null : `${s.violation.invariant}: ${s.violation.message}`, finals, terminal };
}

const TIMED: Sets = [['timeStepUs', 1], ['spareSequencers', 1]];

describe('log-tiny along forced schedules', () => {
  it('completes the scripted workload without faults, and the run ends there', () => {
    const r = forced([['crashes', 0], ['restarts', 0]], null, null, '', null);
    expect(r.violation).toBeNull();
    expect(r.terminal).toBe(true);
    expect(Object.values(r.finals).every((v) => v === null)).toBe(true);
  });

  it('storage-restart-abort: a storage node restarts between reporting a record and applying the cut', () => {
    const at = /^deliver shardProg sto0->seq0/;
    expect(forced([], 'storage-restart-abort', at, 'sto0', 1).violation).toMatch(/^fatal: .*covers localid .* which this storage lacks/);
    const canonical = forced([], null, at, 'sto0', 1);
    expect(canonical.violation).toBeNull();
    expect(canonical.terminal).toBe(true);
  });

  it('storage-lazy-unsynced: the only storage node crashes after ordering, before it syncs', () => {
    const sets: Sets = [['storages', 1], ['userlogReplicas', 1]];
    const at = /^deliver metaLogs seq0->sto0/;
    expect(forced(sets, 'storage-lazy-unsynced', at, 'sto0', 3).finals['log-history']).toMatch(/log-no-lost-ack/);
    const canonical = forced(sets, null, at, 'sto0', 3);
    expect(canonical.violation).toBeNull();
    expect(canonical.finals['log-history']).toBeNull();
  });

  it('bug-discard-covered: the primary crashes after replicating its first cut, before the acknowledgement (timed: the view changes)', () => {
    const at = /^deliver metaLogs seq0->seq1/;
    expect(forced(TIMED, 'bug-discard-covered', at, 'seq0', null).finals['log-history']).toMatch(/log-discarded-invisible/);
    const canonical = forced(TIMED, null, at, 'seq0', null);
    expect(canonical.violation).toBeNull();
    expect(canonical.terminal).toBe(true);
    expect(Object.values(canonical.finals).every((v) => v === null)).toBe(true);
  });
});
