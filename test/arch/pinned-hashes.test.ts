/**
 * Trace hashes and state counts pinned across the layering move (issue 13) and every refactor
 * after it: a move must not change behaviour, and these runs cover the log under every fault
 * kind, the workflow protocols, the register and the explorer through both kinds of model.
 * A deliberate change of the event order updates a value here with the reason in its commit.
 */
import { describe, expect, it } from 'vitest';
import { runOnce } from '../../sim/run.ts';
import { explore } from '../../sim/explore/index.ts';
import { buildModel } from '../../sim/explore/registry.ts';

const RUNS: readonly { scenario: string; seed: number; sets?: [string, unknown][]; variant?: string; hash: string; events: number }[] = [
  { scenario: 'log-smoke', seed: 1, hash: 'fa0df30e8f94474b', events: 39_400 },
  { scenario: 'log-smoke', seed: 1, sets: [['publishedIndexFeed', false]], hash: 'b18694e23e0eb227', events: 23_241 },
  { scenario: 'log-storage-crash', seed: 1, hash: 'ae470d4201c27010', events: 78_249 },
  { scenario: 'log-storage-crash', seed: 1, sets: [['publishedIndexFeed', false]], hash: '96ccd2beaadfbb79', events: 45_418 },
  { scenario: 'log-chaos', seed: 275, hash: 'c34817d89af9b16a', events: 75_097 },
  { scenario: 'log-chaos', seed: 275, sets: [['publishedIndexFeed', false]], hash: '6bf8675320196f32', events: 67_609 },
  { scenario: 'wf-crash-storm', seed: 299, hash: '7dfed93dfb868656', events: 17_409 },
  { scenario: 'wf-demo', seed: 1, sets: [['protocol', 'boki']], hash: '8ee131418bf891e7', events: 110_081 },
  { scenario: 'wf-demo', seed: 1, sets: [['protocol', 'hm-read']], hash: '22e5c828dc2c0319', events: 84_615 },
  { scenario: 'wf-demo', seed: 1, sets: [['protocol', 'hm-write']], hash: 'e1fa54ce427a8674', events: 53_419 },
  { scenario: 'wf-demo', seed: 1, sets: [['protocol', 'unsafe']], hash: '5ab5e2cb9e1346ca', events: 22_273 },
  { scenario: 'register-partition', seed: 4, variant: 'read-one', hash: 'b977f6001aa26eec', events: 2_285 },
];

describe('pinned trace hashes', () => {
  for (const r of RUNS) {
    const label = `${r.scenario} seed ${r.seed}${r.sets ? ` ${r.sets.map(([k, v]) => `${k}=${String(v)}`).join(' ')}` : ''}${r.variant ? ` --variant ${r.variant}` : ''}`;
    it(label, () => {
      const res = runOnce({ scenario: r.scenario, seed: r.seed, sets: r.sets ?? [], variant: r.variant ?? null });
      expect({ hash: res.traceHash, events: res.events }).toEqual({ hash: r.hash, events: r.events });
    }, 60_000);
  }
});

describe('pinned state counts', () => {
  it('2pc rms=5: 8,832 states (bfs)', () => {
    const r = explore(buildModel('2pc', [['rms', 5]], null), { strategy: 'bfs' });
    expect([r.uniqueStates, r.complete]).toEqual([8_832, true]);
  });
  it('wf-tiny hm-read: bfs to depth 10 and 20,000 coverage-guided steps', () => {
    const bfs = explore(buildModel('wf-tiny', [['protocol', 'hm-read']], null), { strategy: 'bfs', depthMax: 10 });
    const cov = explore(buildModel('wf-tiny', [['protocol', 'hm-read']], null), { strategy: 'coverage', statesMax: 20_000, seed: 1 });
    expect({ bfs: bfs.uniqueStates, coverage: cov.uniqueStates }).toEqual({ bfs: 1_041, coverage: 19_701 });
  }, 60_000);
});
