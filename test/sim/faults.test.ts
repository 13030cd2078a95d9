/**
 * Methodology: for every fault kind the simulator offers, one scenario injects it. Over a few
 * seeds we show (1) the fault happened, by its count in the run's report, (2) the canonical
 * register keeps every invariant under it, and (3) a deliberately broken variant of the register
 * that the fault exposes is caught by the register's invariants or checkers on at least one seed.
 * The same seeds are used for both, so the difference is the protocol, not the schedule.
 */
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../src/core/contract.ts';
import { setTimer } from '../../src/core/contract.ts';
import type { DecisionLog } from '../../sim/decisions.ts';
import { runOnce } from '../../sim/run.ts';
import { parseScenario } from '../../src/scenario/scenario.ts';
import { Simulator } from '../../sim/simulator.ts';

interface Case {
  fault: string;
  scenario: string;
  counted: string[];
  variant: string;
  caughtBy: string[];
  sets?: [string, unknown][];
  seeds: number;
}

const cases: Case[] = [
  { fault: 'drop', scenario: 'register-drop', counted: ['drop'], variant: 'no-retransmit', caughtBy: ['liveness'], seeds: 5 },
  { fault: 'duplicate', scenario: 'register-duplicate', counted: ['duplicate'], variant: 'count-acks', caughtBy: ['linearizability'], seeds: 15 },
  { fault: 'reorder', scenario: 'register-reorder', counted: ['reorder'], variant: 'no-ts-compare', caughtBy: ['replica-timestamp-monotonic', 'linearizability'], seeds: 5 },
  { fault: 'delay', scenario: 'register-delay', counted: ['delay', 'linkFault'], variant: 'expire-old-puts', caughtBy: ['linearizability'], seeds: 12 },
  { fault: 'partition (symmetric, asymmetric, one-way)', scenario: 'register-partition', counted: ['partition', 'partitioned', 'heal'], variant: 'read-one', caughtBy: ['linearizability'], seeds: 12 },
  { fault: 'crash with unsynced loss', scenario: 'register-crash', counted: ['crash', 'unsyncedLoss'], variant: 'ack-before-sync', caughtBy: ['replica-timestamp-monotonic', 'linearizability'], seeds: 5 },
  { fault: 'restart', scenario: 'register-restart', counted: ['crash', 'restart'], variant: 'volatile-state', caughtBy: ['replica-timestamp-monotonic', 'linearizability'], seeds: 5 },
  { fault: 'pause', scenario: 'register-pause', counted: ['pause', 'resume'], variant: 'timeout-commit', caughtBy: ['linearizability'], seeds: 5 },
  { fault: 'clock skew', scenario: 'register-clock-skew', counted: ['clockSkew'], variant: 'wallclock-ts', caughtBy: ['linearizability'], seeds: 5 },
  { fault: 'clock drift', scenario: 'register-clock-drift', counted: ['clockDrift'], variant: 'wallclock-ts', caughtBy: ['linearizability'], seeds: 5 },
];

describe.each(cases)('fault: $fault', (c) => {
  it(`happens, and the canonical register holds over ${c.seeds} seeds`, () => {
    for (let seed = 1; seed <= c.seeds; seed++) {
      const r = runOnce({ scenario: c.scenario, seed, sets: c.sets ?? [] });
      expect(r.violations, `seed ${seed}: ${JSON.stringify(r.violations[0])}`).toEqual([]);
      for (const k of c.counted) {
        // unsyncedLoss is probabilistic per write; over the seeds it must happen at least once.
        if (k === 'unsyncedLoss') continue;
        expect(r.faults[k] ?? 0, `seed ${seed}: fault count ${k}`).toBeGreaterThan(0);
      }
      expect(r.outcome).toBe('done');
    }
  });
  it(`catches the ${c.variant} variant on the same seeds`, () => {
    const caught: string[] = [];
    let unsynced = 0;
    for (let seed = 1; seed <= c.seeds; seed++) {
      const r = runOnce({ scenario: c.scenario, seed, variant: c.variant, sets: c.sets ?? [] });
      unsynced += r.faults.unsyncedLoss ?? 0;
      caught.push(...r.violations.map((v) => v.invariant));
    }
    expect(caught.length).toBeGreaterThan(0);
    expect(caught.every((k) => c.caughtBy.includes(k)), `caught by ${[...new Set(caught)].join(', ')}`).toBe(true);
    if (c.counted.includes('unsyncedLoss')) expect(unsynced).toBeGreaterThan(0);
  });
});

describe('partition modes', () => {
  it.each(['symmetric', 'asymmetric', 'one-way'] as const)('%s partitions block the links they name', (mode) => {
    const groups = mode === 'one-way' ? { from: ['r0', 'r1'], to: ['c0', 'c1', 'c2'] } : { groups: [['r0', 'c0']] };
    const r = runOnce({
      scenario: 'register-smoke',
      seed: 1,
      sets: [
        ['opsPerClient', 30],
        ['thinkUsMax', 5000],
        ['faults.scripted', [{ atUs: 2000, kind: 'partition', mode, ...groups, durationUs: 50_000 }]],
      ],
    });
    expect(r.faults.partition).toBe(1);
    expect(r.faults.heal).toBe(1);
    expect(r.faults.partitioned ?? 0).toBeGreaterThan(0);
    expect(r.violations).toEqual([]);
  });
});

describe('ctx.maybe', () => {
  // A node that asks ctx.maybe on every tick and records its answers: BUGGIFY's contract.
  const buggy: Machine<null, { yes: number; no: number }> = {
    role: 'buggy',
    init: () => ({ yes: 0, no: 0 }),
    recover: () => ({ yes: 0, no: 0 }),
    step(s, input, ctx) {
      if (input.type !== 'timer' && input.type !== 'start') return { state: s, effects: [] };
      if (ctx.maybe('rare-path', 0.25)) s.yes++;
      else s.no++;
      return { state: s, effects: s.yes + s.no < 400 ? [setTimer('tick', 10)] : [] };
    },
  };
  const scenario = parseScenario({ name: 'maybe', description: 'maybe', system: 'none' }, 'test');
  const run = (replay?: DecisionLog) => {
    const sim = new Simulator({ scenario, instance: { nodes: [{ id: 'b', role: 'buggy', machine: buggy, config: null }], invariants: [], checkers: [] }, seed: 3, recordDecisions: true, ...(replay ? { replay } : {}) });
    const r = sim.run();
    return { r, log: sim.decisions.recorded()!, state: sim.state('b') as { yes: number; no: number } };
  };

  it('takes the rare path at its probability, records every answer, and replays them', () => {
    const a = run();
    expect(a.state.yes + a.state.no).toBe(400);
    expect(a.state.yes).toBeGreaterThan(60);
    expect(a.state.yes).toBeLessThan(140);
    expect(a.log.labels).toContain('b:maybe:rare-path');
    expect(a.log.entries.length / 2).toBe(400);
    const b = run(a.log);
    expect(b.r.traceHash).toBe(a.r.traceHash);
    // Zeroing every choice is "the simplest run": the rare path is never taken.
    const zeroed = run({ labels: a.log.labels, entries: a.log.entries.map((v, i) => (i % 2 === 1 ? 0 : v)) });
    expect(zeroed.state.yes).toBe(0);
    expect(zeroed.r.traceHash).not.toBe(a.r.traceHash);
  });
});
