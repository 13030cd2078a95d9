/**
 * Methodology: shrinking is checked on a seeded bug. A register-chaos run (every fault kind, a
 * long workload) of the ack-before-sync variant violates the timestamp invariant; `halfmoon
 * shrink` must produce a run with strictly fewer faults and fewer events, written as a trace that
 * `halfmoon replay` reproduces with the same trace hash and the same violation. The shrinker is
 * also checked to refuse a run that does not fail, and `sweep --shrink` to write one replayable
 * shrunk trace per failing seed.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../app/cli/cli.ts';
import { replayFile } from '../../sim/replay.ts';
import { runOnce } from '../../sim/run.ts';
import { resolveScenario } from '../../src/scenario/instance.ts';
import { faultCount, shrink } from '../../sim/shrink.ts';

const tmp = mkdtempSync(join(tmpdir(), 'hm-shrink-'));

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), progress: null });
  return { code, out, err };
}

describe('shrinking simulator failures', () => {
  it('shrinks a failing register-chaos run of a broken variant into a smaller run that replays', async () => {
    const original = join(tmp, 'chaos.jsonl');
    const r = runOnce({ scenario: 'register-chaos', seed: 3, variant: 'ack-before-sync', tracePath: original });
    expect(r.violations[0]!.invariant).toBe('replica-timestamp-monotonic');
    const small = join(tmp, 'chaos.small.jsonl');
    const s = await cli('shrink', original, '--out', small, '--runs', '400', '--json');
    expect(s.code).toBe(0);
    const j = JSON.parse(s.out[0]!);
    expect(j.invariant).toBe('replica-timestamp-monotonic');
    expect(j.original.faults).toBe(faultCount(r));
    expect(j.original.events).toBe(r.events);
    expect(j.shrunk.faults).toBeLessThan(j.original.faults);
    expect(j.shrunk.events).toBeLessThan(j.original.events);
    const rep = await replayFile(small);
    expect(rep.matches).toBe(true);
    expect(rep.divergence).toBeNull();
    expect(rep.result.violations[0]!.invariant).toBe('replica-timestamp-monotonic');
    expect(rep.result.events).toBe(j.shrunk.events);
    // The written trace is a whole trace: the shrunk scenario in its header, the log in its end.
    const lines = readFileSync(small, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].scenario.variant).toBe('ack-before-sync');
    expect(lines.at(-1).decisions.entries.length).toBeGreaterThan(0);
  });

  it('refuses to shrink a run that does not fail', () => {
    const scenario = resolveScenario({ scenario: 'register-smoke', sets: [], variant: null });
    expect(() => shrink({ scenario, seed: 1, log: null, invariant: 'linearizability', runsMax: 10 })).toThrow(/does not reproduce/);
  });

  it('sweep --shrink writes a shrunk, replayable trace per failing seed', async () => {
    const dir = join(tmp, 'sweep');
    const r = await cli('sweep', '--scenario', 'register-crash', '--variant', 'ack-before-sync', '--seeds', '1..2', '--shrink', '--shrink-dir', dir, '--shrink-runs', '100', '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out[0]!);
    expect(j.shrunk.length).toBe(j.failingSeeds.length);
    expect(readdirSync(dir).sort()).toEqual(j.failingSeeds.map((s: number) => `shrunk-seed-${s}.jsonl`).sort());
    for (const x of j.shrunk) {
      expect(x.shrunk.events).toBeLessThanOrEqual(x.original.events);
      expect((await replayFile(x.trace)).matches).toBe(true);
    }
  });
});
