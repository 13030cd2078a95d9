/**
 * Methodology: determinism at scale, CI subset. `unseed` runs each seed in worker threads of this
 * process and again in worker threads of a second process (in reverse order) and compares trace
 * hashes; a few seeds over scenarios of every system must agree. The detector is shown to work
 * by making the second side differ on purpose (one parameter changed there only): the mismatch
 * is reported with the first diverging event and the replay's verdict. The full figure (10,000
 * seeds) is a long run, not a test.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../../app/cli/cli.ts';
import { unseed } from '../../app/cli/commands/unseed.ts';

describe('unseed', () => {
  it('a few seeds over several scenarios agree across processes and worker threads', async () => {
    const r = await unseed({ scenarios: ['register-smoke', 'register-chaos', 'log-smoke'], range: { from: 1, to: 2 }, workers: 2, sets: [], variant: null });
    expect(r.doubleRuns).toBe(6);
    expect(r.scenarios.map((s) => s.mismatches)).toEqual([0, 0, 0]);
    expect(r.mismatches).toEqual([]);
  });

  it('a side that differs is caught, with the first diverging event', async () => {
    const r = await unseed({ scenarios: ['register-smoke'], range: { from: 3, to: 3 }, workers: 2, sets: [], variant: null, sideBSets: [['opsPerClient', 19]] });
    expect(r.mismatches).toHaveLength(1);
    const m = r.mismatches[0]!;
    expect(m.seed).toBe(3);
    expect(m.hashA).not.toBe(m.hashB);
    expect(m.firstDivergingEvent).not.toBeNull();
    expect(m.firstDivergingEvent!.index).toBeGreaterThan(0);
    expect(m.replay).toMatch(/replays here to/);
  });

  it('bad input exits 2 with one line', async () => {
    const err: string[] = [];
    const code = await main(['unseed', '--seeds', '5..1'], { out: () => {}, err: (s) => err.push(s), progress: null });
    expect(code).toBe(2);
    expect(err).toEqual(['halfmoon unseed: --seeds: the range 5..1 is empty (5 > 1)']);
  });
});
